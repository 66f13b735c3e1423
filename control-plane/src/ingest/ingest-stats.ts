/**
 * Ingest counters (served by GET /api/v1/ingest/stats). Every message that reaches the ingest is
 * counted once as received and ends in exactly one of: stored (its rows committed, new or duplicate),
 * rejected (by reason), or abandoned (the control plane stopped before committing it; not acknowledged,
 * so the broker or device sends it again).
 */

export const REJECT_REASONS = [
  /** Payload above ingest.maxPayloadBytes; not decoded. */
  'oversized',
  /** Not a protobuf message of the topic's type. */
  'decode',
  /** Decoded but breaks a contract rule (ids, sequence numbers, scores, boxes, frame membership…). */
  'invalid',
  /** The payload's device_id is not the topic's device. */
  'device-mismatch',
  /** Text the database cannot store (NUL characters). */
  'unstorable',
  /** The database refused the message's rows (a data error isolated to this message). */
  'db-rejected',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export const MESSAGE_KINDS = ['detections', 'status', 'metrics'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

export interface IngestStatsSnapshot {
  readonly received: Record<MessageKind, number>;
  readonly stored: Record<MessageKind, number>;
  readonly rejected: Record<RejectReason, number>;
  readonly rejectedTotal: number;
  readonly abandoned: number;
  readonly insertedFrames: number;
  readonly insertedDetections: number;
  /** Rows already in the database (redeliveries), frames plus detections. */
  readonly duplicateRows: number;
  readonly flushes: number;
  readonly flushRetries: number;
  /** Rows waiting for or inside the current flush. */
  readonly pendingRows: number;
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

export class IngestStats {
  readonly received = zeros(MESSAGE_KINDS);
  readonly stored = zeros(MESSAGE_KINDS);
  readonly rejected = zeros(REJECT_REASONS);
  abandoned = 0;
  insertedFrames = 0;
  insertedDetections = 0;
  duplicateRows = 0;
  flushes = 0;
  flushRetries = 0;
  pendingRows = 0;

  snapshot(): IngestStatsSnapshot {
    return {
      received: { ...this.received },
      stored: { ...this.stored },
      rejected: { ...this.rejected },
      rejectedTotal: Object.values(this.rejected).reduce((a, b) => a + b, 0),
      abandoned: this.abandoned,
      insertedFrames: this.insertedFrames,
      insertedDetections: this.insertedDetections,
      duplicateRows: this.duplicateRows,
      flushes: this.flushes,
      flushRetries: this.flushRetries,
      pendingRows: this.pendingRows,
    };
  }
}
