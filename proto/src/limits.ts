/**
 * Bounds of the fleet.v1 contract. A decoder checks the payload size before it parses anything, so a
 * hostile or broken client cannot make the ingest allocate without bound.
 */

/** Largest payload a codec encodes or decodes unless the caller passes its own `maxBytes`. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/** Frames in one DetectionBatch. */
export const MAX_BATCH_FRAMES = 10_000;

/** Detections in one DetectionBatch (a 1 MiB payload holds about 25,000 at most anyway). */
export const MAX_BATCH_DETECTIONS = 50_000;

/** Cameras in one DeviceStatus or DeviceMetrics. */
export const MAX_CAMERAS = 1024;

/** Free-text fields (model ids and versions, labels, versions, hardware). */
export const MAX_TEXT_LENGTH = 256;

/** Error texts in CameraStatus.last_error. */
export const MAX_ERROR_TEXT_LENGTH = 2048;

/** Execution providers listed in DeviceStatus. */
export const MAX_PROVIDERS = 16;

/** Class names in one ModelDescriptor. */
export const MAX_CLASS_NAMES = 4096;

/** Largest control message (assignment snapshots, model chunks) a codec accepts: 4 MiB, gRPC's default. */
export const MAX_CONTROL_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Largest artifact chunk a server sends (and the default an agent asks for: 256 KiB). */
export const MAX_MODEL_CHUNK_BYTES = 1024 * 1024;
export const DEFAULT_MODEL_CHUNK_BYTES = 256 * 1024;
