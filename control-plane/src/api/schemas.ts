import type { ModelRecord } from '../storage/registry-store.js';
import type { AssignmentView } from '../assignments/assignment-service.js';

/**
 * JSON schemas shared by the route plugins (requests are validated against them; responses are
 * serialised through them, so a field that is not listed never leaves the API; both end up in the
 * OpenAPI document).
 */

/** A string schema that `pattern` must match whole. */
function matching(options: { pattern: string; description: string }) {
  return { type: 'string', pattern: `^${options.pattern}$`, description: options.description } as const;
}

/** Registry names: no line breaks (the signed payload is line-based) and no colon (`name:version` references). */
const NAME_PATTERN = '[A-Za-z0-9][A-Za-z0-9._-]{0,127}';
const VERSION_PATTERN = '[A-Za-z0-9][A-Za-z0-9._+-]{0,63}';

export const DEVICE_ID = matching({ pattern: '[A-Za-z0-9._-]{1,128}', description: 'Device id (the MQTT user name).' });
export const CAMERA_ID = matching({
  pattern: '[A-Za-z0-9_-]{1,64}',
  description: 'Camera id, as the agent reports it.',
});
export const MODEL_NAME = matching({ pattern: NAME_PATTERN, description: 'Model name, e.g. `edgefleet-base`.' });
export const MODEL_VERSION = matching({
  pattern: VERSION_PATTERN,
  description: 'Version within the name, e.g. `3` or `2024.06.1`.',
});
export const MODEL_REF = {
  anyOf: [
    { type: 'integer', minimum: 1 },
    { type: 'string', pattern: `^([0-9]+|${NAME_PATTERN}:${VERSION_PATTERN})$` },
  ],
  description: 'A model: its serial (`12`) or `name:version`.',
} as const;
export const SERIAL = { type: 'integer', minimum: 1, description: 'Registry-wide model serial.' } as const;
export const REASON = {
  type: 'string',
  maxLength: 500,
  description: 'Why (kept in the history and the audit log, shown in agent logs).',
} as const;

export const DEVICE_PARAMS = { type: 'object', required: ['device'], properties: { device: DEVICE_ID } } as const;
export const CAMERA_PARAMS = {
  type: 'object',
  required: ['device', 'camera'],
  properties: { device: DEVICE_ID, camera: CAMERA_ID },
} as const;

export const ERROR_RESPONSE = {
  type: 'object',
  description: 'Error with a stable `CP_ERR_*` code (control-plane/README.md "Error codes").',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        fields: {
          type: 'array',
          items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
  },
} as const;

/** The error answers every authenticated route can give, plus the route's own. */
export function errors(...statuses: number[]): Record<number, typeof ERROR_RESPONSE> {
  return Object.fromEntries([400, 401, 403, 429, ...statuses].map((s) => [s, ERROR_RESPONSE]));
}

const ISO = { type: 'string', format: 'date-time' } as const;

export const MODEL = {
  type: 'object',
  properties: {
    serial: { type: 'integer' },
    name: { type: 'string' },
    version: { type: 'string' },
    sha256: { type: 'string' },
    sizeBytes: { type: 'integer' },
    signature: { type: 'string', description: 'ed25519 signature, base64.' },
    keyId: { type: 'string' },
    classNames: { type: 'array', items: { type: 'string' } },
    inputWidth: { type: 'integer' },
    inputHeight: { type: 'integer' },
    adapter: { type: 'string' },
    metrics: { nullable: true },
    parentSerial: { type: 'integer', nullable: true },
    createdBy: { type: 'string' },
    createdAt: ISO,
  },
} as const;

export function modelView(m: ModelRecord): Record<string, unknown> {
  return {
    ...m,
    signature: Buffer.from(m.signature).toString('base64'),
    createdAt: new Date(m.createdAt).toISOString(),
  };
}

const POLICY = {
  type: 'object',
  additionalProperties: false,
  description: "Budgets the agent enforces after activation; 0 or absent: the agent's default.",
  properties: {
    maxErrorRate: { type: 'number', minimum: 0, maximum: 1 },
    errorWindowFrames: { type: 'integer', minimum: 0, maximum: 4294967295 },
    p95LatencyBudgetMs: { type: 'number', minimum: 0 },
    latencyWindowFrames: { type: 'integer', minimum: 0, maximum: 4294967295 },
    crashLoopRestarts: { type: 'integer', minimum: 0, maximum: 4294967295 },
    crashLoopWindowS: { type: 'integer', minimum: 0, maximum: 4294967295 },
  },
} as const;
export const POLICY_SCHEMA = POLICY;

export const ASSIGNMENT = {
  type: 'object',
  properties: {
    deviceId: { type: 'string' },
    cameraId: { type: 'string' },
    revision: { type: 'integer' },
    primary: MODEL,
    candidate: { ...MODEL, nullable: true },
    candidateMode: { type: 'string', enum: ['split', 'shadow'], nullable: true },
    splitBasisPoints: { type: 'integer' },
    splitPercent: { type: 'number' },
    rollback: { type: 'boolean' },
    reason: { type: 'string' },
    policy: { ...POLICY, nullable: true },
    previousPrimaries: { type: 'array', items: { type: 'integer' } },
    updatedBy: { type: 'string' },
    updatedAt: ISO,
  },
} as const;

export function assignmentView(a: AssignmentView): Record<string, unknown> {
  return {
    ...a,
    primary: modelView(a.primary),
    candidate: a.candidate ? modelView(a.candidate) : null,
    splitPercent: a.splitBasisPoints / 100,
    updatedAt: new Date(a.updatedAt).toISOString(),
  };
}
