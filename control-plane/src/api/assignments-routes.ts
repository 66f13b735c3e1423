import type { FastifyPluginAsync } from 'fastify';
import type { CandidateMode, RollbackPolicy } from '@edgefleet/proto';
import type { ModelRef } from '../assignments/assignment-service.js';
import { actorOf } from './api-context.js';
import {
  ASSIGNMENT,
  assignmentView,
  CAMERA_PARAMS,
  DEVICE_PARAMS,
  errors,
  MODEL_REF,
  POLICY_SCHEMA,
  REASON,
} from './schemas.js';

/**
 * Per-camera assignments: read (viewer); assign full / A/B split / shadow, promote, roll back (admin).
 * Every change answers the new assignment with its new revision; agents watching the device get it
 * over gRPC at once.
 */

interface AssignBody {
  model: ModelRef;
  candidate?: ModelRef;
  mode?: CandidateMode;
  splitPercent?: number;
  reason?: string;
  policy?: Partial<RollbackPolicy>;
  provision?: boolean;
}

const BASE = '/api/v1/devices/:device/cameras/:camera/assignment';

const HISTORY_ENTRY = {
  type: 'object',
  properties: {
    revision: { type: 'integer' },
    action: { type: 'string' },
    primarySerial: { type: 'integer', nullable: true },
    candidateSerial: { type: 'integer', nullable: true },
    candidateMode: { type: 'string', nullable: true },
    splitBasisPoints: { type: 'integer' },
    rollback: { type: 'boolean' },
    reason: { type: 'string' },
    actor: { type: 'string' },
    recordedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const assignmentsRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/api/v1/assignments',
    {
      schema: {
        tags: ['assignments'],
        summary: 'Every camera assignment of the fleet (one request for dashboards)',
        response: {
          200: { type: 'object', properties: { assignments: { type: 'array', items: ASSIGNMENT } } },
          ...errors(),
        },
      },
    },
    async () => ({ assignments: (await app.cp.assignments.listAll()).map(assignmentView) }),
  );

  app.get<{ Params: { device: string } }>(
    '/api/v1/devices/:device/assignments',
    {
      schema: {
        tags: ['assignments'],
        summary: 'Every camera assignment of a device',
        params: DEVICE_PARAMS,
        response: {
          200: {
            type: 'object',
            properties: { deviceId: { type: 'string' }, assignments: { type: 'array', items: ASSIGNMENT } },
          },
          ...errors(404),
        },
      },
    },
    async (request) => ({
      deviceId: request.params.device,
      assignments: (await app.cp.assignments.list(request.params.device)).map(assignmentView),
    }),
  );

  app.get<{ Params: { device: string; camera: string } }>(
    BASE,
    {
      schema: {
        tags: ['assignments'],
        summary: "One camera's assignment",
        params: CAMERA_PARAMS,
        response: { 200: ASSIGNMENT, ...errors(404) },
      },
    },
    async (request) => assignmentView(await app.cp.assignments.get(request.params.device, request.params.camera)),
  );

  app.get<{ Params: { device: string; camera: string }; Querystring: { limit: number } }>(
    `${BASE}/history`,
    {
      schema: {
        tags: ['assignments'],
        summary: "Every revision of one camera's assignment, newest first",
        params: CAMERA_PARAMS,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
        response: {
          200: { type: 'object', properties: { history: { type: 'array', items: HISTORY_ENTRY } } },
          ...errors(404),
        },
      },
    },
    async (request) => ({
      history: (
        await app.cp.assignments.history(request.params.device, request.params.camera, request.query.limit)
      ).map((h) => ({
        ...h,
        recordedAt: new Date(h.recordedAt).toISOString(),
      })),
    }),
  );

  app.put<{ Params: { device: string; camera: string }; Body: AssignBody }>(
    BASE,
    {
      config: { access: 'admin' },
      schema: {
        tags: ['assignments'],
        summary: 'Assign a model to a camera: full, A/B split or shadow',
        description:
          'Full: `{"model": 12}`. A/B split: `{"model": 12, "candidate": "edgefleet-base:4", "splitPercent": 10}` (the candidate takes 10 % of the frames). Shadow: `{"model": 12, "candidate": 13, "mode": "shadow"}` (the candidate runs on every frame beside the primary). A model older than the current primary is refused (409 `CP_ERR_DOWNGRADE`): use rollback. A camera the device has not reported yet is 404 unless `provision` is true.',
        params: CAMERA_PARAMS,
        body: {
          type: 'object',
          required: ['model'],
          additionalProperties: false,
          properties: {
            model: MODEL_REF,
            candidate: MODEL_REF,
            mode: {
              type: 'string',
              enum: ['split', 'shadow'],
              description: 'How the candidate shares the camera; default `split`.',
            },
            splitPercent: {
              type: 'number',
              minimum: 0.01,
              maximum: 100,
              description:
                "Split mode: the candidate's share of frames in percent (kept in basis points: two decimals).",
            },
            reason: REASON,
            policy: POLICY_SCHEMA,
            provision: { type: 'boolean', description: 'Create the camera if the device has not reported it yet.' },
          },
        },
        response: { 200: ASSIGNMENT, ...errors(404, 409) },
      },
    },
    async (request) => {
      const { device, camera } = request.params;
      return assignmentView(await app.cp.assignments.assign(device, camera, request.body, actorOf(request.principal)));
    },
  );

  app.post<{ Params: { device: string; camera: string }; Body: { reason?: string } | undefined }>(
    `${BASE}/promote`,
    {
      config: { access: 'admin' },
      schema: {
        tags: ['assignments'],
        summary: 'The candidate becomes the primary',
        params: CAMERA_PARAMS,
        body: { type: 'object', additionalProperties: false, properties: { reason: REASON } },
        response: { 200: ASSIGNMENT, ...errors(404, 409) },
      },
    },
    async (request) => {
      const { device, camera } = request.params;
      return assignmentView(
        await app.cp.assignments.promote(
          device,
          camera,
          { ...(request.body?.reason !== undefined ? { reason: request.body.reason } : {}) },
          actorOf(request.principal),
        ),
      );
    },
  );

  app.post<{ Params: { device: string; camera: string }; Body: { to?: ModelRef; reason?: string } | undefined }>(
    `${BASE}/rollback`,
    {
      config: { access: 'admin' },
      schema: {
        tags: ['assignments'],
        summary: 'Roll back at once: to the previous primary, or to the model `to`',
        description:
          'The candidate is removed and the assignment carries `rollback: true`, so agents accept an older model. 409 `CP_ERR_NO_PREVIOUS_MODEL` when the camera has had no other primary.',
        params: CAMERA_PARAMS,
        body: { type: 'object', additionalProperties: false, properties: { to: MODEL_REF, reason: REASON } },
        response: { 200: ASSIGNMENT, ...errors(404, 409) },
      },
    },
    async (request) => {
      const { device, camera } = request.params;
      const body = request.body ?? {};
      return assignmentView(
        await app.cp.assignments.rollback(
          device,
          camera,
          {
            ...(body.to !== undefined ? { to: body.to } : {}),
            ...(body.reason !== undefined ? { reason: body.reason } : {}),
          },
          actorOf(request.principal),
        ),
      );
    },
  );
};
