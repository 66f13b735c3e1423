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
} from './telemetry-messages.js';
export { ARMS, CAMERA_STATES } from './telemetry-messages.js';
export {
  decodeDetectionBatch,
  decodeDeviceMetrics,
  decodeDeviceStatus,
  encodeDetectionBatch,
  encodeDeviceMetrics,
  encodeDeviceStatus,
  type DecodeOptions,
  type EncodeOptions,
} from './telemetry-codecs.js';
export {
  validateDetection,
  validateDetectionBatch,
  validateDeviceMetrics,
  validateDeviceStatus,
  validateFrame,
} from './telemetry-validate.js';
export { PROTO_ERRORS, ProtoError, isProtoError, type ProtoErrorCode } from './proto-error.js';
export {
  DEFAULT_MAX_PAYLOAD_BYTES,
  MAX_BATCH_DETECTIONS,
  MAX_BATCH_FRAMES,
  MAX_CAMERAS,
  MAX_ERROR_TEXT_LENGTH,
  MAX_PROVIDERS,
  MAX_TEXT_LENGTH,
  MAX_CLASS_NAMES,
  MAX_CONTROL_MESSAGE_BYTES,
  MAX_MODEL_CHUNK_BYTES,
  DEFAULT_MODEL_CHUNK_BYTES,
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
export { CONTROL_PROTO_PATH, TELEMETRY_PROTO_PATH } from './schema.js';
export type {
  AssignmentSnapshot,
  CameraAssignment,
  CameraInfo,
  CandidateMode,
  DownloadModelRequest,
  ModelArm,
  ModelChunk,
  ModelDescriptor,
  ModelState,
  ModelStatusAck,
  ModelStatusReport,
  RollbackPolicy,
  WatchAssignmentsRequest,
} from './control-messages.js';
export { CANDIDATE_MODES, FULL_SPLIT_BASIS_POINTS, MODEL_ARMS, MODEL_STATES } from './control-messages.js';
export {
  decodeAssignmentSnapshot,
  decodeDownloadModelRequest,
  decodeModelChunk,
  decodeModelStatusAck,
  decodeModelStatusReport,
  decodeWatchAssignmentsRequest,
  encodeAssignmentSnapshot,
  encodeDownloadModelRequest,
  encodeModelChunk,
  encodeModelStatusAck,
  encodeModelStatusReport,
  encodeWatchAssignmentsRequest,
} from './control-codecs.js';
export {
  isSha256Hex,
  validateAssignmentSnapshot,
  validateCameraAssignment,
  validateDownloadModelRequest,
  validateModelChunk,
  validateModelDescriptor,
  validateModelStatusReport,
  validateWatchAssignmentsRequest,
} from './control-validate.js';
export { frameGrpcMessage, GRPC_FRAME_HEADER_BYTES, GrpcMessageReader } from './grpc-wire.js';
export {
  EncodedMessage,
  FLEET_CONTROL_CLIENT_DEFINITION,
  FLEET_CONTROL_SERVER_DEFINITION,
  FLEET_CONTROL_SERVICE_NAME,
  encodeModelChunkMessage,
} from './fleet-control-service.js';
export { MODEL_SIGNATURE_TAG, modelSignaturePayload, signingKeyId } from './artifact-signature.js';
