import type { FastifyPluginAsync } from 'fastify';

/** GET /api/v1/ingest/stats: the ingest counters (received, stored, rejected by reason, rows, flushes). */
export const ingestRoutes: FastifyPluginAsync = async (app) => {
  app.get('/api/v1/ingest/stats', { schema: { tags: ['ingest'], summary: 'Ingest counters' } }, async () =>
    app.cp.ingestStats.snapshot(),
  );
};
