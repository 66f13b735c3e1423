import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import { CpError } from '../errors.js';
import type { Logger } from '@edgefleet/service-kit';
import { apiContextPlugin, type ApiContext } from './api-context.js';
import { assignmentsRoutes } from './assignments-routes.js';
import { auditRoutes } from './audit-routes.js';
import { authHookPlugin } from './auth-hook.js';
import { camerasRoutes } from './cameras-routes.js';
import { dashboardRoutes } from './dashboard-routes.js';
import { detectionsRoutes } from './detections-routes.js';
import { devicesRoutes } from './devices-routes.js';
import { errorHandlerPlugin } from './error-handler.js';
import { healthRoutes } from './health-routes.js';
import { ingestRoutes } from './ingest-routes.js';
import { modelStatusRoutes } from './model-status-routes.js';
import { modelsRoutes } from './models-routes.js';
import { openApiRoutes, registerOpenApi } from './openapi.js';
import { signingKeyRoutes } from './signing-key-routes.js';

export interface HttpAppOptions {
  readonly rateLimit: { readonly enabled: boolean; readonly max: number; readonly timeWindowMs: number };
}

/**
 * The REST API: one encapsulated fastify plugin per area over a shared context; bearer-token auth with
 * roles (auth-hook.ts), rate limiting, JSON schemas on every route (errors list every failing field) and
 * the OpenAPI document built from them; the web dashboard (a client of the same API) at /dashboard.
 */
export async function buildHttpApp(
  context: ApiContext,
  logger: Logger,
  options: HttpAppOptions,
): Promise<FastifyInstance> {
  // Fastify's own logger stays off: request bodies (enrolment answers carry passwords) and headers
  // (bearer tokens) must never be logged.
  // Unknown body keys are errors, not silently dropped (fastify's default strips them): a typo must not pass.
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    ajv: { customOptions: { removeAdditional: false, allErrors: true } },
  });
  await app.register(apiContextPlugin, { context });
  await app.register(errorHandlerPlugin, { logger });
  if (options.rateLimit.enabled) {
    await app.register(rateLimit, {
      global: true,
      max: options.rateLimit.max,
      timeWindow: options.rateLimit.timeWindowMs,
      errorResponseBuilder: (_request, ctx) =>
        new CpError(
          'CP_ERR_RATE_LIMITED',
          `at most ${ctx.max} requests per ${ctx.after}; retry after ${Math.ceil(ctx.ttl / 1000)} s`,
        ),
    });
  }
  await app.register(authHookPlugin);
  await registerOpenApi(app);
  await app.register(healthRoutes);
  await app.register(devicesRoutes);
  await app.register(camerasRoutes);
  await app.register(detectionsRoutes);
  await app.register(modelsRoutes);
  await app.register(signingKeyRoutes);
  await app.register(assignmentsRoutes);
  await app.register(modelStatusRoutes);
  await app.register(auditRoutes);
  await app.register(ingestRoutes);
  await openApiRoutes(app);
  await app.register(dashboardRoutes);
  return app;
}
