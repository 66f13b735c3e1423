/**
 * The shapes of the REST answers the dashboard reads (only the fields it uses), for `// @ts-check` in
 * dashboard.js. Type-only: the page never loads this file. The API's own schemas are in src/api/schemas.ts.
 */

/** An error answer: `{ error: { code, message, fields? } }`. */
export interface ApiErrorBody {
  readonly error?: {
    readonly code?: string;
    readonly message?: string;
    readonly fields?: { readonly field: string; readonly message: string }[];
  };
}

/** GET /healthz */
export interface Health {
  readonly status: string;
  readonly store: string;
  readonly broker: { readonly mode: string };
}

/** GET /api/v1/ingest/stats */
export interface IngestStats {
  readonly insertedDetections: number;
  readonly insertedFrames: number;
  readonly rejectedTotal: number;
}

export interface Device {
  readonly id: string;
  readonly online: boolean;
  readonly lastSeen: string | null;
  readonly agentVersion?: string | null;
  readonly hardware?: string | null;
  readonly providers?: readonly string[] | null;
}

export interface Camera {
  readonly deviceId: string;
  readonly cameraId: string;
  readonly status?: string | null;
  readonly lastError?: string | null;
  readonly updatedAt: string | null;
}

/** What `ref()` names a model by. */
export interface ModelRef {
  readonly serial: number;
  readonly name: string;
  readonly version: string;
}

export interface Model extends ModelRef {
  readonly adapter: string;
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly classNames: readonly string[];
  readonly sizeBytes: number;
  readonly sha256: string;
  readonly metrics?: { readonly mAP50?: unknown } | null;
  readonly parentSerial?: number | null;
  readonly createdBy: string;
  readonly createdAt: string;
}

export interface Assignment {
  readonly deviceId: string;
  readonly cameraId: string;
  readonly revision: number;
  readonly primary: ModelRef;
  readonly candidate: ModelRef | null;
  readonly candidateMode: 'split' | 'shadow' | null;
  readonly splitPercent: number;
  readonly rollback: boolean;
}

/** One entry of GET /api/v1/model-status `latest`. */
export interface ModelStatus {
  readonly deviceId: string;
  readonly cameraId: string;
  readonly arm: string;
  readonly version: string;
  readonly state: string;
  readonly reason: string;
}

export interface AuditEntry {
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly details?: unknown;
}

export interface Detection {
  readonly seq: number;
  readonly ts: string;
  readonly label: string;
  readonly classId: number;
  readonly score: number;
  readonly box: readonly number[];
  readonly modelId?: string | null;
  readonly modelVersion?: string | null;
  readonly arm?: string | null;
}

export interface AssignmentHistoryEntry {
  readonly revision: number;
  readonly action: string;
  readonly primarySerial: number | null;
  readonly candidateSerial: number | null;
  readonly candidateMode: 'split' | 'shadow' | null;
  readonly splitBasisPoints: number;
  readonly actor: string;
  readonly reason: string;
  readonly recordedAt: string;
}
