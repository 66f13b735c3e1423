import type { CandidateMode, ModelArm, ModelState, RollbackPolicy } from '@edgefleet/proto';
import { CpError } from '../errors.js';
import type { SqlExecutor, SqlQueryable } from './sql-executor.js';
import { sqlStateOf } from './storage-errors.js';
import type {
  AgentInfo,
  AssignmentAction,
  AssignmentHistoryRow,
  AssignmentHistoryWrite,
  AssignmentRow,
  AssignmentWrite,
  AuditFilter,
  AuditInput,
  AuditRecord,
  CameraRecord,
  CameraUpdate,
  HistoryFingerprint,
  ModelListFilter,
  ModelRecord,
  ModelStatusRow,
  ModelStatusWrite,
  NewModel,
  RegistryQueries,
  RegistryStore,
} from './registry-store.js';

/**
 * The RegistryStore in SQL, shared by PostgreSQL and PGlite. Drivers differ in how they return
 * bigint (pg: string, PGlite: number) and bytea (Buffer / Uint8Array), so every bigint is read as
 * float8 and every row is converted here; JSON travels as text and is cast in SQL, as in sql-store.ts.
 */

type Row = Record<string, unknown>;

function fail(what: string, err: unknown): CpError {
  if (err instanceof CpError) return err;
  return new CpError('CP_ERR_STORAGE', `${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const json = (v: unknown): unknown => (v === null || v === undefined ? null : JSON.parse(String(v)));
const ms = (v: unknown): number => Number(v);
const epochMs = (column: string, alias = column): string =>
  `(extract(epoch FROM ${column}) * 1000)::float8 AS ${alias}`;

const MODEL_COLUMNS = `serial::float8 AS serial, name, version, sha256, size_bytes::float8 AS size_bytes, signature, key_id,
  class_names::text AS class_names, input_width, input_height, adapter, metrics::text AS metrics,
  parent_serial::float8 AS parent_serial, created_by, ${epochMs('created_at')}`;

function toModel(r: Row): ModelRecord {
  return {
    serial: num(r.serial),
    name: String(r.name),
    version: String(r.version),
    sha256: String(r.sha256),
    sizeBytes: num(r.size_bytes),
    signature: new Uint8Array(r.signature as Uint8Array),
    keyId: String(r.key_id),
    classNames: json(r.class_names) as string[],
    inputWidth: num(r.input_width),
    inputHeight: num(r.input_height),
    adapter: String(r.adapter),
    metrics: json(r.metrics),
    parentSerial: numOrNull(r.parent_serial),
    createdBy: String(r.created_by),
    createdAt: ms(r.created_at),
  };
}

const CAMERA_COLUMNS = `device_id, camera_id, source, status, last_error, ${epochMs('updated_at')}`;

function toCamera(r: Row): CameraRecord {
  return {
    deviceId: String(r.device_id),
    cameraId: String(r.camera_id),
    source: String(r.source),
    status: r.status === null ? null : String(r.status),
    lastError: r.last_error === null ? null : String(r.last_error),
    updatedAt: ms(r.updated_at),
  };
}

const ASSIGNMENT_COLUMNS = `device_id, camera_id, primary_serial::float8 AS primary_serial, candidate_serial::float8 AS candidate_serial,
  candidate_mode, split_basis_points, rollback, reason, revision::float8 AS revision, policy::text AS policy,
  previous_primaries::text AS previous_primaries, updated_by, ${epochMs('updated_at')}`;

function toAssignment(r: Row): AssignmentRow {
  return {
    deviceId: String(r.device_id),
    cameraId: String(r.camera_id),
    primarySerial: num(r.primary_serial),
    candidateSerial: numOrNull(r.candidate_serial),
    candidateMode: (r.candidate_mode ?? null) as CandidateMode | null,
    splitBasisPoints: num(r.split_basis_points),
    rollback: r.rollback === true,
    reason: String(r.reason),
    revision: num(r.revision),
    policy: json(r.policy) as RollbackPolicy | null,
    previousPrimaries: (json(r.previous_primaries) as number[]).map(Number),
    updatedBy: String(r.updated_by),
    updatedAt: ms(r.updated_at),
  };
}

const HISTORY_COLUMNS = `revision::float8 AS revision, device_id, camera_id, action, primary_serial::float8 AS primary_serial,
  candidate_serial::float8 AS candidate_serial, candidate_mode, split_basis_points, rollback, reason, policy::text AS policy,
  actor, ${epochMs('recorded_at')}`;

function toHistory(r: Row): AssignmentHistoryRow {
  return {
    revision: num(r.revision),
    deviceId: String(r.device_id),
    cameraId: String(r.camera_id),
    action: String(r.action) as AssignmentAction,
    primarySerial: numOrNull(r.primary_serial),
    candidateSerial: numOrNull(r.candidate_serial),
    candidateMode: (r.candidate_mode ?? null) as CandidateMode | null,
    splitBasisPoints: num(r.split_basis_points),
    rollback: r.rollback === true,
    reason: String(r.reason),
    policy: json(r.policy) as RollbackPolicy | null,
    actor: String(r.actor),
    recordedAt: ms(r.recorded_at),
  };
}

const STATUS_COLUMNS = `device_id, camera_id, arm, sha256, model_id, version, state, reason, revision::float8 AS revision,
  rolled_back_to, bytes_done::float8 AS bytes_done, ${epochMs('reported_at')}, ${epochMs('received_at')}`;

function toStatus(r: Row): ModelStatusRow {
  return {
    deviceId: String(r.device_id),
    cameraId: String(r.camera_id),
    arm: String(r.arm) as ModelArm,
    sha256: String(r.sha256),
    modelId: String(r.model_id),
    version: String(r.version),
    state: String(r.state) as ModelState,
    reason: String(r.reason),
    revision: num(r.revision),
    rolledBackTo: String(r.rolled_back_to),
    bytesDone: num(r.bytes_done),
    reportedAt: ms(r.reported_at),
    receivedAt: ms(r.received_at),
  };
}

const AUDIT_COLUMNS = `id::float8 AS id, ${epochMs('at')}, actor, action, target, details::text AS details`;

function toAudit(r: Row): AuditRecord {
  return {
    id: num(r.id),
    at: ms(r.at),
    actor: String(r.actor),
    action: String(r.action),
    target: String(r.target),
    details: (json(r.details) ?? {}) as Record<string, unknown>,
  };
}

/** A table with one row per camera, keyed by (device_id, camera_id). */
interface PerCameraTable<T> {
  readonly name: string;
  /** What one row is, for error messages (`get camera`, `list cameras`). */
  readonly record: string;
  readonly columns: string;
  readonly toRecord: (r: Row) => T;
}

const CAMERAS: PerCameraTable<CameraRecord> = {
  name: 'cameras',
  record: 'camera',
  columns: CAMERA_COLUMNS,
  toRecord: toCamera,
};
const ASSIGNMENTS: PerCameraTable<AssignmentRow> = {
  name: 'assignments',
  record: 'assignment',
  columns: ASSIGNMENT_COLUMNS,
  toRecord: toAssignment,
};

const iso = (t: number): string => new Date(t).toISOString();
const jsonText = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/** The queries over one connection: the pool (autocommit) or one transaction. */
class SqlRegistryQueries implements RegistryQueries {
  constructor(
    protected readonly db: SqlQueryable,
    private readonly inTransaction: boolean,
  ) {}

  private async rows(what: string, sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    try {
      return (await this.db.query<Row>(sql, params)).rows;
    } catch (err) {
      throw fail(what, err);
    }
  }

  /** The row of one camera in a table keyed by (device_id, camera_id), or null. */
  private async cameraRow<T>(table: PerCameraTable<T>, key: { deviceId: string; cameraId: string }): Promise<T | null> {
    const rows = await this.rows(
      `get ${table.record}`,
      `SELECT ${table.columns} FROM ${table.name} WHERE device_id = $1 AND camera_id = $2`,
      [key.deviceId, key.cameraId],
    );
    return rows[0] ? table.toRecord(rows[0]) : null;
  }

  /** The rows of a table keyed by (device_id, camera_id): one device's, or every device's when none is given. */
  private async cameraRows<T>(table: PerCameraTable<T>, deviceId: string | undefined): Promise<T[]> {
    const rows = await this.rows(
      `list ${table.record}s`,
      `SELECT ${table.columns} FROM ${table.name} WHERE ($1::text IS NULL OR device_id = $1) ORDER BY device_id, camera_id`,
      [deviceId ?? null],
    );
    return rows.map(table.toRecord);
  }

  // ---- models -----------------------------------------------------------------------------------

  async nextModelSerial(): Promise<number> {
    const rows = await this.rows('next model serial', `SELECT nextval('models_serial_seq')::float8 AS n`);
    return num(rows[0]?.n);
  }

  async insertModel(m: NewModel): Promise<ModelRecord> {
    try {
      const { rows } = await this.db.query<Row>(
        `INSERT INTO models (serial, name, version, sha256, size_bytes, signature, key_id, class_names, input_width, input_height,
                             adapter, metrics, parent_serial, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9, $10, $11, $12::text::jsonb, $13, $14)
         RETURNING ${MODEL_COLUMNS}`,
        [
          m.serial,
          m.name,
          m.version,
          m.sha256,
          m.sizeBytes,
          Buffer.from(m.signature),
          m.keyId,
          JSON.stringify(m.classNames),
          m.inputWidth,
          m.inputHeight,
          m.adapter,
          jsonText(m.metrics),
          m.parentSerial,
          m.createdBy,
        ],
      );
      return toModel(rows[0] as Row);
    } catch (err) {
      const state = sqlStateOf(err);
      if (state === '23505') throw new CpError('CP_ERR_MODEL_EXISTS', `${m.name} ${m.version}`, { cause: err });
      if (state === '23514' || state === '22021') {
        throw new CpError(
          'CP_ERR_MODEL_NAME',
          `the registry refuses name ${JSON.stringify(m.name)} / version ${JSON.stringify(m.version)}: ${(err as Error).message}`,
          { cause: err },
        );
      }
      throw fail('insert model', err);
    }
  }

  async getModel(serial: number): Promise<ModelRecord | null> {
    const rows = await this.rows('get model', `SELECT ${MODEL_COLUMNS} FROM models WHERE serial = $1`, [serial]);
    return rows[0] ? toModel(rows[0]) : null;
  }

  async findModel(name: string, version: string): Promise<ModelRecord | null> {
    const rows = await this.rows('find model', `SELECT ${MODEL_COLUMNS} FROM models WHERE name = $1 AND version = $2`, [
      name,
      version,
    ]);
    return rows[0] ? toModel(rows[0]) : null;
  }

  async findModelBySha256(sha256: string): Promise<ModelRecord | null> {
    const rows = await this.rows(
      'find model by sha256',
      `SELECT ${MODEL_COLUMNS} FROM models WHERE sha256 = $1 ORDER BY serial DESC LIMIT 1`,
      [sha256],
    );
    return rows[0] ? toModel(rows[0]) : null;
  }

  async listModels(f: ModelListFilter): Promise<ModelRecord[]> {
    const rows = await this.rows(
      'list models',
      `SELECT ${MODEL_COLUMNS} FROM models
        WHERE ($1::text IS NULL OR name = $1) AND ($2::bigint IS NULL OR serial < $2)
        ORDER BY serial DESC LIMIT $3`,
      [f.name ?? null, f.beforeSerial ?? null, f.limit],
    );
    return rows.map(toModel);
  }

  // ---- devices and cameras ------------------------------------------------------------------------

  async deviceExists(deviceId: string): Promise<boolean> {
    return (await this.rows('device exists', 'SELECT 1 FROM devices WHERE id = $1', [deviceId])).length > 0;
  }

  async recordAgent(a: AgentInfo): Promise<void> {
    await this.rows(
      'record agent',
      `UPDATE devices SET agent_version = $2, hardware = $3, providers = $4::text::jsonb, agent_seen_at = $5::text::timestamptz,
              last_seen = GREATEST(last_seen, $5::text::timestamptz)
        WHERE id = $1`,
      [a.deviceId, a.agentVersion, a.hardware, JSON.stringify(a.providers), iso(a.seenAt)],
    );
  }

  async upsertCameras(deviceId: string, cameras: readonly CameraUpdate[], seenAt: number): Promise<void> {
    if (cameras.length === 0) return;
    // One statement for all cameras. A NULL status keeps the stored one; an empty source never replaces a known one.
    await this.rows(
      'upsert cameras',
      `INSERT INTO cameras (device_id, camera_id, source, status, last_error, updated_at)
       SELECT $1, u.camera_id, coalesce(u.source, ''), u.status, u.last_error, $5::text::timestamptz
         FROM unnest($2::text[], $3::text[], $4::text[], $6::text[]) AS u(camera_id, source, status, last_error)
       ON CONFLICT (device_id, camera_id) DO UPDATE SET
         source = CASE WHEN EXCLUDED.source = '' THEN cameras.source ELSE EXCLUDED.source END,
         status = coalesce(EXCLUDED.status, cameras.status),
         last_error = CASE WHEN EXCLUDED.status IS NULL THEN cameras.last_error ELSE EXCLUDED.last_error END,
         updated_at = GREATEST(cameras.updated_at, EXCLUDED.updated_at)`,
      [
        deviceId,
        cameras.map((c) => c.cameraId),
        cameras.map((c) => c.source ?? null),
        cameras.map((c) => c.status ?? null),
        iso(seenAt),
        cameras.map((c) => (c.status === undefined ? null : (c.lastError ?? ''))),
      ],
    );
  }

  getCamera(deviceId: string, cameraId: string): Promise<CameraRecord | null> {
    return this.cameraRow(CAMERAS, { deviceId, cameraId });
  }

  listCameras(deviceId?: string): Promise<CameraRecord[]> {
    return this.cameraRows(CAMERAS, deviceId);
  }

  // ---- assignments --------------------------------------------------------------------------------

  async lockCamera(deviceId: string, cameraId: string): Promise<void> {
    if (!this.inTransaction) return;
    // Two 32-bit keys: this namespace, and a hash of the camera (a collision only serialises two cameras).
    await this.rows('lock camera', `SELECT pg_advisory_xact_lock(1634953825, hashtext($1))`, [
      `${deviceId}/${cameraId}`,
    ]);
  }

  async nextRevision(): Promise<number> {
    const rows = await this.rows('next revision', `SELECT nextval('assignment_revision_seq')::float8 AS n`);
    return num(rows[0]?.n);
  }

  getAssignment(deviceId: string, cameraId: string): Promise<AssignmentRow | null> {
    return this.cameraRow(ASSIGNMENTS, { deviceId, cameraId });
  }

  listAssignments(deviceId?: string): Promise<AssignmentRow[]> {
    return this.cameraRows(ASSIGNMENTS, deviceId);
  }

  async putAssignment(a: AssignmentWrite): Promise<void> {
    await this.rows(
      'put assignment',
      `INSERT INTO assignments (device_id, camera_id, primary_serial, candidate_serial, candidate_mode, split_basis_points, rollback,
                                reason, revision, policy, previous_primaries, updated_by, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb, $11::text::jsonb, $12, now())
       ON CONFLICT (device_id, camera_id) DO UPDATE SET
         primary_serial = EXCLUDED.primary_serial, candidate_serial = EXCLUDED.candidate_serial,
         candidate_mode = EXCLUDED.candidate_mode, split_basis_points = EXCLUDED.split_basis_points,
         rollback = EXCLUDED.rollback, reason = EXCLUDED.reason, revision = EXCLUDED.revision, policy = EXCLUDED.policy,
         previous_primaries = EXCLUDED.previous_primaries, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at`,
      [
        a.deviceId,
        a.cameraId,
        a.primarySerial,
        a.candidateSerial,
        a.candidateMode,
        a.splitBasisPoints,
        a.rollback,
        a.reason,
        a.revision,
        jsonText(a.policy),
        JSON.stringify(a.previousPrimaries),
        a.updatedBy,
      ],
    );
  }

  async deleteAssignment(deviceId: string, cameraId: string): Promise<void> {
    await this.rows('delete assignment', 'DELETE FROM assignments WHERE device_id = $1 AND camera_id = $2', [
      deviceId,
      cameraId,
    ]);
  }

  async appendAssignmentHistory(h: AssignmentHistoryWrite): Promise<void> {
    await this.rows(
      'append assignment history',
      `INSERT INTO assignment_history (revision, device_id, camera_id, action, primary_serial, candidate_serial, candidate_mode,
                                       split_basis_points, rollback, reason, policy, actor)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::jsonb, $12)`,
      [
        h.revision,
        h.deviceId,
        h.cameraId,
        h.action,
        h.primarySerial,
        h.candidateSerial,
        h.candidateMode,
        h.splitBasisPoints,
        h.rollback,
        h.reason,
        jsonText(h.policy),
        h.actor,
      ],
    );
  }

  async assignmentHistory(deviceId: string, cameraId: string, limit: number): Promise<AssignmentHistoryRow[]> {
    const rows = await this.rows(
      'assignment history',
      `SELECT ${HISTORY_COLUMNS} FROM assignment_history WHERE device_id = $1 AND camera_id = $2 ORDER BY revision DESC LIMIT $3`,
      [deviceId, cameraId, limit],
    );
    return rows.map(toHistory);
  }

  async historyFingerprint(): Promise<HistoryFingerprint> {
    const rows = await this.rows(
      'history fingerprint',
      `SELECT count(*)::float8 AS n, coalesce(max(revision), 0)::float8 AS m FROM assignment_history`,
    );
    return { rows: num(rows[0]?.n), maxRevision: num(rows[0]?.m) };
  }

  async historyCounts(deviceIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (deviceIds.length === 0) return out;
    const rows = await this.rows(
      'history counts',
      `SELECT device_id, count(*)::float8 AS n FROM assignment_history WHERE device_id = ANY($1::text[]) GROUP BY device_id`,
      [[...deviceIds]],
    );
    for (const r of rows) out.set(String(r.device_id), num(r.n));
    return out;
  }

  // ---- model status -------------------------------------------------------------------------------

  async recordModelStatus(s: ModelStatusWrite): Promise<void> {
    const params = [
      s.deviceId,
      s.cameraId,
      s.arm,
      s.sha256,
      s.modelId,
      s.version,
      s.state,
      s.reason,
      s.revision,
      s.rolledBackTo,
      s.bytesDone,
      iso(s.reportedAt),
    ];
    const values = `VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text::timestamptz)`;
    const columns = `(device_id, camera_id, arm, sha256, model_id, version, state, reason, revision, rolled_back_to, bytes_done, reported_at)`;
    await this.rows(
      'record model status',
      `WITH h AS (INSERT INTO model_status_history ${columns} ${values} RETURNING 1)
       INSERT INTO model_status ${columns} ${values}
       ON CONFLICT (device_id, camera_id, arm) DO UPDATE SET
         sha256 = EXCLUDED.sha256, model_id = EXCLUDED.model_id, version = EXCLUDED.version, state = EXCLUDED.state,
         reason = EXCLUDED.reason, revision = EXCLUDED.revision, rolled_back_to = EXCLUDED.rolled_back_to,
         bytes_done = EXCLUDED.bytes_done, reported_at = EXCLUDED.reported_at, received_at = now()`,
      params,
    );
  }

  async latestModelStatus(deviceId: string | null, cameraId?: string): Promise<ModelStatusRow[]> {
    const rows = await this.rows(
      'latest model status',
      `SELECT ${STATUS_COLUMNS} FROM model_status WHERE ($1::text IS NULL OR device_id = $1) AND ($2::text IS NULL OR camera_id = $2) ORDER BY device_id, camera_id, arm`,
      [deviceId, cameraId ?? null],
    );
    return rows.map(toStatus);
  }

  async modelStatusHistory(deviceId: string, limit: number, cameraId?: string): Promise<ModelStatusRow[]> {
    const rows = await this.rows(
      'model status history',
      `SELECT ${STATUS_COLUMNS} FROM model_status_history WHERE device_id = $1 AND ($2::text IS NULL OR camera_id = $2) ORDER BY id DESC LIMIT $3`,
      [deviceId, cameraId ?? null, limit],
    );
    return rows.map(toStatus);
  }

  // ---- audit log ----------------------------------------------------------------------------------

  async appendAudit(e: AuditInput): Promise<AuditRecord> {
    const rows = await this.rows(
      'append audit',
      `INSERT INTO audit_log (actor, action, target, details) VALUES ($1, $2, $3, $4::text::jsonb) RETURNING ${AUDIT_COLUMNS}`,
      [e.actor, e.action, e.target, JSON.stringify(e.details ?? {})],
    );
    return toAudit(rows[0] as Row);
  }

  async listAudit(f: AuditFilter): Promise<AuditRecord[]> {
    const rows = await this.rows(
      'list audit',
      `SELECT ${AUDIT_COLUMNS} FROM audit_log
        WHERE ($1::text IS NULL OR target = $1) AND ($2::text IS NULL OR action = $2) AND ($3::bigint IS NULL OR id < $3)
        ORDER BY id DESC LIMIT $4`,
      [f.target ?? null, f.action ?? null, f.beforeId ?? null, f.limit],
    );
    return rows.map(toAudit);
  }
}

export class SqlRegistryStore extends SqlRegistryQueries implements RegistryStore {
  constructor(private readonly executor: SqlExecutor) {
    super(executor, false);
  }

  transaction<T>(fn: (tx: RegistryQueries) => Promise<T>): Promise<T> {
    return this.executor.transaction((tx) => fn(new SqlRegistryQueries(tx, true)));
  }
}
