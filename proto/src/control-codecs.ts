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

/** A control message's codec: its protobuf type, its name in errors, its contract check and its decoded form. */
interface MessageCodec<T> {
  readonly type: protobuf.Type;
  readonly name: string;
  readonly validate?: (message: T) => void;
  readonly fromDecoded: (m: Decoded) => T;
}

/** The validating encoder and decoder of one control message. */
function defineCodec<T extends object>(codec: MessageCodec<T>): { encode(m: T): Uint8Array; decode(p: Uint8Array): T } {
  return {
    encode: (message) => {
      codec.validate?.(message);
      return encode(codec.type, message, codec.name);
    },
    decode: (payload) => {
      const message = codec.fromDecoded(decode(codec.type, payload, codec.name));
      codec.validate?.(message);
      return message;
    },
  };
}

// ---- WatchAssignmentsRequest --------------------------------------------------------------------

export const { encode: encodeWatchAssignmentsRequest, decode: decodeWatchAssignmentsRequest } =
  defineCodec<WatchAssignmentsRequest>({
    type: FleetV1.WatchAssignmentsRequest,
    name: 'WatchAssignmentsRequest',
    validate: validateWatchAssignmentsRequest,
    fromDecoded: (m) => ({
      deviceId: str(m, 'deviceId'),
      knownRevision: u64(m, 'knownRevision', 'known_revision'),
      agentVersion: str(m, 'agentVersion'),
      hardware: str(m, 'hardware'),
      providers: strings(m, 'providers'),
      cameras: ((m.cameras as Decoded[] | undefined) ?? []).map((c) => ({
        cameraId: str(c, 'cameraId'),
        source: str(c, 'source'),
      })),
    }),
  });

// ---- DownloadModelRequest / ModelChunk ----------------------------------------------------------

export const { encode: encodeDownloadModelRequest, decode: decodeDownloadModelRequest } =
  defineCodec<DownloadModelRequest>({
    type: FleetV1.DownloadModelRequest,
    name: 'DownloadModelRequest',
    validate: validateDownloadModelRequest,
    fromDecoded: (m) => ({
      sha256: str(m, 'sha256'),
      offset: u64(m, 'offset', 'offset'),
      chunkBytes: num(m, 'chunkBytes'),
    }),
  });

export const { encode: encodeModelChunk, decode: decodeModelChunk } = defineCodec<ModelChunk>({
  type: FleetV1.ModelChunk,
  name: 'ModelChunk',
  validate: validateModelChunk,
  // The data is a view of the received message, not a copy: the chunk is nearly all of that buffer anyway.
  fromDecoded: (m) => ({
    offset: u64(m, 'offset', 'offset'),
    data: (m.data as Uint8Array | undefined) ?? new Uint8Array(0),
    totalBytes: u64(m, 'totalBytes', 'total_bytes'),
  }),
});

// ---- ModelStatusReport / ModelStatusAck ---------------------------------------------------------

export const { encode: encodeModelStatusReport, decode: decodeModelStatusReport } = defineCodec<ModelStatusReport>({
  type: FleetV1.ModelStatusReport,
  name: 'ModelStatusReport',
  validate: validateModelStatusReport,
  fromDecoded: (m) => ({
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
  }),
});

export const { encode: encodeModelStatusAck, decode: decodeModelStatusAck } = defineCodec<ModelStatusAck>({
  type: FleetV1.ModelStatusAck,
  name: 'ModelStatusAck',
  fromDecoded: (m) => ({ accepted: (m.accepted as boolean | undefined) ?? false }),
});
