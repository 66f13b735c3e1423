import { detectionWireSize, frameWireSize, type Arm, type Detection, type Frame } from '@edgefleet/proto';
import type { Outbox, StoredDetection, StoredFrame } from '../outbox/outbox.js';

/**
 * Cuts the outbox into DetectionBatch-sized pieces, oldest rows first. It reads ahead with
 * `peekFrames(limit, afterRowId)` past the rows already handed out (so frames in flight are not read
 * twice) and keeps what it read in memory until a batch takes it. Rows are taken in row-id order, which
 * within a camera is sequence order. `rewind()` forgets the read-ahead: after a reconnect every row not yet
 * acknowledged is read again from the oldest one (at-least-once).
 */

export interface PendingFrame {
  readonly rowId: number;
  readonly frame: Frame;
  readonly detections: readonly Detection[];
  /** Exact bytes the frame and its detections add to an encoded batch. */
  readonly bytes: number;
}

export interface OutboxBatch {
  readonly frames: readonly PendingFrame[];
  /** Encoded size of the parts, batch header excluded. */
  readonly bytes: number;
  readonly detections: number;
  /** Highest frame row id in the batch. */
  readonly lastRowId: number;
}

export interface BatchLimits {
  readonly maxFrames: number;
  /** Budget for frames and detections; the caller keeps room for the header. */
  readonly maxBytes: number;
}

/** First read-ahead, before the average frame size is known. */
const FIRST_PEEK_FRAMES = 64;

/**
 * A frame on the wire, with its image statistics when the row has them (rows written before they existed
 * have none: the field stays undefined, which the encoder skips). Written field by field: every synced row
 * goes through here (see toStoredFrame in sqlite-outbox.ts for what a spread per row cost).
 */
export function toWireFrame(f: StoredFrame): Frame {
  const stats = f.imageStats;
  return {
    cameraId: f.cameraId,
    frameSeq: f.frameSeq,
    frameId: f.frameId,
    timestampMs: f.timestampMs,
    modelId: f.modelId,
    modelVersion: f.modelVersion,
    // The contract validates it; a bad value is caught when the batch is encoded.
    arm: f.arm as Arm,
    detectionCount: f.detectionCount,
    imageStats:
      stats === null
        ? undefined
        : {
            brightness: stats.brightness,
            contrast: stats.contrast,
            sharpness: stats.sharpness,
            saturation: stats.saturation,
            lumaGrid: stats.lumaGrid,
          },
  };
}

/** A detection on the wire; model and arm travel only when they differ from its frame's (shadow detections). */
export function toWireDetection(
  d: StoredDetection,
  frame?: Pick<StoredFrame, 'modelId' | 'modelVersion' | 'arm'>,
): Detection {
  const wire: Detection = {
    cameraId: d.cameraId,
    seq: d.seq,
    frameSeq: d.frameSeq,
    classId: d.classId,
    label: d.label,
    score: d.score,
    x1: d.box[0],
    y1: d.box[1],
    x2: d.box[2],
    y2: d.box[3],
  };
  if (!frame || (d.modelId === frame.modelId && d.modelVersion === frame.modelVersion && d.arm === frame.arm))
    return wire;
  return { ...wire, modelId: d.modelId, modelVersion: d.modelVersion, arm: d.arm as Arm };
}

export class OutboxBatcher {
  private pending: PendingFrame[] = [];
  private head = 0;
  private pendingBytes = 0;
  private cursor = 0;
  private avgFrameBytes = 0;

  constructor(
    private readonly outbox: Outbox,
    private limits: BatchLimits,
  ) {}

  /** New limits from the next batch on (e.g. a broker's maximum packet size learnt at connect). */
  setLimits(limits: BatchLimits): void {
    this.limits = limits;
  }

  /** Highest frame row id read from the outbox since the last rewind (0 after a rewind). */
  get readUpTo(): number {
    return this.cursor;
  }

  /** Frames read ahead and not yet handed out. */
  get pendingFrames(): number {
    return this.pending.length - this.head;
  }

  /** Forgets the read-ahead; the next batch starts at the oldest row still in the outbox. */
  rewind(): void {
    this.pending = [];
    this.head = 0;
    this.pendingBytes = 0;
    this.cursor = 0;
  }

  /** Puts frames back in front of the read-ahead (in their order), e.g. the valid rest of a rejected batch. */
  unshift(frames: readonly PendingFrame[]): void {
    if (frames.length === 0) return;
    this.pending = [...frames, ...this.pending.slice(this.head)];
    this.head = 0;
    this.pendingBytes += frames.reduce((s, f) => s + f.bytes, 0);
  }

  /**
   * The next batch (at least one frame, within the limits unless one frame alone exceeds them), or null
   * when the outbox has nothing unsent. `frameLimit` lowers the frame limit for this batch only.
   */
  next(frameLimit = this.limits.maxFrames): OutboxBatch | null {
    this.fill();
    if (this.pendingFrames === 0) return null;
    const maxFrames = Math.min(frameLimit, this.limits.maxFrames);
    const { maxBytes } = this.limits;
    const frames: PendingFrame[] = [];
    let bytes = 0;
    let detections = 0;
    while (this.head < this.pending.length && frames.length < maxFrames) {
      const f = this.pending[this.head] as PendingFrame;
      if (frames.length > 0 && bytes + f.bytes > maxBytes) break;
      frames.push(f);
      bytes += f.bytes;
      detections += f.detections.length;
      this.pendingBytes -= f.bytes;
      this.head++;
      // Refill mid-batch when the read-ahead ran dry before the batch is full.
      if (this.head === this.pending.length && frames.length < maxFrames && bytes < maxBytes) this.fill();
    }
    this.compact();
    return { frames, bytes, detections, lastRowId: (frames[frames.length - 1] as PendingFrame).rowId };
  }

  /** Reads ahead until one full batch is buffered or the outbox has nothing more. */
  private fill(): void {
    const { maxFrames, maxBytes } = this.limits;
    const have = this.pendingFrames;
    if (have >= maxFrames || this.pendingBytes >= maxBytes) return;
    const wanted =
      this.avgFrameBytes > 0 ? Math.ceil((maxBytes - this.pendingBytes) / this.avgFrameBytes) + 1 : FIRST_PEEK_FRAMES;
    const limit = Math.max(1, Math.min(maxFrames - have, wanted));
    const { frames, detections } = this.outbox.peekFrames(limit, this.cursor);
    let d = 0;
    let readBytes = 0;
    for (const f of frames) {
      // Detections come in (frame, row) order, so each frame's are the next run.
      while (d < detections.length && (detections[d] as StoredDetection).frameRowId < f.rowId) d++;
      const own: Detection[] = [];
      while (d < detections.length && (detections[d] as StoredDetection).frameRowId === f.rowId) {
        own.push(toWireDetection(detections[d] as StoredDetection, f));
        d++;
      }
      const frame = toWireFrame(f);
      const bytes = frameWireSize(frame) + own.reduce((s, x) => s + detectionWireSize(x), 0);
      this.pending.push({ rowId: f.rowId, frame, detections: own, bytes });
      this.pendingBytes += bytes;
      readBytes += bytes;
      this.cursor = f.rowId;
    }
    if (frames.length > 0) {
      const avg = readBytes / frames.length;
      this.avgFrameBytes = this.avgFrameBytes === 0 ? avg : 0.7 * this.avgFrameBytes + 0.3 * avg;
    }
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
  }
}
