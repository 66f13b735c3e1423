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
