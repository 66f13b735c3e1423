/**
 * Public API of the fleet wire contract: message types, validating codecs and the MQTT topic layout,
 * shared by the edge agent and the control plane (see README.md).
 */
export type {
  Arm,
  CameraMetrics,
  CameraState,
  CameraStatus,
  Detection,
  DetectionBatch,
  DeviceMetrics,
  DeviceStatus,
  Frame,
} from './messages.js';
export { ARMS, CAMERA_STATES } from './messages.js';
export {
  decodeDetectionBatch,
  decodeDeviceMetrics,
  decodeDeviceStatus,
  encodeDetectionBatch,
  encodeDeviceMetrics,
  encodeDeviceStatus,
  type DecodeOptions,
  type EncodeOptions,
} from './codecs.js';
export { validateDetection, validateDetectionBatch, validateDeviceMetrics, validateDeviceStatus, validateFrame } from './validate.js';
export { PROTO_ERRORS, ProtoError, isProtoError, type ProtoErrorCode } from './proto-error.js';
export {
  DEFAULT_MAX_PAYLOAD_BYTES,
  MAX_BATCH_DETECTIONS,
  MAX_BATCH_FRAMES,
  MAX_CAMERAS,
  MAX_ERROR_TEXT_LENGTH,
  MAX_PROVIDERS,
  MAX_TEXT_LENGTH,
} from './limits.js';
export { CAMERA_ID_PATTERN, DEVICE_ID_PATTERN, isCameraId, isDeviceId } from './ids.js';
export {
  DEFAULT_TOPIC_PREFIX,
  TOPIC_KINDS,
  detectionsTopic,
  deviceTopic,
  deviceTopicRoot,
  kindFilter,
  metricsTopic,
  parseTopic,
  sharedSubscription,
  statusTopic,
  type ParsedTopic,
  type TopicKind,
} from './topics.js';
export { batchHeaderWireSize, detectionWireSize, frameWireSize, varintSize } from './wire-size.js';
export { TELEMETRY_PROTO_PATH } from './schema.js';
