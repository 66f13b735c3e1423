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
export { MAX_AUTO_REPLICAS, type ReplicaCount } from './replicated-runner.js';
export {
  INFERENCE_THREADS,
  type InferenceThread,
  type InferenceRunner,
  type RunRequest,
  type RunResult,
} from './inference-runner.js';
export {
  createOnnxSession,
  setOnnxRuntimeLogLevel,
  consoleWarnLogger,
  type OnnxRuntimeLogLevel,
  type OnnxSession,
  type OnnxSessionOptions,
  type VisionLogger,
} from './onnx-session.js';
export {
  DEFAULT_PROVIDER_CHAIN,
  KNOWN_PROVIDERS,
  parseProviderList,
  type ExecutionProviderOptions,
} from './execution-providers.js';
export { DEFAULT_DETECT_OPTIONS, resolveDetectOptions } from './detect-options.js';
export {
  computeLetterbox,
  writeLetterboxTensor,
  type LetterboxAlign,
  type LetterboxGeometry,
  type TensorLayout,
} from './letterbox.js';
export { nmsClasswise, iou, type CandidateSet } from './nms.js';
export { readOnnxMetadata, readOnnxMetadataFile } from './onnx-metadata.js';
export {
  parsePythonLiteral,
  parsePythonDict,
  PythonLiteralError,
  type PyValue,
  type PyDict,
} from './python-dict-literal.js';
export { parseClassNames, parseImgsz } from './ultralytics-metadata.js';
export { COCO_80_NAMES } from './coco-names.js';
export { ADAPTER_NAMES, selectAdapter } from './adapters/select-adapter.js';
export type { DetectorAdapter, OutputTensor } from './adapters/detector-adapter.js';
export {
  signatureOf,
  describeSignature,
  type ModelSignature,
  type TensorSignature,
} from './adapters/tensor-layout.js';
export { Yolov8Adapter } from './adapters/yolov8-adapter.js';
export { YoloxAdapter } from './adapters/yolox-adapter.js';
