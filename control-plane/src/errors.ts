/**
 * Error catalogue of the control plane. Every failure carries a stable `CP_ERR_*` code and the
 * HTTP status the REST layer answers with; transports translate codes once at their boundary.
 */

import { defineErrorCatalogue, type ErrorEntry } from '@edgefleet/service-kit';

export interface CpErrorSpec extends ErrorEntry {
  /** HTTP status for the REST API. */
  readonly status: number;
}

export const CP_ERRORS = {
  CP_ERR_ARGS: { message: 'invalid arguments', status: 400 },
  CP_ERR_DATASET_NOT_FOUND: { message: 'dataset not found', status: 404 },
  CP_ERR_DATASET_YAML: { message: 'dataset data.yaml is invalid', status: 422 },
  CP_ERR_DATASET_SPLIT: { message: 'dataset split is missing or empty', status: 422 },
  CP_ERR_DATASET_LABELS: { message: 'dataset labels are missing or invalid', status: 422 },
  CP_ERR_IMAGE_FORMAT: { message: 'unsupported image format', status: 415 },
  CP_ERR_IMAGE_DECODE: { message: 'image cannot be decoded', status: 422 },
  CP_ERR_MODEL_LOAD: { message: 'model cannot be loaded', status: 422 },
  CP_ERR_CLASS_MISMATCH: { message: 'model classes do not match the dataset classes', status: 422 },
  CP_ERR_EVALUATION: { message: 'evaluation failed', status: 500 },
  CP_ERR_CONFIG_READ: { message: 'configuration file cannot be read', status: 400 },
  CP_ERR_CONFIG_INVALID: { message: 'configuration is invalid', status: 400 },
  CP_ERR_STORAGE: { message: 'database operation failed', status: 503 },
  CP_ERR_MIGRATION: { message: 'database migration failed', status: 500 },
  CP_ERR_BROKER: { message: 'MQTT broker failed', status: 503 },
  CP_ERR_INGEST: { message: 'ingest failed', status: 503 },
  CP_ERR_VALIDATION: { message: 'request is invalid', status: 400 },
  CP_ERR_DEVICE_ID: { message: 'invalid device id', status: 400 },
  CP_ERR_DEVICE_EXISTS: { message: 'device is already enrolled', status: 409 },
  CP_ERR_DEVICE_NOT_FOUND: { message: 'device not found', status: 404 },
  CP_ERR_ENROLMENT_DISABLED: { message: 'device enrolment is disabled', status: 403 },
  CP_ERR_NOT_FOUND: { message: 'route not found', status: 404 },
  CP_ERR_INTERNAL: { message: 'internal error', status: 500 },
  CP_ERR_UNAUTHENTICATED: { message: 'missing or invalid credentials', status: 401 },
  CP_ERR_FORBIDDEN: { message: 'not allowed for this principal', status: 403 },
  CP_ERR_RATE_LIMITED: { message: 'too many requests', status: 429 },
  CP_ERR_MEDIA_TYPE: { message: 'unsupported content type', status: 415 },
  CP_ERR_ADMIN_TOKEN: { message: 'bootstrap admin token cannot be read or written', status: 500 },
  CP_ERR_SIGNING_KEY: { message: 'model signing key cannot be loaded or created', status: 500 },
  CP_ERR_MODEL_NAME: { message: 'invalid model name or version', status: 400 },
  CP_ERR_MODEL_EXISTS: { message: 'a model with this name and version exists', status: 409 },
  CP_ERR_MODEL_NOT_FOUND: { message: 'model not found', status: 404 },
  CP_ERR_PARENT_NOT_FOUND: { message: 'parent model not found', status: 422 },
  CP_ERR_MODEL_EMPTY: { message: 'model upload is empty', status: 400 },
  CP_ERR_MODEL_TOO_LARGE: { message: 'model upload exceeds the size limit', status: 413 },
  CP_ERR_MODEL_CORRUPT: { message: 'model is not a loadable ONNX file', status: 422 },
  CP_ERR_MODEL_NOT_DETECTOR: { message: 'model outputs fit no detector adapter', status: 422 },
  CP_ERR_MODEL_NO_CLASS_NAMES: { message: 'model has no class names', status: 422 },
  CP_ERR_ARTIFACT_NOT_FOUND: { message: 'artifact not found', status: 404 },
  CP_ERR_ARTIFACT_RANGE: { message: 'offset is past the end of the artifact', status: 416 },
  CP_ERR_ARTIFACT_DIGEST: { message: 'artifact bytes do not match the expected sha256', status: 422 },
  CP_ERR_ARTIFACT_STORE: { message: 'artifact store failed', status: 500 },
  CP_ERR_CAMERA_NOT_FOUND: { message: 'camera not found', status: 404 },
  CP_ERR_ASSIGNMENT_NOT_FOUND: { message: 'camera has no assignment', status: 404 },
  CP_ERR_NO_CANDIDATE: { message: 'assignment has no candidate to promote', status: 409 },
  CP_ERR_NO_PREVIOUS_MODEL: { message: 'no previous model to roll back to', status: 409 },
  CP_ERR_DOWNGRADE: { message: 'the model is older than the current primary: roll back instead', status: 409 },
  CP_ERR_GRPC: { message: 'gRPC server failed', status: 503 },
  CP_ERR_TLS: { message: 'TLS files cannot be read', status: 500 },
  CP_ERR_API: { message: 'control plane API request failed', status: 502 },
} as const satisfies Record<string, CpErrorSpec>;

export type CpErrorCode = keyof typeof CP_ERRORS;

const catalogue = defineErrorCatalogue({ name: 'CpError', catalogue: CP_ERRORS });

/** A control-plane failure: `code`, message `catalogue text: detail`, HTTP `status`, `details`, `cause`. */
export const CpError = catalogue.ErrorClass;
export type CpError = InstanceType<typeof CpError>;
export const isCpError = catalogue.isError;

export { describeError } from '@edgefleet/service-kit';
