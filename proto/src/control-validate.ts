import { isCameraId, isDeviceId } from './ids.js';
import {
  MAX_CAMERAS,
  MAX_CLASS_NAMES,
  MAX_ERROR_TEXT_LENGTH,
  MAX_MODEL_CHUNK_BYTES,
  MAX_PROVIDERS,
  MAX_TEXT_LENGTH,
} from './limits.js';
import {
  CANDIDATE_MODES,
  FULL_SPLIT_BASIS_POINTS,
  MODEL_ARMS,
  MODEL_STATES,
  type AssignmentSnapshot,
  type CameraAssignment,
  type DownloadModelRequest,
  type ModelChunk,
  type ModelDescriptor,
  type ModelStatusReport,
  type RollbackPolicy,
  type WatchAssignmentsRequest,
} from './control-messages.js';
import { invalid } from './proto-error.js';
import { assertUint32, assertUint64, render } from './uint64.js';

/**
 * The fleet.v1 control contract beyond what control.proto can say. Both sides run it: the sender before
 * it sends (a bug shows up where it is made), the receiver before it acts (a broken or hostile peer cannot
 * make an agent download a file of unknown hash or a control plane store garbage).
 */

const SHA256_HEX = /^[0-9a-f]{64}$/;
const KEY_ID = /^[0-9a-f]{16}$/;
const MODES: ReadonlySet<string> = new Set(CANDIDATE_MODES);
const STATES: ReadonlySet<string> = new Set(MODEL_STATES);
const ARMS: ReadonlySet<string> = new Set(MODEL_ARMS);

function object(value: unknown, field: string): void {
  if (typeof value !== 'object' || value === null) throw invalid(field, `expected a message, got ${render(value)}`);
}

function text(value: unknown, field: string, required: boolean, max = MAX_TEXT_LENGTH): void {
  if (typeof value !== 'string') throw invalid(field, `expected a string, got ${render(value)}`);
  if (required && value.length === 0) throw invalid(field, 'required, got an empty string');
  if (value.length > max) throw invalid(field, `longer than ${max} characters (${value.length})`);
}

function list(value: unknown, field: string, max: number): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) throw invalid(field, `expected a list, got ${render(value)}`);
  if (value.length > max) throw invalid(field, `has ${value.length} items, at most ${max} allowed`);
}

function positive(value: unknown, field: string): void {
  assertUint64(value, field);
  if ((value as number) < 1) throw invalid(field, 'required, must be >= 1');
}

function finite(value: unknown, field: string, min: number, max = Infinity): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(field, `must be a finite number in [${min}, ${max}], got ${render(value)}`);
  }
}

export function isSha256Hex(value: unknown): value is string {
  return typeof value === 'string' && SHA256_HEX.test(value);
}

function sha256(value: unknown, field: string, required = true): void {
  if (!required && value === '') return;
  if (!isSha256Hex(value)) throw invalid(field, `expected 64 lower-case hex digits, got ${render(value)}`);
}

function deviceId(value: unknown, field: string): void {
  if (!isDeviceId(value))
    throw invalid(field, `expected a device id matching /^[A-Za-z0-9._-]{1,128}$/, got ${render(value)}`);
}

function cameraId(value: unknown, field: string): void {
  if (!isCameraId(value))
    throw invalid(field, `expected a camera id matching /^[A-Za-z0-9_-]{1,64}$/, got ${render(value)}`);
}

export function validateModelDescriptor(m: ModelDescriptor, field = 'model'): void {
  object(m, field);
  text(m.modelId, `${field}.model_id`, true);
  text(m.version, `${field}.version`, true);
  positive(m.serial, `${field}.serial`);
  sha256(m.sha256, `${field}.sha256`);
  positive(m.sizeBytes, `${field}.size_bytes`);
  if (!(m.signature instanceof Uint8Array) || m.signature.length !== 64) {
    throw invalid(
      `${field}.signature`,
      `expected a 64-byte ed25519 signature, got ${m.signature instanceof Uint8Array ? `${m.signature.length} bytes` : render(m.signature)}`,
    );
  }
  if (typeof m.keyId !== 'string' || !KEY_ID.test(m.keyId))
    throw invalid(`${field}.key_id`, `expected 16 lower-case hex digits, got ${render(m.keyId)}`);
  list(m.classNames, `${field}.class_names`, MAX_CLASS_NAMES);
  if (m.classNames.length === 0) throw invalid(`${field}.class_names`, 'a detector has at least one class');
  m.classNames.forEach((n, i) => {
    text(n, `${field}.class_names[${i}]`, false);
  });
  assertUint32(m.inputWidth, `${field}.input_width`);
  assertUint32(m.inputHeight, `${field}.input_height`);
}

function validatePolicy(p: RollbackPolicy, field: string): void {
  object(p, field);
  finite(p.maxErrorRate, `${field}.max_error_rate`, 0, 1);
  assertUint32(p.errorWindowFrames, `${field}.error_window_frames`);
  finite(p.p95LatencyBudgetMs, `${field}.p95_latency_budget_ms`, 0);
  assertUint32(p.latencyWindowFrames, `${field}.latency_window_frames`);
  assertUint32(p.crashLoopRestarts, `${field}.crash_loop_restarts`);
  assertUint32(p.crashLoopWindowS, `${field}.crash_loop_window_s`);
}

export function validateCameraAssignment(a: CameraAssignment, field = 'assignment'): void {
  object(a, field);
  cameraId(a.cameraId, `${field}.camera_id`);
  validateModelDescriptor(a.primary, `${field}.primary`);
  if (a.candidate === undefined) {
    if (a.candidateMode !== undefined) throw invalid(`${field}.candidate_mode`, 'set without a candidate');
  } else {
    validateModelDescriptor(a.candidate, `${field}.candidate`);
    if (typeof a.candidateMode !== 'string' || !MODES.has(a.candidateMode)) {
      throw invalid(
        `${field}.candidate_mode`,
        `expected one of ${CANDIDATE_MODES.join(', ')} with a candidate, got ${render(a.candidateMode)}`,
      );
    }
  }
  assertUint32(a.splitBasisPoints, `${field}.split_basis_points`);
  if (a.splitBasisPoints > FULL_SPLIT_BASIS_POINTS)
    throw invalid(`${field}.split_basis_points`, `at most ${FULL_SPLIT_BASIS_POINTS}, got ${a.splitBasisPoints}`);
  if (typeof a.rollback !== 'boolean')
    throw invalid(`${field}.rollback`, `expected a boolean, got ${render(a.rollback)}`);
  text(a.reason, `${field}.reason`, false, MAX_ERROR_TEXT_LENGTH);
  positive(a.revision, `${field}.revision`);
  if (a.policy !== undefined) validatePolicy(a.policy, `${field}.policy`);
}

export function validateAssignmentSnapshot(s: AssignmentSnapshot, expectedDeviceId?: string): void {
  object(s, 'snapshot');
  deviceId(s.deviceId, 'device_id');
  if (expectedDeviceId !== undefined && s.deviceId !== expectedDeviceId) {
    throw invalid('device_id', `${render(s.deviceId)} is not this device (${render(expectedDeviceId)})`);
  }
  assertUint64(s.revision, 'revision');
  positive(s.sentAtMs, 'sent_at_ms');
  list(s.cameras, 'cameras', MAX_CAMERAS);
  const seen = new Map<string, number>();
  let highest = 0;
  s.cameras.forEach((c, i) => {
    validateCameraAssignment(c, `cameras[${i}]`);
    const first = seen.get(c.cameraId);
    if (first !== undefined)
      throw invalid(`cameras[${i}].camera_id`, `camera ${render(c.cameraId)} already assigned at cameras[${first}]`);
    seen.set(c.cameraId, i);
    highest = Math.max(highest, c.revision);
  });
  if (s.revision !== highest)
    throw invalid('revision', `must equal the highest camera revision (${highest}), got ${s.revision}`);
}

export function validateWatchAssignmentsRequest(r: WatchAssignmentsRequest): void {
  object(r, 'request');
  deviceId(r.deviceId, 'device_id');
  assertUint64(r.knownRevision, 'known_revision');
  text(r.agentVersion, 'agent_version', false);
  text(r.hardware, 'hardware', false);
  list(r.providers, 'providers', MAX_PROVIDERS);
  r.providers.forEach((p, i) => {
    text(p, `providers[${i}]`, true);
  });
  list(r.cameras, 'cameras', MAX_CAMERAS);
  r.cameras.forEach((c, i) => {
    object(c, `cameras[${i}]`);
    cameraId(c.cameraId, `cameras[${i}].camera_id`);
    text(c.source, `cameras[${i}].source`, false, MAX_ERROR_TEXT_LENGTH);
  });
}

export function validateDownloadModelRequest(r: DownloadModelRequest): void {
  object(r, 'request');
  sha256(r.sha256, 'sha256');
  assertUint64(r.offset, 'offset');
  assertUint32(r.chunkBytes, 'chunk_bytes');
}

export function validateModelChunk(c: ModelChunk): void {
  object(c, 'chunk');
  assertUint64(c.offset, 'offset');
  if (!(c.data instanceof Uint8Array)) throw invalid('data', `expected bytes, got ${render(c.data)}`);
  if (c.data.length > MAX_MODEL_CHUNK_BYTES)
    throw invalid('data', `chunk of ${c.data.length} bytes exceeds ${MAX_MODEL_CHUNK_BYTES}`);
  assertUint64(c.totalBytes, 'total_bytes');
  if (c.offset + c.data.length > c.totalBytes)
    throw invalid('data', `chunk ends at ${c.offset + c.data.length}, past total_bytes ${c.totalBytes}`);
}

export function validateModelStatusReport(r: ModelStatusReport, expectedDeviceId?: string): void {
  object(r, 'report');
  deviceId(r.deviceId, 'device_id');
  if (expectedDeviceId !== undefined && r.deviceId !== expectedDeviceId) {
    throw invalid('device_id', `${render(r.deviceId)} is not the authenticated device (${render(expectedDeviceId)})`);
  }
  cameraId(r.cameraId, 'camera_id');
  sha256(r.sha256, 'sha256');
  text(r.modelId, 'model_id', false);
  text(r.version, 'version', false);
  if (typeof r.arm !== 'string' || !ARMS.has(r.arm))
    throw invalid('arm', `expected one of ${MODEL_ARMS.join(', ')}, got ${render(r.arm)}`);
  if (typeof r.state !== 'string' || !STATES.has(r.state))
    throw invalid('state', `expected one of ${MODEL_STATES.join(', ')}, got ${render(r.state)}`);
  text(r.reason, 'reason', false, MAX_ERROR_TEXT_LENGTH);
  assertUint64(r.revision, 'revision');
  positive(r.atMs, 'at_ms');
  sha256(r.rolledBackTo, 'rolled_back_to', false);
  assertUint64(r.bytesDone, 'bytes_done');
}
