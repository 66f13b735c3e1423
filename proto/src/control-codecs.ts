import type protobuf from 'protobufjs';
import { MAX_CONTROL_MESSAGE_BYTES } from './limits.js';
import type {
  AssignmentSnapshot,
  CameraAssignment,
  CandidateMode,
  DownloadModelRequest,
  ModelArm,
  ModelChunk,
  ModelDescriptor,
  ModelState,
  ModelStatusAck,
  ModelStatusReport,
  RollbackPolicy,
  WatchAssignmentsRequest,
} from './control-messages.js';
import {
  validateAssignmentSnapshot,
  validateDownloadModelRequest,
  validateModelChunk,
  validateModelStatusReport,
  validateWatchAssignmentsRequest,
} from './control-validate.js';
import { ProtoError } from './proto-error.js';
import { FleetV1 } from './schema.js';
import { uint64ToNumber } from './uint64.js';

/**
 * Validating codecs of the control messages, used as the gRPC (de)serializers on both sides: whatever a
 * handler receives has passed the contract, and whatever it sends is checked before it leaves. Every
 * failure is a ProtoError; the gRPC layer turns a deserialization failure into INVALID_ARGUMENT /
 * INTERNAL on its own.
 */

type Decoded = Record<string, unknown>;

function encode(type: protobuf.Type, message: object, name: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = type.encode(message).finish();
  } catch (err) {
    throw new ProtoError('PROTO_ERR_INVALID', `${name} cannot be encoded: ${(err as Error).message}`, { cause: err });
  }
  if (bytes.length > MAX_CONTROL_MESSAGE_BYTES)
    throw new ProtoError(
      'PROTO_ERR_TOO_LARGE',
      `${name} encodes to ${bytes.length} bytes, limit ${MAX_CONTROL_MESSAGE_BYTES}`,
    );
  return bytes;
}

function decode(type: protobuf.Type, payload: Uint8Array, name: string): Decoded {
  if (!(payload instanceof Uint8Array))
    throw new ProtoError('PROTO_ERR_DECODE', `${name} payload must be bytes, got ${typeof payload}`);
  if (payload.length > MAX_CONTROL_MESSAGE_BYTES)
    throw new ProtoError(
      'PROTO_ERR_TOO_LARGE',
      `${name} payload has ${payload.length} bytes, limit ${MAX_CONTROL_MESSAGE_BYTES}`,
    );
  // A plain Uint8Array view: protobufjs' BufferReader clamps truncated strings instead of failing.
  const bytes = Buffer.isBuffer(payload) ? new Uint8Array(payload.buffer, payload.byteOffset, payload.length) : payload;
  try {
    return type.decode(bytes) as unknown as Decoded;
  } catch (err) {
    throw new ProtoError('PROTO_ERR_DECODE', `${name}: ${(err as Error).message}`, { cause: err });
  }
}

const str = (m: Decoded, key: string): string => (m[key] as string | undefined) ?? '';
const num = (m: Decoded, key: string): number => (m[key] as number | undefined) ?? 0;
const u64 = (m: Decoded, key: string, field: string): number => uint64ToNumber(m[key] ?? 0, field);
const bytesOf = (m: Decoded, key: string): Uint8Array => {
  const v = m[key] as Uint8Array | undefined;
  // Copy out of the receive buffer: a signature or chunk outlives the message it came in.
  return v ? new Uint8Array(v) : new Uint8Array(0);
};
const strings = (m: Decoded, key: string): string[] => [...((m[key] as string[] | undefined) ?? [])];
const present = (m: Decoded, key: string): Decoded | undefined => (m[key] ?? undefined) as Decoded | undefined;

function toDescriptor(m: Decoded, field: string): ModelDescriptor {
  return {
    modelId: str(m, 'modelId'),
    version: str(m, 'version'),
    serial: u64(m, 'serial', `${field}.serial`),
    sha256: str(m, 'sha256'),
    sizeBytes: u64(m, 'sizeBytes', `${field}.size_bytes`),
    signature: bytesOf(m, 'signature'),
    keyId: str(m, 'keyId'),
    classNames: strings(m, 'classNames'),
    inputWidth: num(m, 'inputWidth'),
    inputHeight: num(m, 'inputHeight'),
  };
}

function toPolicy(m: Decoded): RollbackPolicy {
  return {
    maxErrorRate: num(m, 'maxErrorRate'),
    errorWindowFrames: num(m, 'errorWindowFrames'),
    p95LatencyBudgetMs: num(m, 'p95LatencyBudgetMs'),
    latencyWindowFrames: num(m, 'latencyWindowFrames'),
    crashLoopRestarts: num(m, 'crashLoopRestarts'),
    crashLoopWindowS: num(m, 'crashLoopWindowS'),
  };
}

function toAssignment(m: Decoded, i: number): CameraAssignment {
  const field = `cameras[${i}]`;
  const primary = present(m, 'primary');
  const candidate = present(m, 'candidate');
  const policy = present(m, 'policy');
  const mode = str(m, 'candidateMode');
  return {
    cameraId: str(m, 'cameraId'),
    // A missing primary decodes as an empty descriptor, which validation then names.
    primary: toDescriptor(primary ?? {}, `${field}.primary`),
    ...(candidate ? { candidate: toDescriptor(candidate, `${field}.candidate`) } : {}),
    ...(mode ? { candidateMode: mode as CandidateMode } : {}),
    splitBasisPoints: num(m, 'splitBasisPoints'),
    rollback: (m.rollback as boolean | undefined) ?? false,
    reason: str(m, 'reason'),
    revision: u64(m, 'revision', `${field}.revision`),
    ...(policy ? { policy: toPolicy(policy) } : {}),
  };
}

// ---- AssignmentSnapshot -------------------------------------------------------------------------

export function encodeAssignmentSnapshot(s: AssignmentSnapshot): Uint8Array {
  validateAssignmentSnapshot(s);
  return encode(FleetV1.AssignmentSnapshot, s, 'AssignmentSnapshot');
}

export function decodeAssignmentSnapshot(payload: Uint8Array, options: { deviceId?: string } = {}): AssignmentSnapshot {
  const m = decode(FleetV1.AssignmentSnapshot, payload, 'AssignmentSnapshot');
  const s: AssignmentSnapshot = {
    deviceId: str(m, 'deviceId'),
    revision: u64(m, 'revision', 'revision'),
    cameras: ((m.cameras as Decoded[] | undefined) ?? []).map(toAssignment),
    sentAtMs: u64(m, 'sentAtMs', 'sent_at_ms'),
  };
  validateAssignmentSnapshot(s, options.deviceId);
  return s;
}

// ---- WatchAssignmentsRequest --------------------------------------------------------------------

export function encodeWatchAssignmentsRequest(r: WatchAssignmentsRequest): Uint8Array {
  validateWatchAssignmentsRequest(r);
  return encode(FleetV1.WatchAssignmentsRequest, r, 'WatchAssignmentsRequest');
}

export function decodeWatchAssignmentsRequest(payload: Uint8Array): WatchAssignmentsRequest {
  const m = decode(FleetV1.WatchAssignmentsRequest, payload, 'WatchAssignmentsRequest');
  const r: WatchAssignmentsRequest = {
    deviceId: str(m, 'deviceId'),
    knownRevision: u64(m, 'knownRevision', 'known_revision'),
    agentVersion: str(m, 'agentVersion'),
    hardware: str(m, 'hardware'),
    providers: strings(m, 'providers'),
    cameras: ((m.cameras as Decoded[] | undefined) ?? []).map((c) => ({
      cameraId: str(c, 'cameraId'),
      source: str(c, 'source'),
    })),
  };
  validateWatchAssignmentsRequest(r);
  return r;
}

// ---- DownloadModelRequest / ModelChunk ----------------------------------------------------------

export function encodeDownloadModelRequest(r: DownloadModelRequest): Uint8Array {
  validateDownloadModelRequest(r);
  return encode(FleetV1.DownloadModelRequest, r, 'DownloadModelRequest');
}

export function decodeDownloadModelRequest(payload: Uint8Array): DownloadModelRequest {
  const m = decode(FleetV1.DownloadModelRequest, payload, 'DownloadModelRequest');
  const r: DownloadModelRequest = {
    sha256: str(m, 'sha256'),
    offset: u64(m, 'offset', 'offset'),
    chunkBytes: num(m, 'chunkBytes'),
  };
  validateDownloadModelRequest(r);
  return r;
}

export function encodeModelChunk(c: ModelChunk): Uint8Array {
  validateModelChunk(c);
  return encode(FleetV1.ModelChunk, c, 'ModelChunk');
}

export function decodeModelChunk(payload: Uint8Array): ModelChunk {
  const m = decode(FleetV1.ModelChunk, payload, 'ModelChunk');
  // The data is a view of the received message, not a copy: the chunk is nearly all of that buffer anyway.
  const data = (m.data as Uint8Array | undefined) ?? new Uint8Array(0);
  const c: ModelChunk = { offset: u64(m, 'offset', 'offset'), data, totalBytes: u64(m, 'totalBytes', 'total_bytes') };
  validateModelChunk(c);
  return c;
}

// ---- ModelStatusReport / ModelStatusAck ---------------------------------------------------------

export function encodeModelStatusReport(r: ModelStatusReport): Uint8Array {
  validateModelStatusReport(r);
  return encode(FleetV1.ModelStatusReport, r, 'ModelStatusReport');
}

export function decodeModelStatusReport(payload: Uint8Array): ModelStatusReport {
  const m = decode(FleetV1.ModelStatusReport, payload, 'ModelStatusReport');
  const r: ModelStatusReport = {
    deviceId: str(m, 'deviceId'),
    cameraId: str(m, 'cameraId'),
    sha256: str(m, 'sha256'),
    modelId: str(m, 'modelId'),
    version: str(m, 'version'),
    arm: str(m, 'arm') as ModelArm,
    state: str(m, 'state') as ModelState,
    reason: str(m, 'reason'),
    revision: u64(m, 'revision', 'revision'),
    atMs: u64(m, 'atMs', 'at_ms'),
    rolledBackTo: str(m, 'rolledBackTo'),
    bytesDone: u64(m, 'bytesDone', 'bytes_done'),
  };
  validateModelStatusReport(r);
  return r;
}

export function encodeModelStatusAck(a: ModelStatusAck): Uint8Array {
  return encode(FleetV1.ModelStatusAck, a, 'ModelStatusAck');
}

export function decodeModelStatusAck(payload: Uint8Array): ModelStatusAck {
  const m = decode(FleetV1.ModelStatusAck, payload, 'ModelStatusAck');
  return { accepted: (m.accepted as boolean | undefined) ?? false };
}
