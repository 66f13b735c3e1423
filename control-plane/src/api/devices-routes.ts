import type { FastifyPluginAsync } from 'fastify';
import { CpError } from '../errors.js';
import type { DeviceRecord } from '../storage/store.js';

/**
 * Devices: enrolment (POST returns the MQTT password once; only its scrypt hash is stored and nothing
 * here logs a body), listing and one device's record. Credential hashes never leave the store.
 */

const deviceIdSchema = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' } as const;

function view(d: DeviceRecord): Record<string, unknown> {
  return {
    id: d.id,
    enrolled: d.enrolled,
    enrolledAt: d.enrolledAt === null ? null : new Date(d.enrolledAt).toISOString(),
    lastSeen: d.lastSeen === null ? null : new Date(d.lastSeen).toISOString(),
    online: d.online,
    status: d.status,
    metrics: d.metrics,
  };
}

export const devicesRoutes: FastifyPluginAsync = async (app) => {
  app.post<{ Body: { deviceId: string; rotate?: boolean } }>(
    '/api/v1/devices',
    {
      schema: {
        body: {
          type: 'object',
          required: ['deviceId'],
          additionalProperties: false,
          properties: { deviceId: deviceIdSchema, rotate: { type: 'boolean' } },
        },
      },
    },
    async (request, reply) => {
      if (!app.cp.enrolmentEnabled) throw new CpError('CP_ERR_ENROLMENT_DISABLED');
      const enrolled = await app.cp.credentials.enrol(request.body.deviceId, { rotate: request.body.rotate === true });
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

  app.get('/api/v1/devices', async () => ({ devices: (await app.cp.store.listDevices()).map(view) }));

  app.get<{ Params: { device: string } }>(
    '/api/v1/devices/:device',
    { schema: { params: { type: 'object', properties: { device: deviceIdSchema }, required: ['device'] } } },
    async (request) => {
      const device = await app.cp.store.getDevice(request.params.device);
      if (!device) throw new CpError('CP_ERR_DEVICE_NOT_FOUND', request.params.device);
      return view(device);
    },
  );
};
