/**
 * Error catalogue of the edge agent. Every failure the agent reports carries a stable code
 * (documented in README "Error codes"; a test checks that each code here is documented).
 */

import { defineErrorCatalogue, type ErrorCatalogue } from '@edgefleet/service-kit';

export const EDGE_ERRORS = {
  EDGE_ERR_CONFIG_INVALID: { message: 'configuration is invalid' },
  EDGE_ERR_CONFIG_READ: { message: 'configuration file cannot be read' },
  EDGE_ERR_MODEL_NOT_FOUND: { message: 'model file not found' },
  EDGE_ERR_MODEL_CORRUPT: { message: 'model file cannot be loaded by ONNX Runtime' },
  EDGE_ERR_MODEL_NOT_DETECTOR: { message: 'model outputs are not a supported detector layout' },
  EDGE_ERR_IMAGE_DECODE: { message: 'image cannot be decoded' },
  EDGE_ERR_SOURCE_URI: { message: 'camera source URI is not supported' },
  EDGE_ERR_PIPELINE: { message: 'GStreamer pipeline failed' },
  EDGE_ERR_SOURCE_STALLED: { message: 'camera source delivered no frame in time' },
  EDGE_ERR_SOURCE_EOS: { message: 'live camera source ended' },
  EDGE_ERR_OUTBOX: { message: 'outbox storage failed' },
  EDGE_ERR_SD_NOTIFY: { message: 'systemd notification failed' },
  EDGE_ERR_METRICS_LISTEN: { message: 'metrics endpoint cannot listen' },
  EDGE_ERR_USAGE: { message: 'invalid command-line arguments' },
  EDGE_ERR_MODEL_READ: { message: 'model file cannot be read' },
  EDGE_ERR_MODEL_METADATA: { message: 'model metadata is invalid' },
  EDGE_ERR_PROVIDER_UNAVAILABLE: { message: 'no execution provider in the chain could be used' },
  EDGE_ERR_INFERENCE: { message: 'inference failed' },
  EDGE_ERR_SOURCE_UNAVAILABLE: { message: 'camera source is not available' },
  EDGE_ERR_SIGNING_KEY: { message: 'pinned model-signing key is invalid' },
  EDGE_ERR_CONTROL: { message: 'control plane call failed' },
  EDGE_ERR_MODEL_DOWNLOAD: { message: 'model download failed' },
  EDGE_ERR_MODEL_REJECTED: { message: 'model artifact refused' },
  EDGE_ERR_MODEL_DOWNGRADE: { message: 'model downgrade refused' },
  EDGE_ERR_MODEL_WARMUP: { message: 'model warm-up failed' },
  EDGE_ERR_MODEL_STATE: { message: 'model state storage failed' },
} as const satisfies ErrorCatalogue;

export type EdgeErrorCode = keyof typeof EDGE_ERRORS;

/** An agent failure: `code`, message `catalogue text: detail`, optional `details` and `cause`. */
export const { ErrorClass: EdgeError, isError: isEdgeError } = defineErrorCatalogue({
  name: 'EdgeError',
  catalogue: EDGE_ERRORS,
});
export type EdgeError = InstanceType<typeof EdgeError>;

export { describeError } from '@edgefleet/service-kit';
