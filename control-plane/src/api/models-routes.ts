import type { FastifyPluginAsync } from 'fastify';
import type { Readable } from 'node:stream';
import { CpError } from '../errors.js';
import { actorOf } from './api-context.js';
import { errors, MODEL, MODEL_NAME, MODEL_VERSION, modelView, SERIAL } from './schemas.js';

/**
 * Models: upload (admin; the ONNX bytes as `application/octet-stream`, streamed to disk and never held
 * in memory or subject to the JSON body limit), list and get (viewer), and the artifact bytes (admin).
 */
export const modelsRoutes: FastifyPluginAsync = async (app) => {
  // Encapsulated: only this plugin's routes take raw bytes, handed over as the request stream.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

  app.post<{ Querystring: { name: string; version: string; parent?: number } }>(
    '/api/v1/models',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['models'],
        summary: 'Upload an ONNX detector',
        description:
          "The body is the ONNX file (`Content-Type: application/octet-stream`). It must load in ONNX Runtime, fit a detector adapter (YOLOv8/YOLO11, YOLOX) and have class names. The model gets the next registry serial and is signed with the control plane's ed25519 key.",
        querystring: {
          type: 'object',
          required: ['name', 'version'],
          additionalProperties: false,
          properties: {
            name: MODEL_NAME,
            version: MODEL_VERSION,
            parent: { ...SERIAL, description: 'Serial of the model this one was derived from (lineage).' },
          },
        },
        response: { 201: MODEL, ...errors(409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (contentType !== 'application/octet-stream') {
        throw new CpError(
          'CP_ERR_MEDIA_TYPE',
          `send the ONNX file as application/octet-stream, got ${JSON.stringify(contentType ?? '')}`,
        );
      }
      const declared = Number(request.headers['content-length']);
      const max = app.cp.maxUploadBytes;
      if (Number.isFinite(declared) && declared > max)
        throw new CpError('CP_ERR_MODEL_TOO_LARGE', `${declared} bytes, at most ${max}`);
      const { name, version, parent } = request.query;
      const model = await app.cp.models.upload({
        name,
        version,
        ...(parent !== undefined ? { parentSerial: parent } : {}),
        actor: actorOf(request.principal),
        body: (request.body as Readable | undefined) ?? emptyBody(),
      });
      return reply.status(201).send(modelView(model));
    },
  );

  app.get<{ Querystring: { name?: string; limit: number; before?: number } }>(
    '/api/v1/models',
    {
      schema: {
        tags: ['models'],
        summary: 'List models, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            name: MODEL_NAME,
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            before: { ...SERIAL, description: 'Only serials below this one (the `nextBefore` of the previous page).' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { models: { type: 'array', items: MODEL }, nextBefore: { type: 'integer', nullable: true } },
          },
          ...errors(),
        },
      },
    },
    async (request) => {
      const { name, limit, before } = request.query;
      const models = await app.cp.models.list({
        limit,
        ...(name !== undefined ? { name } : {}),
        ...(before !== undefined ? { beforeSerial: before } : {}),
      });
      return {
        models: models.map(modelView),
        nextBefore: models.length === limit ? (models.at(-1)?.serial ?? null) : null,
      };
    },
  );

  app.get<{ Params: { serial: number } }>(
    '/api/v1/models/:serial',
    {
      schema: {
        tags: ['models'],
        summary: 'One model',
        params: { type: 'object', required: ['serial'], properties: { serial: SERIAL } },
        response: { 200: MODEL, ...errors(404) },
      },
    },
    async (request) => modelView(await app.cp.models.get(request.params.serial)),
  );

  app.get<{ Params: { serial: number } }>(
    '/api/v1/models/:serial/artifact',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['models'],
        summary: "The model's ONNX bytes (agents download over gRPC)",
        params: { type: 'object', required: ['serial'], properties: { serial: SERIAL } },
        response: {
          200: {
            description: 'The ONNX file.',
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
          },
          ...errors(404),
        },
      },
    },
    async (request, reply) => {
      const { model, stream, sizeBytes } = await app.cp.models.openArtifact(request.params.serial);
      return reply
        .type('application/octet-stream')
        .header('content-length', sizeBytes)
        .header('content-disposition', `attachment; filename="${model.name}-${model.version}.onnx"`)
        .header('x-model-sha256', model.sha256)
        .send(stream);
    },
  );
};

async function* emptyBody(): AsyncGenerator<Uint8Array> {}
