import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { CpError, describeError } from '../errors.js';
import type { Logger } from '@edgefleet/service-kit';

/**
 * The one place where errors become HTTP answers: `{ error: { code, message, fields? } }` with the
 * catalogue's status. Schema validation failures are CP_ERR_VALIDATION with every failing field (ajv
 * runs with allErrors); unknown routes CP_ERR_NOT_FOUND; anything unexpected is logged and answered 500
 * without internals.
 */
export interface FieldError {
  /** `body.splitPercent`, `querystring.limit`, `params.device`. */
  readonly field: string;
  readonly message: string;
}

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly fields?: readonly FieldError[] };
}

interface AjvError {
  readonly instancePath: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
}

function fieldsOf(context: string | undefined, errors: readonly AjvError[]): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const path = e.instancePath.split('/').filter(Boolean).join('.');
    const extra = e.params?.missingProperty ?? e.params?.additionalProperty;
    const field = [context ?? 'request', path, typeof extra === 'string' ? extra : ''].filter(Boolean).join('.');
    const message = e.params?.additionalProperty !== undefined ? 'is not a known field' : (e.message ?? 'is invalid');
    // anyOf/oneOf report each branch and then the combinator; one line per field and message is enough.
    if (!out.some((f) => f.field === field && f.message === message)) out.push({ field, message });
  }
  return out;
}

function isFieldList(v: unknown): v is FieldError[] {
  return (
    Array.isArray(v) &&
    v.every((f) => typeof (f as FieldError)?.field === 'string' && typeof (f as FieldError)?.message === 'string')
  );
}

export const errorHandlerPlugin = fp<{ logger: Logger }>(
  async (app: FastifyInstance, opts) => {
    app.setErrorHandler((err: FastifyError | CpError | Error, request, reply) => {
      if (err instanceof CpError) {
        if (err.status >= 500)
          opts.logger.error('request failed', { method: request.method, url: request.url, error: describeError(err) });
        const body: ErrorBody = {
          error: { code: err.code, message: err.message, ...(isFieldList(err.details) ? { fields: err.details } : {}) },
        };
        return reply.status(err.status).send(body);
      }
      const fe = err as FastifyError;
      if (fe.validation) {
        const fields = fieldsOf(fe.validationContext, fe.validation as unknown as AjvError[]);
        const message = `request is invalid: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`;
        return reply.status(400).send({ error: { code: 'CP_ERR_VALIDATION', message, fields } } satisfies ErrorBody);
      }
      if (fe.statusCode === 415) {
        return reply
          .status(415)
          .send({ error: { code: 'CP_ERR_MEDIA_TYPE', message: fe.message } } satisfies ErrorBody);
      }
      if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
        return reply
          .status(fe.statusCode)
          .send({ error: { code: 'CP_ERR_VALIDATION', message: fe.message } } satisfies ErrorBody);
      }
      opts.logger.error('request failed', { method: request.method, url: request.url, error: describeError(err) });
      return reply
        .status(500)
        .send({ error: { code: 'CP_ERR_INTERNAL', message: 'internal error' } } satisfies ErrorBody);
    });
    app.setNotFoundHandler((request, reply) =>
      reply.status(404).send({
        error: {
          code: 'CP_ERR_NOT_FOUND',
          message: `route not found: ${request.method} ${request.url.split('?')[0]}`,
        },
      } satisfies ErrorBody),
    );
  },
  { name: 'cp-error-handler', fastify: '5.x' },
);
