import type { FastifyPluginAsync } from 'fastify';
import { CpError } from '../errors.js';
import type { DeviceRecord } from '../storage/store.js';
import { actorOf } from './api-context.js';
import { DEVICE_ID, DEVICE_PARAMS, errors } from './schemas.js';

/**
 * Devices: enrolment (admin; POST returns the MQTT/gRPC password once; only its salted hash is stored and
 * nothing here logs a body), listing and one device's record (viewer). Credential hashes never leave the
 * store.
 */

const DEVICE = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    enrolled: { type: 'boolean' },
    enrolledAt: { type: 'string', format: 'date-time', nullable: true },
    lastSeen: { type: 'string', format: 'date-time', nullable: true },
    online: { type: 'boolean' },
    agentVersion: { type: 'string', nullable: true },
    hardware: { type: 'string', nullable: true },
    providers: { type: 'array', items: { type: 'string' } },
    status: { nullable: true, description: 'Last DeviceStatus report (JSON).' },
    metrics: { nullable: true, description: 'Last DeviceMetrics report (JSON).' },
  },
} as const;

function view(d: DeviceRecord): Record<string, unknown> {
  return {
    id: d.id,
    enrolled: d.enrolled,
    enrolledAt: d.enrolledAt === null ? null : new Date(d.enrolledAt).toISOString(),
    lastSeen: d.lastSeen === null ? null : new Date(d.lastSeen).toISOString(),
    online: d.online,
    agentVersion: d.agentVersion,
    hardware: d.hardware,
    providers: d.providers,
    status: d.status,
    metrics: d.metrics,
  };
}

export const devicesRoutes: FastifyPluginAsync = async (app) => {
  app.post<{ Body: { deviceId: string; rotate?: boolean } }>(
    '/api/v1/devices',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['devices'],
        summary: 'Enrol a device (or rotate its password)',
        description:
          "Answers the device's credentials once: user name = device id and a random password, for MQTT and for gRPC (Basic). Only a salted hash is stored.",
        body: {
          type: 'object',
          required: ['deviceId'],
          additionalProperties: false,
          properties: {
            deviceId: DEVICE_ID,
            rotate: { type: 'boolean', description: 'Replace the password of an enrolled device.' },
          },
        },
        response: {
          201: {
            type: 'object',
            properties: {
              deviceId: { type: 'string' },
              username: { type: 'string' },
              password: { type: 'string' },
              clientId: { type: 'string' },
              mqtt: {
                type: 'object',
                properties: { mode: { type: 'string' }, port: { type: 'integer', nullable: true } },
              },
            },
          },
          ...errors(409),
        },
      },
    },
    async (request, reply) => {
      if (!app.cp.enrolmentEnabled) throw new CpError('CP_ERR_ENROLMENT_DISABLED');
      const rotate = request.body.rotate === true;
      const enrolled = await app.cp.credentials.enrol(request.body.deviceId, { rotate });
      await app.cp.store.registry.appendAudit({
        actor: actorOf(request.principal),
        action: rotate ? 'device.rotate' : 'device.enrol',
        target: `device:${enrolled.deviceId}`,
      });
      const broker = app.cp.broker();
      return reply.status(201).send({
        deviceId: enrolled.deviceId,
        username: enrolled.username,
        password: enrolled.password,
        clientId: `edge-${enrolled.deviceId}`,
        mqtt: { mode: broker.mode, port: broker.port },
      });
    },
  );

  app.get(
    '/api/v1/devices',
    {
      schema: {
        tags: ['devices'],
        summary: 'Every device',
        response: { 200: { type: 'object', properties: { devices: { type: 'array', items: DEVICE } } }, ...errors() },
      },
    },
    async () => ({ devices: (await app.cp.store.listDevices()).map(view) }),
  );

  app.get<{ Params: { device: string } }>(
    '/api/v1/devices/:device',
    {
      schema: {
        tags: ['devices'],
        summary: 'One device',
        params: DEVICE_PARAMS,
        response: { 200: DEVICE, ...errors(404) },
      },
    },
    async (request) => {
      const device = await app.cp.store.getDevice(request.params.device);
      if (!device) throw new CpError('CP_ERR_DEVICE_NOT_FOUND', request.params.device);
      return view(device);
    },
  );
};
