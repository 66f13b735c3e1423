import type { OutboxFrame } from './outbox.js';

/**
 * Deterministic size accounting for the outbox's `maxBytes` bound. SQLite's own file size depends on
 * page fill, free pages and the WAL, so it cannot be bounded exactly; this estimate can. A fixed
 * per-row overhead covers the integer/real columns, rowid and index entries; text columns add their
 * UTF-8 length. Measured on typical rows (10 detections per frame or fewer), the database file is
 * about 0.9x the accounted bytes; the WAL adds up to 16 MiB (journal_size_limit) on top.
 */
export const FRAME_ROW_OVERHEAD_BYTES = 64;
export const DETECTION_ROW_OVERHEAD_BYTES = 96;
/** A frame's image statistics: four REAL columns (8 bytes each) and the 16 float32 luma grid BLOB. */
export const IMAGE_STATS_BYTES = 4 * 8 + 16 * 4;

/** Accounted bytes of one frame row plus all its detection rows. */
export function estimateFrameBytes(deviceId: string, frame: OutboxFrame): number {
  const common =
    Buffer.byteLength(deviceId) +
    Buffer.byteLength(frame.cameraId) +
    Buffer.byteLength(frame.modelId) +
    Buffer.byteLength(frame.modelVersion) +
    Buffer.byteLength(frame.arm);
  let bytes = FRAME_ROW_OVERHEAD_BYTES + common + (frame.imageStats ? IMAGE_STATS_BYTES : 0);
  for (const d of frame.detections) {
    // A shadow detection stores its own model and arm instead of the frame's.
    const own =
      d.modelId === undefined && d.modelVersion === undefined && d.arm === undefined
        ? common
        : Buffer.byteLength(deviceId) +
          Buffer.byteLength(frame.cameraId) +
          Buffer.byteLength(d.modelId ?? frame.modelId) +
          Buffer.byteLength(d.modelVersion ?? frame.modelVersion) +
          Buffer.byteLength(d.arm ?? frame.arm);
    bytes += DETECTION_ROW_OVERHEAD_BYTES + own + Buffer.byteLength(d.label);
  }
  return bytes;
}
