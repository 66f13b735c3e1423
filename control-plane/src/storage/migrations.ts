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

/** The columns of an agent's model status report, kept both as the latest per camera and arm and as history. */
const MODEL_STATUS_COLUMNS = `  device_id      text NOT NULL,
  camera_id      text NOT NULL,
  arm            text NOT NULL,
  sha256         text NOT NULL,
  model_id       text NOT NULL,
  version        text NOT NULL,
  state          text NOT NULL,
  reason         text NOT NULL DEFAULT '',
  revision       bigint NOT NULL,
  rolled_back_to text NOT NULL DEFAULT '',
  bytes_done     bigint NOT NULL DEFAULT 0,
  reported_at    timestamptz NOT NULL,
  received_at    timestamptz NOT NULL DEFAULT now()`;

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
  {
    version: 2,
    name: 'model registry: models, cameras, assignments and their history, model status, append-only audit log',
    sql: `
-- What agents tell the control plane about themselves (WatchAssignments requests, status reports).
ALTER TABLE devices
  ADD COLUMN agent_version text,
  ADD COLUMN hardware      text,
  ADD COLUMN providers     jsonb,
  ADD COLUMN agent_seen_at timestamptz;

-- Cameras as devices report them (WatchAssignments requests, DeviceStatus), or provisioned by an admin
-- before the device reports them (assignments refer to a camera row).
CREATE TABLE cameras (
  device_id  text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  camera_id  text NOT NULL,
  -- Source kind and redacted URI as the agent reports it; '' when unknown (provisioned).
  source     text NOT NULL DEFAULT '',
  -- Last capture state (running | reconnecting | failed | provisioned) and error text.
  status     text,
  last_error text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, camera_id)
);

-- Registered artifacts. serial is the registry-wide monotonic upload number (downgrade check on the
-- agent); the signature covers (sha256, size, name, version, serial), see proto artifact-signature.ts, whose
-- payload is line-based: names and versions must not contain line breaks.
CREATE TABLE models (
  serial        bigserial PRIMARY KEY,
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 256 AND name !~ '[\\r\\n]'),
  version       text NOT NULL CHECK (length(version) BETWEEN 1 AND 256 AND version !~ '[\\r\\n]'),
  sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size_bytes    bigint NOT NULL CHECK (size_bytes > 0),
  signature     bytea NOT NULL CHECK (length(signature) = 64),
  key_id        text NOT NULL CHECK (key_id ~ '^[0-9a-f]{16}$'),
  class_names   jsonb NOT NULL,
  input_width   integer NOT NULL CHECK (input_width > 0),
  input_height  integer NOT NULL CHECK (input_height > 0),
  adapter       text NOT NULL,
  metrics       jsonb,
  parent_serial bigint REFERENCES models (serial),
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (name, version)
);
CREATE INDEX models_sha256 ON models (sha256);

-- One fleet-wide sequence: every change of a camera's assignment takes the next value.
CREATE SEQUENCE assignment_revision_seq AS bigint;

-- The current assignment per camera: a primary, optionally a candidate in split or shadow mode.
CREATE TABLE assignments (
  device_id          text NOT NULL,
  camera_id          text NOT NULL,
  primary_serial     bigint NOT NULL REFERENCES models (serial),
  candidate_serial   bigint REFERENCES models (serial),
  candidate_mode     text CHECK (candidate_mode IN ('split', 'shadow')),
  split_basis_points integer NOT NULL DEFAULT 0 CHECK (split_basis_points BETWEEN 0 AND 10000),
  rollback           boolean NOT NULL DEFAULT false,
  reason             text NOT NULL DEFAULT '',
  revision           bigint NOT NULL UNIQUE,
  policy             jsonb,
  -- Primaries this camera ran before the current one, oldest first: "roll back to previous" pops it.
  previous_primaries jsonb NOT NULL DEFAULT '[]',
  updated_by         text NOT NULL,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, camera_id),
  FOREIGN KEY (device_id, camera_id) REFERENCES cameras (device_id, camera_id) ON DELETE CASCADE,
  CHECK ((candidate_serial IS NULL) = (candidate_mode IS NULL)),
  CHECK (candidate_mode = 'split' OR split_basis_points = 0)
);

-- Every revision of every camera's assignment (append-only). primary_serial is NULL when the change
-- removed the camera's assignment. recorded_at and the per-device counts let replicas notice changes
-- written by another replica.
CREATE TABLE assignment_history (
  revision           bigint PRIMARY KEY,
  device_id          text NOT NULL,
  camera_id          text NOT NULL,
  action             text NOT NULL,
  primary_serial     bigint REFERENCES models (serial),
  candidate_serial   bigint REFERENCES models (serial),
  candidate_mode     text,
  split_basis_points integer NOT NULL DEFAULT 0,
  rollback           boolean NOT NULL DEFAULT false,
  reason             text NOT NULL DEFAULT '',
  policy             jsonb,
  actor              text NOT NULL,
  recorded_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX assignment_history_camera ON assignment_history (device_id, camera_id, revision);

-- What agents report about the models of their cameras: the latest per (device, camera, arm) and all of it.
CREATE TABLE model_status (
${MODEL_STATUS_COLUMNS},
  PRIMARY KEY (device_id, camera_id, arm)
);
CREATE TABLE model_status_history (
  id             bigserial PRIMARY KEY,
${MODEL_STATUS_COLUMNS}
);
CREATE INDEX model_status_history_device ON model_status_history (device_id, id);

-- Every change made through the control plane, append-only: the trigger refuses UPDATE, DELETE and
-- TRUNCATE for every database user, so the log cannot be edited through this schema.
CREATE TABLE audit_log (
  id      bigserial PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor   text NOT NULL,
  action  text NOT NULL,
  target  text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_target ON audit_log (target, id);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$fn$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
`,
  },
  {
    version: 3,
    name: 'image statistics of frames (brightness, contrast, sharpness, saturation, 4x4 luma grid), NULL when not sent',
    sql: `
-- fleet.v1.ImageStats of each frame, as the agent computed them; NULL on frames from agents that send none
-- (and on every row stored before). Added on the partitioned parent, so every partition has them.
ALTER TABLE frames
  ADD COLUMN brightness real,
  ADD COLUMN contrast   real,
  ADD COLUMN sharpness  real,
  ADD COLUMN saturation real,
  ADD COLUMN luma_grid  real[];
`,
  },
];

/** The advisory lock key of schema changes (migrations and partition maintenance). */
export const SCHEMA_LOCK_KEY = 0x65646766; // "edgf"

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Applies the pending migrations in one transaction; returns the versions applied. */
export async function applyMigrations(
  db: SqlExecutor,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
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
        throw new CpError(
          'CP_ERR_MIGRATION',
          `database schema version ${newest} is newer than the ${known} this control plane knows (downgrade?)`,
        );
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
