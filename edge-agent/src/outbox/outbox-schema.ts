import type Database from 'better-sqlite3';
import { OutboxError } from './outbox-error.js';

/**
 * Outbox schema, versioned with `PRAGMA user_version`. Migration N brings the file from version N-1
 * to N; append new migrations, never edit shipped ones.
 */
const MIGRATIONS: readonly string[] = [
  // 1: initial schema.
  `
  -- AUTOINCREMENT: frame row ids are never reused, so a late ack for an evicted frame cannot delete a newer one.
  CREATE TABLE frames (
    row_id          INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id       TEXT    NOT NULL,
    camera_id       TEXT    NOT NULL,
    frame_seq       INTEGER NOT NULL,
    frame_id        INTEGER NOT NULL,
    ts_ms           INTEGER NOT NULL,
    model_id        TEXT    NOT NULL,
    model_version   TEXT    NOT NULL,
    arm             TEXT    NOT NULL,
    detection_count INTEGER NOT NULL,
    first_seq       INTEGER,
    last_seq        INTEGER,
    bytes           INTEGER NOT NULL,
    UNIQUE (camera_id, frame_seq)
  );
  -- Detections repeat the frame's identity columns so each row is self-describing once it leaves the device.
  CREATE TABLE detections (
    row_id        INTEGER PRIMARY KEY,
    frame_row_id  INTEGER NOT NULL,
    device_id     TEXT    NOT NULL,
    camera_id     TEXT    NOT NULL,
    seq           INTEGER NOT NULL,
    frame_seq     INTEGER NOT NULL,
    frame_id      INTEGER NOT NULL,
    ts_ms         INTEGER NOT NULL,
    model_id      TEXT    NOT NULL,
    model_version TEXT    NOT NULL,
    arm           TEXT    NOT NULL,
    class_id      INTEGER NOT NULL,
    label         TEXT    NOT NULL,
    score         REAL    NOT NULL,
    x1            REAL    NOT NULL,
    y1            REAL    NOT NULL,
    x2            REAL    NOT NULL,
    y2            REAL    NOT NULL
  );
  -- No UNIQUE (camera_id, seq): numbers come from camera_seq inside the same transaction (single writer),
  -- and that index cost about a third of the insert rate.
  CREATE INDEX detections_by_frame ON detections (frame_row_id);
  -- Last numbers handed out per camera; survives ack/eviction of every row so sequences never restart.
  CREATE TABLE camera_seq (
    camera_id      TEXT    PRIMARY KEY,
    last_frame_seq INTEGER NOT NULL,
    last_seq       INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO counters (name, value) VALUES ('evicted_frames', 0), ('evicted_detections', 0);
  `,
  // 2: image statistics of each frame; NULL on rows written before (no stats). luma_grid: 16 float32, little-endian.
  `
  ALTER TABLE frames ADD COLUMN brightness REAL;
  ALTER TABLE frames ADD COLUMN contrast   REAL;
  ALTER TABLE frames ADD COLUMN sharpness  REAL;
  ALTER TABLE frames ADD COLUMN saturation REAL;
  ALTER TABLE frames ADD COLUMN luma_grid  BLOB;
  `,
];

export const OUTBOX_SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to OUTBOX_SCHEMA_VERSION; refuses files written by a newer agent. */
export function migrateOutbox(db: Database.Database, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > OUTBOX_SCHEMA_VERSION) {
    throw new OutboxError(
      'open',
      `${path} has schema version ${current}, newer than the ${OUTBOX_SCHEMA_VERSION} this agent supports (downgrade after a newer agent wrote it?)`,
    );
  }
  for (let version = current + 1; version <= OUTBOX_SCHEMA_VERSION; version++) {
    const sql = MIGRATIONS[version - 1] as string;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    })();
  }
}
