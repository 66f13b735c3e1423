import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { CpError, describeError } from '../errors.js';
import type { Logger } from '../server/logger.js';

/**
 * The one place where errors become HTTP answers: `{ error: { code, message } }` with the catalogue's
 * status. Schema validation failures are CP_ERR_VALIDATION; unknown routes CP_ERR_NOT_FOUND; anything
 * unexpected is logged and answered 500 without internals.
 */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

export const errorHandlerPlugin = fp<{ logger: Logger }>(
  async (app: FastifyInstance, opts) => {
    app.setErrorHandler((err: FastifyError | CpError | Error, request, reply) => {
      if (err instanceof CpError) {
        if (err.status >= 500) opts.logger.error('request failed', { method: request.method, url: request.url, error: describeError(err) });
        return reply.status(err.status).send({ error: { code: err.code, message: err.message } } satisfies ErrorBody);
      }
      const fe = err as FastifyError;
      if (fe.validation) {
        return reply.status(400).send({ error: { code: 'CP_ERR_VALIDATION', message: `request is invalid: ${fe.message}` } } satisfies ErrorBody);
      }
      if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
        return reply.status(fe.statusCode).send({ error: { code: 'CP_ERR_VALIDATION', message: fe.message } } satisfies ErrorBody);
      }
      opts.logger.error('request failed', { method: request.method, url: request.url, error: describeError(err) });
      return reply.status(500).send({ error: { code: 'CP_ERR_INTERNAL', message: 'internal error' } } satisfies ErrorBody);
    });
    app.setNotFoundHandler((request, reply) =>
      reply.status(404).send({ error: { code: 'CP_ERR_NOT_FOUND', message: `route not found: ${request.method} ${request.url}` } } satisfies ErrorBody),
    );
  },
  { name: 'cp-error-handler', fastify: '5.x' },
);
