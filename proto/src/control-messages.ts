/**
 * TypeScript shapes of the fleet.v1 control messages (fleet/v1/control.proto), field for field, in
 * protobufjs' camelCase names. Carried over gRPC (service fleet.v1.FleetControl): assignments pushed to
 * agents, artifact chunks, model status reports.
 */

/** How a candidate shares a camera with the primary. */
export const CANDIDATE_MODES = ['split', 'shadow'] as const;
export type CandidateMode = (typeof CANDIDATE_MODES)[number];

/** What an agent reports about one model on one camera. */
export const MODEL_STATES = [
  'received',
  'downloading',
  'verifying',
  'warming',
  'active',
  'failed',
  'rolled_back',
] as const;
export type ModelState = (typeof MODEL_STATES)[number];

/** Arms a model status report can be about (the telemetry arms). */
export const MODEL_ARMS = ['primary', 'candidate', 'shadow'] as const;
export type ModelArm = (typeof MODEL_ARMS)[number];

/** 100 % in basis points. */
export const FULL_SPLIT_BASIS_POINTS = 10_000;

export interface ModelDescriptor {
  readonly modelId: string;
  readonly version: string;
  /** Registry-wide monotonic upload number (>= 1): a lower serial is an older model (downgrade check). */
  readonly serial: number;
  /** Lower-case hex SHA-256 of the ONNX file. */
  readonly sha256: string;
  readonly sizeBytes: number;
  /** ed25519 signature of `modelSignaturePayload(this)`, 64 bytes. */
  readonly signature: Uint8Array;
  /** First 16 hex digits of SHA-256 over the raw 32-byte public key. */
  readonly keyId: string;
  readonly classNames: readonly string[];
  readonly inputWidth: number;
  readonly inputHeight: number;
}

/** Zero fields: the agent's configured defaults. */
export interface RollbackPolicy {
  readonly maxErrorRate: number;
  readonly errorWindowFrames: number;
  readonly p95LatencyBudgetMs: number;
  readonly latencyWindowFrames: number;
  readonly crashLoopRestarts: number;
  readonly crashLoopWindowS: number;
}

/** The policy with every field zero (all the agent's defaults); a partial policy is filled in from it. */
export const ZERO_ROLLBACK_POLICY: RollbackPolicy = Object.freeze({
  maxErrorRate: 0,
  errorWindowFrames: 0,
  p95LatencyBudgetMs: 0,
  latencyWindowFrames: 0,
  crashLoopRestarts: 0,
  crashLoopWindowS: 0,
});

export interface CameraAssignment {
  readonly cameraId: string;
  readonly primary: ModelDescriptor;
  /** Absent: no candidate. */
  readonly candidate?: ModelDescriptor;
  /** Set exactly when there is a candidate. */
  readonly candidateMode?: CandidateMode;
  /** Share of frames the candidate takes in split mode, 0..10000. */
  readonly splitBasisPoints: number;
  /** An explicit rollback: the agent accepts a primary with a lower serial than the one it runs. */
  readonly rollback: boolean;
  readonly reason: string;
  /** >= 1, monotonic across the fleet. */
  readonly revision: number;
  readonly policy?: RollbackPolicy;
}

export interface AssignmentSnapshot {
  readonly deviceId: string;
  readonly revision: number;
  readonly cameras: readonly CameraAssignment[];
  readonly sentAtMs: number;
}

export interface CameraInfo {
  readonly cameraId: string;
  readonly source: string;
}

export interface WatchAssignmentsRequest {
  readonly deviceId: string;
  readonly knownRevision: number;
  readonly agentVersion: string;
  readonly hardware: string;
  readonly providers: readonly string[];
  readonly cameras: readonly CameraInfo[];
}

export interface DownloadModelRequest {
  readonly sha256: string;
  readonly offset: number;
  /** 0: the server's default. */
  readonly chunkBytes: number;
}

export interface ModelChunk {
  readonly offset: number;
  readonly data: Uint8Array;
  readonly totalBytes: number;
}

export interface ModelStatusReport {
  readonly deviceId: string;
  readonly cameraId: string;
  readonly sha256: string;
  readonly modelId: string;
  readonly version: string;
  readonly arm: ModelArm;
  readonly state: ModelState;
  readonly reason: string;
  readonly revision: number;
  readonly atMs: number;
  /** rolled_back: sha256 the camera serves now (empty when none). */
  readonly rolledBackTo: string;
  /** downloading: bytes so far. */
  readonly bytesDone: number;
}

export interface ModelStatusAck {
  readonly accepted: boolean;
}
