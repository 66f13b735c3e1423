import type { FastifyPluginAsync } from 'fastify';
import { CpError } from '../errors.js';
import type { CameraRecord } from '../storage/registry-store.js';
import { DEVICE_ID, DEVICE_PARAMS, errors } from './schemas.js';

/** Cameras as agents report them (WatchAssignments, status) or as provisioned by an assignment. */

const CAMERA = {
  type: 'object',
  properties: {
    deviceId: { type: 'string' },
    cameraId: { type: 'string' },
    source: { type: 'string', description: 'Source kind and redacted URI as the agent reports it.' },
    status: { type: 'string', nullable: true, description: 'running | reconnecting | failed | stopped | provisioned' },
    lastError: { type: 'string', nullable: true },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const LIST = { type: 'object', properties: { cameras: { type: 'array', items: CAMERA } } } as const;

function view(c: CameraRecord): Record<string, unknown> {
  return { ...c, updatedAt: new Date(c.updatedAt).toISOString() };
}

export const camerasRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Querystring: { device?: string } }>(
    '/api/v1/cameras',
    {
      schema: {
        tags: ['cameras'],
        summary: 'Every camera (optionally of one device)',
        querystring: { type: 'object', additionalProperties: false, properties: { device: DEVICE_ID } },
        response: { 200: LIST, ...errors() },
      },
    },
    async (request) => ({ cameras: (await app.cp.store.registry.listCameras(request.query.device)).map(view) }),
  );

  app.get<{ Params: { device: string } }>(
    '/api/v1/devices/:device/cameras',
    {
      schema: {
        tags: ['cameras'],
        summary: "One device's cameras",
        params: DEVICE_PARAMS,
        response: { 200: LIST, ...errors(404) },
      },
    },
    async (request) => {
      if (!(await app.cp.store.registry.deviceExists(request.params.device)))
        throw new CpError('CP_ERR_DEVICE_NOT_FOUND', request.params.device);
      return { cameras: (await app.cp.store.registry.listCameras(request.params.device)).map(view) };
    },
  );
};
