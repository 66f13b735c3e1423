import type { FastifyPluginAsync } from 'fastify';

/** GET /api/v1/devices/:device/cameras/:camera/detections?limit=N: the camera's most recent detections, newest first. */
export const detectionsRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Params: { device: string; camera: string }; Querystring: { limit: number } }>(
    '/api/v1/devices/:device/cameras/:camera/detections',
    {
      schema: {
        tags: ['detections'],
        summary: "A camera's most recent detections, newest first",
        params: {
          type: 'object',
          required: ['device', 'camera'],
          properties: {
            device: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' },
            camera: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
          },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
      },
    },
    async (request) => {
      const { device, camera } = request.params;
      const rows = await app.cp.store.recentDetections(device, camera, request.query.limit);
      return {
        deviceId: device,
        cameraId: camera,
        detections: rows.map((d) => ({
          seq: d.seq,
          frameSeq: d.frameSeq,
          ts: new Date(d.tsMs).toISOString(),
          modelId: d.modelId,
          modelVersion: d.modelVersion,
          arm: d.arm,
          classId: d.classId,
          label: d.label,
          score: d.score,
          box: [d.x1, d.y1, d.x2, d.y2],
        })),
      };
    },
  );
};
