/**
 * Public API of the detection core.
 */
export type {
  Box,
  Detection,
  DetectOptions,
  DetectResult,
  DetectTimings,
  Detector,
  ExecutionProviderName,
  ModelInfo,
  PixelFormat,
  RgbFrame,
} from './types.js';
export { VISION_ERRORS, VisionError, isVisionError, type VisionErrorCode } from './errors.js';
export { OnnxDetector, type OnnxDetectorOptions } from './onnx-detector.js';

export { setOnnxRuntimeLogLevel, type VisionLogger } from './onnx-session.js';
export { parseProviderList } from './execution-providers.js';
export { resolveDetectOptions } from './detect-options.js';
export { computeLetterbox } from './letterbox.js';

export { ADAPTER_NAMES } from './adapters/select-adapter.js';
