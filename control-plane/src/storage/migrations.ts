import { CpError } from '../errors.js';
import type { SqlExecutor } from './sql-executor.js';

/**
 * Versioned schema migrations, applied at start in one transaction. Migration N brings the database
 * from version N-1 to N; append new ones, never edit shipped ones. An advisory lock serialises
 * replicas that start at the same time.
 */

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'devices, frames and detections partitioned by day',
    sql: `
CREATE TABLE devices (
  id              text PRIMARY KEY,
  -- scrypt hash of the device's MQTT password; NULL for devices only seen through telemetry.
  credential_hash text,
  enrolled_at     timestamptz,
  last_seen       timestamptz,
  online          boolean NOT NULL DEFAULT false,
  status          jsonb,
  status_at       timestamptz,
  metrics         jsonb,
  metrics_at      timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now()
);

-- Idempotency and partitioning: the idempotency key of a frame is (device, camera, frame_seq) and the
-- partition key is its capture time ts (by day). PostgreSQL requires a unique constraint on a
-- partitioned table to include the partition key, so the key is (device, camera, frame_seq, ts). That is
-- still idempotent: a frame's capture time is written once on the device and never changes, so a
-- redelivered row carries the same ts, lands in the same partition and conflicts with the first copy.
-- (A device that lost its outbox and restarts its sequence numbers produces new ts values, so its new
-- rows are kept instead of being mistaken for duplicates.)
CREATE TABLE frames (
  device_id       text        NOT NULL,
  camera_id       text        NOT NULL,
  frame_seq       bigint      NOT NULL,
  frame_id        bigint      NOT NULL,
  ts              timestamptz NOT NULL,
  model_id        text        NOT NULL,
  model_version   text        NOT NULL,
  arm             text        NOT NULL,
  detection_count integer     NOT NULL,
  ingested_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, camera_id, frame_seq, ts)
) PARTITION BY RANGE (ts);

-- Same reasoning: (device, camera, seq) plus the partition key ts, which is the frame's capture time.
CREATE TABLE detections (
  device_id     text        NOT NULL,
  camera_id     text        NOT NULL,
  seq           bigint      NOT NULL,
  frame_seq     bigint      NOT NULL,
  ts            timestamptz NOT NULL,
  model_id      text        NOT NULL,
  model_version text        NOT NULL,
  arm           text        NOT NULL,
  class_id      integer     NOT NULL,
  label         text        NOT NULL,
  score         real        NOT NULL,
  x1            real        NOT NULL,
  y1            real        NOT NULL,
  x2            real        NOT NULL,
  y2            real        NOT NULL,
  ingested_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, camera_id, seq, ts)
) PARTITION BY RANGE (ts);

-- Default partitions catch rows outside the created day range (a camera with a wrong clock, a backlog
-- older than the partitions, a day not created yet), so no row is ever rejected for its date.
-- Creating a day partition later moves such rows into it (see sql-store.ts), and retention deletes
-- old rows from here as well.
CREATE TABLE frames_default PARTITION OF frames DEFAULT;
CREATE TABLE detections_default PARTITION OF detections DEFAULT;
`,
  },
];

/** The advisory lock key of schema changes (migrations and partition maintenance). */
export const SCHEMA_LOCK_KEY = 0x65646766; // "edgf"

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Applies the pending migrations in one transaction; returns the versions applied. */
export async function applyMigrations(db: SqlExecutor, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  try {
    return await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
      await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      const applied = new Set(rows.map((r) => Number(r.version)));
      const newest = Math.max(0, ...applied);
      const known = Math.max(0, ...migrations.map((m) => m.version));
      if (newest > known) {
        throw new CpError('CP_ERR_MIGRATION', `database schema version ${newest} is newer than the ${known} this control plane knows (downgrade?)`);
      }
      const done: number[] = [];
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (applied.has(m.version)) continue;
        await tx.exec(m.sql);
        await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        done.push(m.version);
      }
      return done;
    });
  } catch (err) {
    if (err instanceof CpError) throw err;
    throw new CpError('CP_ERR_MIGRATION', (err as Error).message, { cause: err });
  }
}
