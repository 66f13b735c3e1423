import type { FastifyPluginAsync } from 'fastify';
import { CpError } from '../errors.js';
import type { ModelStatusRow } from '../storage/registry-store.js';
import { CAMERA_ID, DEVICE_PARAMS, errors } from './schemas.js';

/** What agents reported about their models (gRPC ReportModelStatus): the latest per camera and arm, and the recent history. */

const STATUS = {
  type: 'object',
  properties: {
    cameraId: { type: 'string' },
    arm: { type: 'string' },
    sha256: { type: 'string' },
    modelId: { type: 'string' },
    version: { type: 'string' },
    state: {
      type: 'string',
      description: 'received | downloading | verifying | warming | active | failed | rolled_back',
    },
    reason: { type: 'string' },
    revision: { type: 'integer' },
    rolledBackTo: { type: 'string' },
    bytesDone: { type: 'integer' },
    reportedAt: { type: 'string', format: 'date-time' },
    receivedAt: { type: 'string', format: 'date-time' },
  },
} as const;

function view(s: ModelStatusRow): Record<string, unknown> {
  return { ...s, reportedAt: new Date(s.reportedAt).toISOString(), receivedAt: new Date(s.receivedAt).toISOString() };
}

export const modelStatusRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/api/v1/model-status',
    {
      schema: {
        tags: ['model status'],
        summary: 'The latest model status of every camera and arm in the fleet',
        response: {
          200: {
            type: 'object',
            properties: {
              latest: {
                type: 'array',
                items: { ...STATUS, properties: { deviceId: { type: 'string' }, ...STATUS.properties } },
              },
            },
          },
          ...errors(),
        },
      },
    },
    async () => ({ latest: (await app.cp.store.registry.latestModelStatus(null)).map(view) }),
  );

  app.get<{ Params: { device: string }; Querystring: { camera?: string; historyLimit: number } }>(
    '/api/v1/devices/:device/model-status',
    {
      schema: {
        tags: ['model status'],
        summary: "A device's model status: latest per camera and arm, and the most recent reports",
        params: DEVICE_PARAMS,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { camera: CAMERA_ID, historyLimit: { type: 'integer', minimum: 0, maximum: 1000, default: 50 } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              deviceId: { type: 'string' },
              latest: { type: 'array', items: STATUS },
              history: { type: 'array', items: STATUS },
            },
          },
          ...errors(404),
        },
      },
    },
    async (request) => {
      const { device } = request.params;
      const { camera, historyLimit } = request.query;
      const registry = app.cp.store.registry;
      if (!(await registry.deviceExists(device))) throw new CpError('CP_ERR_DEVICE_NOT_FOUND', device);
      const [latest, history] = await Promise.all([
        registry.latestModelStatus(device, camera),
        historyLimit === 0 ? Promise.resolve([]) : registry.modelStatusHistory(device, historyLimit, camera),
      ]);
      return { deviceId: device, latest: latest.map(view), history: history.map(view) };
    },
  );
};
