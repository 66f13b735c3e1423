import { decodeDetectionBatch, type DetectionBatch, type Frame } from '@edgefleet/proto';
import type { DetectionRow, FrameRow } from '../../storage/store.js';
import type { BatchWriter } from '../batch-writer.js';
import { rejected, STORED, type HandlerOutcome, type MessageHandler } from '../message-handler.js';
import { decodeDeviceMessage } from '../device-message.js';
import { hasNul } from '../proto-rejection.js';

/**
 * `{prefix}/{device}/detections`: a DetectionBatch becomes frame and detection rows, committed through
 * the batch writer. The codec checks the contract (ids, sequence numbers ≥ 1, scores, boxes, whole
 * frames); this handler adds the device check against the topic and what the database cannot store.
 */
export interface DetectionsHandlerDeps {
  readonly writer: BatchWriter;
  readonly maxPayloadBytes: number;
}

export class DetectionsHandler implements MessageHandler {
  constructor(private readonly deps: DetectionsHandlerDeps) {}

  async handle(deviceId: string, payload: Buffer): Promise<HandlerOutcome> {
    const decoded = decodeDeviceMessage(decodeDetectionBatch, payload, {
      deviceId,
      maxPayloadBytes: this.deps.maxPayloadBytes,
    });
    if (!decoded.ok) return decoded.outcome;
    const rows = batchToRows(decoded.message);
    if (typeof rows === 'string') return rejected('unstorable', rows);
    if (rows.detections.length === 0 && rows.frames.length === 0) return STORED;
    const outcome = await this.deps.writer.write(rows.frames, rows.detections);
    return outcome.ok ? STORED : rejected('db-rejected', (outcome.error as Error)?.message ?? String(outcome.error));
  }
}

/** Rows of a validated batch; a detection takes its capture time from its frame, and its model and arm too unless it names its own (shadow). Returns a reason string when unstorable. */
export function batchToRows(batch: DetectionBatch): { frames: FrameRow[]; detections: DetectionRow[] } | string {
  const deviceId = batch.deviceId;
  const byKey = new Map<string, Frame>();
  const frames: FrameRow[] = new Array(batch.frames.length);
  for (let i = 0; i < batch.frames.length; i++) {
    const f = batch.frames[i] as Frame;
    if (hasNul(f.modelId) || hasNul(f.modelVersion)) return `frames[${i}]: NUL character in model id or version`;
    byKey.set(`${f.cameraId}/${f.frameSeq}`, f);
    frames[i] = {
      deviceId,
      cameraId: f.cameraId,
      frameSeq: f.frameSeq,
      frameId: f.frameId,
      tsMs: f.timestampMs,
      modelId: f.modelId,
      modelVersion: f.modelVersion,
      arm: f.arm,
      detectionCount: f.detectionCount,
      // The codec validated them (ranges, a grid of 16); absent on frames of agents that send none.
      imageStats: f.imageStats,
    };
  }
  const detections: DetectionRow[] = new Array(batch.detections.length);
  for (let i = 0; i < batch.detections.length; i++) {
    const d = batch.detections[i]!;
    const f = byKey.get(`${d.cameraId}/${d.frameSeq}`);
    // The codec guarantees the frame is in the batch; checked again because the row needs its time.
    if (!f) return `detections[${i}]: frame ${d.cameraId}/${d.frameSeq} is not in the batch`;
    if (hasNul(d.label)) return `detections[${i}].label: NUL character`;
    if ((d.modelId !== undefined && hasNul(d.modelId)) || (d.modelVersion !== undefined && hasNul(d.modelVersion))) {
      return `detections[${i}]: NUL character in model id or version`;
    }
    detections[i] = {
      deviceId,
      cameraId: d.cameraId,
      seq: d.seq,
      frameSeq: d.frameSeq,
      tsMs: f.timestampMs,
      // A shadow model's detection names its own model and arm; others take their frame's.
      modelId: d.modelId || f.modelId,
      modelVersion: d.modelVersion || f.modelVersion,
      arm: d.arm || f.arm,
      classId: d.classId,
      label: d.label,
      score: d.score,
      x1: d.x1,
      y1: d.y1,
      x2: d.x2,
      y2: d.y2,
    };
  }
  return { frames, detections };
}
