/**
 * Error catalogue of the detection core. Every failure carries a stable `VISION_ERR_*` code;
 * callers (edge agent, control plane) translate codes once at their own boundary.
 */

import { defineErrorCatalogue, type ErrorCatalogue } from '@edgefleet/service-kit';

export const VISION_ERRORS = {
  VISION_ERR_MODEL_NOT_FOUND: { message: 'model file not found' },
  VISION_ERR_MODEL_READ: { message: 'model file cannot be read' },
  VISION_ERR_MODEL_CORRUPT: { message: 'model file cannot be loaded by ONNX Runtime' },
  VISION_ERR_MODEL_NOT_DETECTOR: { message: 'model inputs/outputs fit no detector adapter' },
  VISION_ERR_MODEL_METADATA: { message: 'model metadata is invalid' },
  VISION_ERR_PROVIDER_UNAVAILABLE: { message: 'no execution provider in the chain could be used' },
  VISION_ERR_BAD_OPTION: { message: 'invalid option' },
  VISION_ERR_BAD_FRAME: { message: 'invalid frame' },
  VISION_ERR_INFERENCE: { message: 'inference failed' },
  VISION_ERR_CLOSED: { message: 'detector is closed' },
  VISION_ERR_WORKER: { message: 'inference thread failed' },
} as const satisfies ErrorCatalogue;

export type VisionErrorCode = keyof typeof VISION_ERRORS;

/** A detection-core failure; `detail` is the specific part of the message, for callers that re-word it. */
export const { ErrorClass: VisionError, isError: isVisionError } = defineErrorCatalogue({
  name: 'VisionError',
  catalogue: VISION_ERRORS,
});
export type VisionError = InstanceType<typeof VisionError>;
