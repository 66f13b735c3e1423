/**
 * The registry's storage seam: models, cameras, assignments with their history, model status reports
 * and the append-only audit log. Implemented once in SQL (sql-registry-store.ts) over the same
 * SqlExecutor as the Store, so it runs on PostgreSQL and PGlite alike; one conformance suite
 * (test/registry-conformance.ts) runs against both.
 *
 * The methods are primitives. Services (model registry, assignments) compose them inside
 * `transaction`, so a change, its history row and its audit entry commit together or not at all.
 */

import type { CandidateMode, ModelArm, ModelState, RollbackPolicy } from '@edgefleet/proto';

export interface ModelRecord {
  /** Registry-wide monotonic upload number (>= 1). */
  readonly serial: number;
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  /** ed25519 signature over `modelSignaturePayload` (64 bytes). */
  readonly signature: Uint8Array;
  readonly keyId: string;
  readonly classNames: readonly string[];
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** Detector adapter that recognised the outputs (`yolov8`, `yolox`). */
  readonly adapter: string;
  /** Free-form evaluation metrics (mAP …), or null. */
  readonly metrics: unknown;
  readonly parentSerial: number | null;
  readonly createdBy: string;
  /** ms since the Unix epoch. */
  readonly createdAt: number;
}

/** A model row to insert; the serial comes from `nextModelSerial` (it is part of the signed payload). */
export type NewModel = Omit<ModelRecord, 'createdAt'>;

export interface ModelListFilter {
  readonly name?: string;
  /** Only serials below this one (paging, newest first). */
  readonly beforeSerial?: number;
  readonly limit: number;
}

export interface AgentInfo {
  readonly deviceId: string;
  readonly agentVersion: string;
  readonly hardware: string;
  readonly providers: readonly string[];
  /** ms. */
  readonly seenAt: number;
}

export interface CameraUpdate {
  readonly cameraId: string;
  /** Undefined: keep the stored source. */
  readonly source?: string;
  /** Undefined: keep the stored status. */
  readonly status?: string;
  readonly lastError?: string;
}

export interface CameraRecord {
  readonly deviceId: string;
  readonly cameraId: string;
  readonly source: string;
  readonly status: string | null;
  readonly lastError: string | null;
  readonly updatedAt: number;
}

/** The current assignment of one camera. */
export interface AssignmentRow {
  readonly deviceId: string;
  readonly cameraId: string;
  readonly primarySerial: number;
  readonly candidateSerial: number | null;
  readonly candidateMode: CandidateMode | null;
  readonly splitBasisPoints: number;
  readonly rollback: boolean;
  readonly reason: string;
  readonly revision: number;
  readonly policy: RollbackPolicy | null;
  /** Primaries this camera ran before, oldest first (bounded). */
  readonly previousPrimaries: readonly number[];
  readonly updatedBy: string;
  readonly updatedAt: number;
}

/** What `putAssignment` writes (updatedAt is the database's clock). */
export type AssignmentWrite = Omit<AssignmentRow, 'updatedAt'>;

export const ASSIGNMENT_ACTIONS = ['assign', 'promote', 'rollback', 'auto-rollback', 'unassign'] as const;
export type AssignmentAction = (typeof ASSIGNMENT_ACTIONS)[number];

/** One revision of one camera's assignment; `primarySerial` null: the assignment was removed. */
export interface AssignmentHistoryRow {
  readonly revision: number;
  readonly deviceId: string;
  readonly cameraId: string;
  readonly action: AssignmentAction;
  readonly primarySerial: number | null;
  readonly candidateSerial: number | null;
  readonly candidateMode: CandidateMode | null;
  readonly splitBasisPoints: number;
  readonly rollback: boolean;
  readonly reason: string;
  readonly policy: RollbackPolicy | null;
  readonly actor: string;
  readonly recordedAt: number;
}

export type AssignmentHistoryWrite = Omit<AssignmentHistoryRow, 'recordedAt'>;

/** Changes to the history as a whole, cheap to poll: any new row changes it. */
export interface HistoryFingerprint {
  readonly rows: number;
  readonly maxRevision: number;
}

export interface ModelStatusRow {
  readonly deviceId: string;
  readonly cameraId: string;
  readonly arm: ModelArm;
  readonly sha256: string;
  readonly modelId: string;
  readonly version: string;
  readonly state: ModelState;
  readonly reason: string;
  readonly revision: number;
  readonly rolledBackTo: string;
  readonly bytesDone: number;
  /** The device's time of the report (ms). */
  readonly reportedAt: number;
  /** The control plane's time of receipt (ms). */
  readonly receivedAt: number;
}

export type ModelStatusWrite = Omit<ModelStatusRow, 'receivedAt'>;

export interface AuditInput {
  /** Who: `token:<name>` for REST callers, `device:<id>` for agents, `system` for the control plane itself. */
  readonly actor: string;
  /** What, as `area.verb`: `model.upload`, `assignment.assign`, `assignment.rollback`, `device.enrol` … */
  readonly action: string;
  /** Which object: `model:<serial>`, `device:<id>`, `camera:<device>/<camera>`. */
  readonly target: string;
  readonly details?: Record<string, unknown>;
}

export interface AuditRecord extends Required<AuditInput> {
  readonly id: number;
  /** ms. */
  readonly at: number;
}

export interface AuditFilter {
  readonly target?: string;
  readonly action?: string;
  /** Only ids below this one (paging, newest first). */
  readonly beforeId?: number;
  readonly limit: number;
}

export interface RegistryQueries {
  // Models
  /** Takes the next serial (a gap is left when the insert that needed it fails). */
  nextModelSerial(): Promise<number>;
  /** CP_ERR_MODEL_EXISTS when (name, version) is taken; CP_ERR_MODEL_NAME when the database refuses the name or version. */
  insertModel(model: NewModel): Promise<ModelRecord>;
  getModel(serial: number): Promise<ModelRecord | null>;
  findModel(name: string, version: string): Promise<ModelRecord | null>;
  /** The newest model with these bytes, or null. */
  findModelBySha256(sha256: string): Promise<ModelRecord | null>;
  /** Newest first. */
  listModels(filter: ModelListFilter): Promise<ModelRecord[]>;

  // Devices and cameras
  deviceExists(deviceId: string): Promise<boolean>;
  /** Agent version, hardware and providers of a device that exists (no row is created). */
  recordAgent(info: AgentInfo): Promise<void>;
  /** Creates or updates the device's cameras (the device row must exist). */
  upsertCameras(deviceId: string, cameras: readonly CameraUpdate[], seenAt: number): Promise<void>;
  getCamera(deviceId: string, cameraId: string): Promise<CameraRecord | null>;
  /** All cameras, or one device's, ordered by device and camera. */
  listCameras(deviceId?: string): Promise<CameraRecord[]>;

  // Assignments
  /** Serialises changes of one camera's assignment until the transaction ends (no-op outside one). */
  lockCamera(deviceId: string, cameraId: string): Promise<void>;
  nextRevision(): Promise<number>;
  getAssignment(deviceId: string, cameraId: string): Promise<AssignmentRow | null>;
  /** One device's assignments (or all), ordered by device and camera. */
  listAssignments(deviceId?: string): Promise<AssignmentRow[]>;
  putAssignment(row: AssignmentWrite): Promise<void>;
  deleteAssignment(deviceId: string, cameraId: string): Promise<void>;
  appendAssignmentHistory(row: AssignmentHistoryWrite): Promise<void>;
  /** Newest first. */
  assignmentHistory(deviceId: string, cameraId: string, limit: number): Promise<AssignmentHistoryRow[]>;
  historyFingerprint(): Promise<HistoryFingerprint>;
  /** History rows per device, for the given devices (devices without rows are absent). */
  historyCounts(deviceIds: readonly string[]): Promise<Map<string, number>>;

  // Model status
  /** Replaces the latest status of (device, camera, arm) and appends it to the history. */
  recordModelStatus(row: ModelStatusWrite): Promise<void>;
  /** Latest per camera and arm of one device (optionally one camera). */
  /** The latest report per camera and arm: of one device (and camera), or of every device when `deviceId` is null. */
  latestModelStatus(deviceId: string | null, cameraId?: string): Promise<ModelStatusRow[]>;
  /** Newest first. */
  modelStatusHistory(deviceId: string, limit: number, cameraId?: string): Promise<ModelStatusRow[]>;

  // Audit log
  appendAudit(entry: AuditInput): Promise<AuditRecord>;
  /** Newest first. */
  listAudit(filter: AuditFilter): Promise<AuditRecord[]>;
}

export interface RegistryStore extends RegistryQueries {
  /** Runs `fn` in one transaction: everything it wrote commits when it resolves and is undone when it throws. */
  transaction<T>(fn: (tx: RegistryQueries) => Promise<T>): Promise<T>;
}
