import type { FastifyPluginAsync } from 'fastify';
import { errors } from './schemas.js';

/** The append-only audit log, newest first, paged with `before`. */
export const auditRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Querystring: { target?: string; action?: string; limit: number; before?: number } }>(
    '/api/v1/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit log entries, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            target: {
              type: 'string',
              minLength: 1,
              maxLength: 300,
              description: '`model:<serial>`, `device:<id>` or `camera:<device>/<camera>`.',
            },
            action: { type: 'string', minLength: 1, maxLength: 100, description: 'e.g. `assignment.rollback`.' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            before: {
              type: 'integer',
              minimum: 1,
              description: 'Only entries with a smaller id (the `nextBefore` of the previous page).',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              entries: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'integer' },
                    at: { type: 'string', format: 'date-time' },
                    actor: { type: 'string' },
                    action: { type: 'string' },
                    target: { type: 'string' },
                    details: { type: 'object', additionalProperties: true },
                  },
                },
              },
              nextBefore: { type: 'integer', nullable: true },
            },
          },
          ...errors(),
        },
      },
    },
    async (request) => {
      const { target, action, limit, before } = request.query;
      const entries = await app.cp.store.registry.listAudit({
        limit,
        ...(target !== undefined ? { target } : {}),
        ...(action !== undefined ? { action } : {}),
        ...(before !== undefined ? { beforeId: before } : {}),
      });
      return {
        entries: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
        nextBefore: entries.length === limit ? (entries.at(-1)?.id ?? null) : null,
      };
    },
  );
};
