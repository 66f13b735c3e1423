import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../server/logger.js';
import { apiContextPlugin, type ApiContext } from './api-context.js';
import { detectionsRoutes } from './detections-routes.js';
import { devicesRoutes } from './devices-routes.js';
import { errorHandlerPlugin } from './error-handler.js';
import { healthRoutes } from './health-routes.js';
import { ingestRoutes } from './ingest-routes.js';

/**
 * The REST API: one encapsulated fastify plugin per area over a shared context. No token auth yet
 * (README: TODO), which is why the default listen address is loopback.
 */
export async function buildHttpApp(context: ApiContext, logger: Logger): Promise<FastifyInstance> {
  // Fastify's own logger stays off: request bodies (enrolment answers carry passwords) must never be logged.
  // Unknown body keys are errors, not silently dropped (fastify's default strips them): a typo must not pass.
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, ajv: { customOptions: { removeAdditional: false } } });
  await app.register(apiContextPlugin, { context });
  await app.register(errorHandlerPlugin, { logger });
  await app.register(healthRoutes);
  await app.register(devicesRoutes);
  await app.register(detectionsRoutes);
  await app.register(ingestRoutes);
  return app;
}
