import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * The OpenAPI 3.0 document (from the routes' JSON schemas) at `/openapi.json` and a browsable UI at
 * `/docs`. Both are open: they describe the API, they do not call it (the UI's "Authorize" takes a token).
 */

const UPLOAD_BODY = {
  required: true,
  description: 'The ONNX file.',
  content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
};

/** Registers the document builder; call before any route is registered (it collects them as they are). */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'edgefleet control plane',
        version: '0.1.0',
        description:
          'Fleet registry, model upload, per-camera assignments (full, A/B split, shadow), promote and rollback, model status and the audit log. Every route but `/healthz` needs `Authorization: Bearer <token>`: viewers may GET, admins may do everything. Errors are `{ "error": { "code": "CP_ERR_…", "message", "fields"? } }`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    // The upload takes raw bytes, which fastify does not validate; describe them here instead.
    transformObject: (documentObject) => {
      const doc = (documentObject as { openapiObject: Record<string, unknown> }).openapiObject as {
        paths?: Record<string, Record<string, Record<string, unknown>>>;
      };
      const upload = doc.paths?.['/api/v1/models']?.post;
      if (upload) upload.requestBody = UPLOAD_BODY;
      return doc as never;
    },
  });
}

/** `/openapi.json` and `/docs`, open to everyone; call after the routes. */
export async function openApiRoutes(app: FastifyInstance): Promise<void> {
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), access: 'public' };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
  });
}
