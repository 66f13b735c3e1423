/**
 * Public API of the fleet wire contract: message types, validating codecs and the MQTT topic layout,
 * shared by the edge agent and the control plane (see README.md).
 */
export type * from './telemetry-messages.js';
export { CAMERA_STATES, LUMA_GRID_CELLS } from './telemetry-messages.js';
export {
  decodeDetectionBatch,
  decodeDeviceMetrics,
  decodeDeviceStatus,
  encodeDetectionBatch,
  encodeDeviceMetrics,
  encodeDeviceStatus,
} from './telemetry-codecs.js';

export { ProtoError, isProtoError } from './proto-error.js';
export {
  DEFAULT_MAX_PAYLOAD_BYTES,
  MAX_BATCH_FRAMES,
  MAX_ERROR_TEXT_LENGTH,
  MAX_TEXT_LENGTH,
  MAX_CONTROL_MESSAGE_BYTES,
  MAX_MODEL_CHUNK_BYTES,
  DEFAULT_MODEL_CHUNK_BYTES,
} from './limits.js';
export { isDeviceId } from './ids.js';
export {
  DEFAULT_TOPIC_PREFIX,
  detectionsTopic,
  deviceTopic,
  deviceTopicRoot,
  kindFilter,
  metricsTopic,
  parseTopic,
  sharedSubscription,
  statusTopic,
} from './topics.js';
export { batchHeaderWireSize, detectionWireSize, frameWireSize } from './wire-size.js';
export { TELEMETRY_PROTO_PATH } from './schema.js';
export type * from './control-messages.js';
export { FULL_SPLIT_BASIS_POINTS, ZERO_ROLLBACK_POLICY } from './control-messages.js';
export {
  decodeDownloadModelRequest,
  decodeModelChunk,
  decodeModelStatusReport,
  decodeWatchAssignmentsRequest,
  encodeDownloadModelRequest,
  encodeModelChunk,
} from './control-codecs.js';
export { isSha256Hex } from './control-validate.js';
export { frameGrpcMessage, GrpcMessageReader } from './grpc-wire.js';
export {
  EncodedMessage,
  FLEET_CONTROL_CLIENT_DEFINITION,
  FLEET_CONTROL_SERVER_DEFINITION,
  encodeModelChunkMessage,
} from './fleet-control-service.js';
export { modelSignaturePayload, signingKeyId } from './artifact-signature.js';
