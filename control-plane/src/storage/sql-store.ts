import { CpError } from '../errors.js';
import {
  addDays,
  dayStart,
  defaultPartitionName,
  PARTITIONED_TABLES,
  partitionBounds,
  partitionDay,
  partitionName,
  type PartitionedTable,
} from './day-partitions.js';
import {
  nestedNumberArrayLiteral,
  nullableNumberArrayLiteral,
  numberArrayLiteral,
  textArrayLiteral,
} from './array-literal.js';
import { applyMigrations, SCHEMA_LOCK_KEY } from './migrations.js';
import type { RegistryStore } from './registry-store.js';
import type { SqlExecutor, SqlQueryable } from './sql-executor.js';
import { SqlRegistryStore } from './sql-registry-store.js';
import type {
  CountFilter,
  DetectionRow,
  DeviceMetricsUpdate,
  DeviceRecord,
  DeviceStatusUpdate,
  FrameRow,
  InsertResult,
  PartitionInfo,
  SequenceSummary,
  Store,
} from './store.js';

/**
 * The Store on top of an SqlExecutor: the same SQL for PostgreSQL and PGlite. Batches are inserted
 * with one statement: unnest() of one array per column, ON CONFLICT DO NOTHING, both tables in one
 * statement (and so one transaction), one round trip however many rows.
 */

const INSERT_BATCH_SQL = `
WITH f AS (
  INSERT INTO frames (device_id, camera_id, frame_seq, frame_id, ts, model_id, model_version, arm, detection_count,
                      brightness, contrast, sharpness, saturation, luma_grid)
  SELECT device_id, camera_id, frame_seq, frame_id, to_timestamp(ts_ms / 1000), model_id, model_version, arm, detection_count,
         brightness, contrast, sharpness, saturation, luma_grid::real[]
    FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::float8[], $6::text[], $7::text[], $8::text[], $9::int4[],
                $25::float4[], $26::float4[], $27::float4[], $28::float4[], $29::text[])
      AS u(device_id, camera_id, frame_seq, frame_id, ts_ms, model_id, model_version, arm, detection_count,
           brightness, contrast, sharpness, saturation, luma_grid)
  ON CONFLICT DO NOTHING
  RETURNING 1
), d AS (
  INSERT INTO detections (device_id, camera_id, seq, frame_seq, ts, model_id, model_version, arm, class_id, label, score, x1, y1, x2, y2)
  SELECT device_id, camera_id, seq, frame_seq, to_timestamp(ts_ms / 1000), model_id, model_version, arm, class_id, label, score, x1, y1, x2, y2
    FROM unnest($10::text[], $11::text[], $12::int8[], $13::int8[], $14::float8[], $15::text[], $16::text[], $17::text[],
                $18::int4[], $19::text[], $20::float4[], $21::float4[], $22::float4[], $23::float4[], $24::float4[])
      AS u(device_id, camera_id, seq, frame_seq, ts_ms, model_id, model_version, arm, class_id, label, score, x1, y1, x2, y2)
  ON CONFLICT DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM f)::int4 AS frames, (SELECT count(*) FROM d)::int4 AS detections`;

const DETECTION_COLUMNS = `device_id, camera_id, seq::float8 AS seq, frame_seq::float8 AS frame_seq,
  (extract(epoch FROM ts) * 1000)::float8 AS ts_ms, model_id, model_version, arm, class_id, label,
  score::float8 AS score, x1::float8 AS x1, y1::float8 AS y1, x2::float8 AS x2, y2::float8 AS y2`;

const DEVICE_COLUMNS = `id, credential_hash IS NOT NULL AS enrolled,
  (extract(epoch FROM enrolled_at) * 1000)::float8 AS enrolled_at, (extract(epoch FROM last_seen) * 1000)::float8 AS last_seen,
  online, status::text AS status, metrics::text AS metrics, agent_version, hardware, providers::text AS providers`;

interface DetectionDbRow {
  device_id: string;
  camera_id: string;
  seq: number;
  frame_seq: number;
  ts_ms: number;
  model_id: string;
  model_version: string;
  arm: string;
  class_id: number;
  label: string;
  score: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

const FRAME_COLUMNS = `device_id, camera_id, frame_seq::float8 AS frame_seq, frame_id::float8 AS frame_id,
  (extract(epoch FROM ts) * 1000)::float8 AS ts_ms, model_id, model_version, arm, detection_count,
  brightness::float8 AS brightness, contrast::float8 AS contrast, sharpness::float8 AS sharpness,
  saturation::float8 AS saturation, luma_grid::float8[] AS luma_grid`;

interface FrameDbRow {
  device_id: string;
  camera_id: string;
  frame_seq: number;
  frame_id: number;
  ts_ms: number;
  model_id: string;
  model_version: string;
  arm: string;
  detection_count: number;
  brightness: number | null;
  contrast: number | null;
  sharpness: number | null;
  saturation: number | null;
  luma_grid: number[] | null;
}

/** A stored frame; image statistics only when the row has them (all columns are written together). */
function toFrameRow(r: FrameDbRow): FrameRow {
  const row: FrameRow = {
    deviceId: r.device_id,
    cameraId: r.camera_id,
    frameSeq: Number(r.frame_seq),
    frameId: Number(r.frame_id),
    tsMs: Number(r.ts_ms),
    modelId: r.model_id,
    modelVersion: r.model_version,
    arm: r.arm,
    detectionCount: Number(r.detection_count),
  };
  if (r.brightness === null || r.luma_grid === null) return row;
  const imageStats = {
    brightness: Number(r.brightness),
    contrast: Number(r.contrast),
    sharpness: Number(r.sharpness),
    saturation: Number(r.saturation),
    lumaGrid: r.luma_grid.map(Number),
  };
  return { ...row, imageStats };
}

interface DeviceDbRow {
  id: string;
  enrolled: boolean;
  enrolled_at: number | null;
  last_seen: number | null;
  online: boolean;
  status: string | null;
  metrics: string | null;
  agent_version: string | null;
  hardware: string | null;
  providers: string | null;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function storageError(what: string, err: unknown): CpError {
  if (err instanceof CpError) return err;
  return new CpError('CP_ERR_STORAGE', `${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

function toDevice(r: DeviceDbRow): DeviceRecord {
  return {
    id: r.id,
    enrolled: r.enrolled,
    enrolledAt: r.enrolled_at === null ? null : Number(r.enrolled_at),
    lastSeen: r.last_seen === null ? null : Number(r.last_seen),
    online: r.online,
    status: r.status === null ? null : (JSON.parse(r.status) as unknown),
    metrics: r.metrics === null ? null : (JSON.parse(r.metrics) as unknown),
    agentVersion: r.agent_version,
    hardware: r.hardware,
    providers: r.providers === null ? [] : (JSON.parse(r.providers) as string[]),
  };
}

export class SqlStore implements Store {
  /** An own property (not a getter), so a spread copy of the store keeps it. */
  readonly registry: RegistryStore;

  constructor(
    readonly kind: 'postgres' | 'pglite',
    private readonly db: SqlExecutor,
  ) {
    this.registry = new SqlRegistryStore(db);
  }

  async ping(): Promise<void> {
    try {
      await this.db.query('SELECT 1');
    } catch (err) {
      throw storageError('ping', err);
    }
  }

  async migrate(): Promise<number[]> {
    return applyMigrations(this.db);
  }

  async insertBatch(frames: readonly FrameRow[], detections: readonly DetectionRow[]): Promise<InsertResult> {
    if (frames.length === 0 && detections.length === 0)
      return { insertedFrames: 0, insertedDetections: 0, duplicates: 0 };
    // Capture times travel as epoch ms and become timestamptz in SQL (to_timestamp rounds to the
    // microsecond, so the stored ts is the same for every redelivery of a row: the key stays stable).
    const params = [
      textArrayLiteral(frames.map((f) => f.deviceId)),
      textArrayLiteral(frames.map((f) => f.cameraId)),
      numberArrayLiteral(frames.map((f) => f.frameSeq)),
      numberArrayLiteral(frames.map((f) => f.frameId)),
      numberArrayLiteral(frames.map((f) => f.tsMs)),
      textArrayLiteral(frames.map((f) => f.modelId)),
      textArrayLiteral(frames.map((f) => f.modelVersion)),
      textArrayLiteral(frames.map((f) => f.arm)),
      numberArrayLiteral(frames.map((f) => f.detectionCount)),
      textArrayLiteral(detections.map((d) => d.deviceId)),
      textArrayLiteral(detections.map((d) => d.cameraId)),
      numberArrayLiteral(detections.map((d) => d.seq)),
      numberArrayLiteral(detections.map((d) => d.frameSeq)),
      numberArrayLiteral(detections.map((d) => d.tsMs)),
      textArrayLiteral(detections.map((d) => d.modelId)),
      textArrayLiteral(detections.map((d) => d.modelVersion)),
      textArrayLiteral(detections.map((d) => d.arm)),
      numberArrayLiteral(detections.map((d) => d.classId)),
      textArrayLiteral(detections.map((d) => d.label)),
      numberArrayLiteral(detections.map((d) => d.score)),
      numberArrayLiteral(detections.map((d) => d.x1)),
      numberArrayLiteral(detections.map((d) => d.y1)),
      numberArrayLiteral(detections.map((d) => d.x2)),
      numberArrayLiteral(detections.map((d) => d.y2)),
      // Image statistics last ($25..$29), NULL for frames without them; the grid as one text element per frame.
      nullableNumberArrayLiteral(frames.map((f) => f.imageStats?.brightness ?? null)),
      nullableNumberArrayLiteral(frames.map((f) => f.imageStats?.contrast ?? null)),
      nullableNumberArrayLiteral(frames.map((f) => f.imageStats?.sharpness ?? null)),
      nullableNumberArrayLiteral(frames.map((f) => f.imageStats?.saturation ?? null)),
      nestedNumberArrayLiteral(frames.map((f) => f.imageStats?.lumaGrid ?? null)),
    ];
    const nf = frames.length;
    const nd = detections.length;
    try {
      const { rows } = await this.db.query<{ frames: number; detections: number }>(INSERT_BATCH_SQL, params);
      const insertedFrames = Number(rows[0]?.frames ?? 0);
      const insertedDetections = Number(rows[0]?.detections ?? 0);
      return { insertedFrames, insertedDetections, duplicates: nf - insertedFrames + (nd - insertedDetections) };
    } catch (err) {
      throw storageError('insert batch', err);
    }
  }

  async recentDetections(deviceId: string, cameraId: string, limit: number): Promise<DetectionRow[]> {
    const n = Math.max(1, Math.min(10_000, Math.floor(limit)));
    try {
      // ORDER BY seq: the per-camera sequence is capture order, and (device, camera, seq) leads the primary
      // key, so this is a backward index scan per partition merged, not a sort of the camera's history.
      const { rows } = await this.db.query<DetectionDbRow>(
        `SELECT ${DETECTION_COLUMNS} FROM detections WHERE device_id = $1 AND camera_id = $2 ORDER BY seq DESC, ts DESC LIMIT $3`,
        [deviceId, cameraId, n],
      );
      return rows.map((r) => ({
        deviceId: r.device_id,
        cameraId: r.camera_id,
        seq: Number(r.seq),
        frameSeq: Number(r.frame_seq),
        tsMs: Number(r.ts_ms),
        modelId: r.model_id,
        modelVersion: r.model_version,
        arm: r.arm,
        classId: Number(r.class_id),
        label: r.label,
        score: Number(r.score),
        x1: Number(r.x1),
        y1: Number(r.y1),
        x2: Number(r.x2),
        y2: Number(r.y2),
      }));
    } catch (err) {
      throw storageError('recent detections', err);
    }
  }

  async recentFrames(deviceId: string, cameraId: string, limit: number): Promise<FrameRow[]> {
    const n = Math.max(1, Math.min(10_000, Math.floor(limit)));
    try {
      const { rows } = await this.db.query<FrameDbRow>(
        `SELECT ${FRAME_COLUMNS} FROM frames WHERE device_id = $1 AND camera_id = $2 ORDER BY frame_seq DESC, ts DESC LIMIT $3`,
        [deviceId, cameraId, n],
      );
      return rows.map(toFrameRow);
    } catch (err) {
      throw storageError('recent frames', err);
    }
  }

  private async count(table: PartitionedTable, filter: CountFilter): Promise<number> {
    try {
      const { rows } = await this.db.query<{ n: number }>(
        `SELECT count(*)::float8 AS n FROM ${table} WHERE ($1::text IS NULL OR device_id = $1) AND ($2::text IS NULL OR camera_id = $2)`,
        [filter.deviceId ?? null, filter.cameraId ?? null],
      );
      return Number(rows[0]?.n ?? 0);
    } catch (err) {
      throw storageError(`count ${table}`, err);
    }
  }

  countDetections(filter: CountFilter = {}): Promise<number> {
    return this.count('detections', filter);
  }

  countFrames(filter: CountFilter = {}): Promise<number> {
    return this.count('frames', filter);
  }

  async sequenceSummary(kind: 'frames' | 'detections', deviceId: string, cameraId: string): Promise<SequenceSummary> {
    const column = kind === 'frames' ? 'frame_seq' : 'seq';
    try {
      const { rows } = await this.db.query<{
        rows: number;
        distinct_seqs: number;
        min_seq: number | null;
        max_seq: number | null;
      }>(
        `SELECT count(*)::float8 AS rows, count(DISTINCT ${column})::float8 AS distinct_seqs,
                min(${column})::float8 AS min_seq, max(${column})::float8 AS max_seq
           FROM ${kind} WHERE device_id = $1 AND camera_id = $2`,
        [deviceId, cameraId],
      );
      const r = rows[0];
      return {
        rows: Number(r?.rows ?? 0),
        distinct: Number(r?.distinct_seqs ?? 0),
        min: r?.min_seq === null || r?.min_seq === undefined ? null : Number(r.min_seq),
        max: r?.max_seq === null || r?.max_seq === undefined ? null : Number(r.max_seq),
      };
    } catch (err) {
      throw storageError(`sequence summary of ${kind}`, err);
    }
  }

  async enrolDevice(deviceId: string, credentialHash: string, options: { replace?: boolean } = {}): Promise<void> {
    let rows: unknown[];
    try {
      // A device known only from telemetry (credential_hash NULL) can be enrolled; an enrolled one only replaced on request.
      ({ rows } = await this.db.query(
        `INSERT INTO devices (id, credential_hash, enrolled_at) VALUES ($1, $2, now())
         ON CONFLICT (id) DO UPDATE SET credential_hash = EXCLUDED.credential_hash, enrolled_at = EXCLUDED.enrolled_at
         WHERE devices.credential_hash IS NULL OR $3::boolean
         RETURNING id`,
        [deviceId, credentialHash, options.replace === true],
      ));
    } catch (err) {
      throw storageError('enrol device', err);
    }
    if (rows.length === 0) throw new CpError('CP_ERR_DEVICE_EXISTS', deviceId);
  }

  async deviceCredential(deviceId: string): Promise<string | null> {
    try {
      const { rows } = await this.db.query<{ credential_hash: string | null }>(
        'SELECT credential_hash FROM devices WHERE id = $1',
        [deviceId],
      );
      return rows[0]?.credential_hash ?? null;
    } catch (err) {
      throw storageError('device credential', err);
    }
  }

  async getDevice(deviceId: string): Promise<DeviceRecord | null> {
    try {
      const { rows } = await this.db.query<DeviceDbRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = $1`, [
        deviceId,
      ]);
      return rows[0] ? toDevice(rows[0]) : null;
    } catch (err) {
      throw storageError('get device', err);
    }
  }

  async listDevices(): Promise<DeviceRecord[]> {
    try {
      const { rows } = await this.db.query<DeviceDbRow>(`SELECT ${DEVICE_COLUMNS} FROM devices ORDER BY id`);
      return rows.map(toDevice);
    } catch (err) {
      throw storageError('list devices', err);
    }
  }

  async updateDeviceStatus(u: DeviceStatusUpdate): Promise<void> {
    try {
      // JSON travels as text and is cast in SQL, so neither driver re-encodes it.
      await this.db.query(
        `INSERT INTO devices (id, online, status, status_at, last_seen) VALUES ($1, $2, $3::text::jsonb, $4::text::timestamptz, $4::text::timestamptz)
         ON CONFLICT (id) DO UPDATE SET online = EXCLUDED.online, status = EXCLUDED.status, status_at = EXCLUDED.status_at,
           last_seen = GREATEST(devices.last_seen, EXCLUDED.last_seen)`,
        [u.deviceId, u.online, JSON.stringify(u.status), iso(u.seenAt)],
      );
    } catch (err) {
      throw storageError('update device status', err);
    }
  }

  async updateDeviceMetrics(u: DeviceMetricsUpdate): Promise<void> {
    try {
      await this.db.query(
        `INSERT INTO devices (id, metrics, metrics_at, last_seen) VALUES ($1, $2::text::jsonb, $3::text::timestamptz, $3::text::timestamptz)
         ON CONFLICT (id) DO UPDATE SET metrics = EXCLUDED.metrics, metrics_at = EXCLUDED.metrics_at,
           last_seen = GREATEST(devices.last_seen, EXCLUDED.last_seen)`,
        [u.deviceId, JSON.stringify(u.metrics), iso(u.seenAt)],
      );
    } catch (err) {
      throw storageError('update device metrics', err);
    }
  }

  async listPartitions(): Promise<PartitionInfo[]> {
    try {
      const { rows } = await this.db.query<{ parent: string; name: string }>(
        `SELECT p.relname AS parent, c.relname AS name
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
          WHERE i.inhparent IN ('frames'::regclass, 'detections'::regclass)
          ORDER BY p.relname, c.relname`,
      );
      return rows.map((r) => ({
        table: r.parent as PartitionedTable,
        name: r.name,
        day: partitionDay(r.name)?.day ?? null,
      }));
    } catch (err) {
      throw storageError('list partitions', err);
    }
  }

  async ensurePartitions(fromDay: string, days: number): Promise<string[]> {
    dayStart(fromDay);
    const existing = new Set((await this.listPartitions()).map((p) => p.name));
    const created: string[] = [];
    for (let i = 0; i < days; i++) {
      const day = addDays(fromDay, i);
      for (const table of PARTITIONED_TABLES) {
        const name = partitionName(table, day);
        if (existing.has(name)) continue;
        try {
          if (await this.db.transaction((tx) => this.createPartition(tx, table, day))) created.push(name);
        } catch (err) {
          throw storageError(`create partition ${name}`, err);
        }
      }
    }
    return created;
  }

  /** Creates one day partition; rows of that day already caught by the default partition move into it. */
  private async createPartition(tx: SqlQueryable, table: PartitionedTable, day: string): Promise<boolean> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
    const name = partitionName(table, day);
    const { rows: found } = await tx.query<{ oid: string | null }>('SELECT to_regclass($1)::text AS oid', [name]);
    if (found[0]?.oid) return false; // another replica created it meanwhile
    const { from, to } = partitionBounds(day);
    const def = defaultPartitionName(table);
    const { rows: stray } = await tx.query(`SELECT 1 FROM ${def} WHERE ts >= ${from} AND ts < ${to} LIMIT 1`);
    if (stray.length === 0) {
      await tx.exec(`CREATE TABLE ${name} PARTITION OF ${table} FOR VALUES FROM (${from}) TO (${to})`);
      return true;
    }
    // Attaching a range that the default partition holds rows of would fail; move them first. The lock
    // keeps inserts out of the default partition until the new one is attached.
    await tx.exec(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE;
      CREATE TABLE ${name} (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
      WITH moved AS (DELETE FROM ${def} WHERE ts >= ${from} AND ts < ${to} RETURNING *) INSERT INTO ${name} SELECT * FROM moved;
      ALTER TABLE ${table} ATTACH PARTITION ${name} FOR VALUES FROM (${from}) TO (${to});`);
    return true;
  }

  async dropPartitionsOlderThan(day: string): Promise<string[]> {
    const cutoff = dayStart(day);
    const old = (await this.listPartitions()).filter((p) => p.day !== null && dayStart(p.day) < cutoff);
    try {
      await this.db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
        for (const p of old) await tx.exec(`DROP TABLE IF EXISTS ${p.name}`);
        for (const table of PARTITIONED_TABLES) {
          await tx.query(`DELETE FROM ${defaultPartitionName(table)} WHERE ts < $1::text::timestamptz`, [iso(cutoff)]);
        }
      });
    } catch (err) {
      throw storageError('retention', err);
    }
    return old.map((p) => p.name);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
