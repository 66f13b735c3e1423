import type { FastifyPluginAsync } from 'fastify';
import { describeError } from '../errors.js';

/** GET /healthz: 200 when the database answers, 503 otherwise; says which store and broker mode run. */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  // Open (no token) and not rate limited: load balancers and systemd probes call it.
  app.get(
    '/healthz',
    {
      config: { access: 'public', rateLimit: false },
      schema: { tags: ['health'], summary: 'Liveness and database health', security: [] },
    },
    async (_request, reply) => {
      const broker = app.cp.broker();
      try {
        await app.cp.store.ping();
        return { status: 'ok', store: app.cp.store.kind, broker };
      } catch (err) {
        return reply
          .status(503)
          .send({ status: 'unavailable', store: app.cp.store.kind, broker, error: describeError(err) });
      }
    },
  );
};
