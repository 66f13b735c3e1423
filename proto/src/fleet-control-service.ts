import {
  decodeAssignmentSnapshot,
  decodeModelChunk,
  decodeModelStatusAck,
  encodeAssignmentSnapshot,
  encodeDownloadModelRequest,
  encodeModelChunk,
  encodeModelStatusAck,
  encodeModelStatusReport,
  encodeWatchAssignmentsRequest,
} from './control-codecs.js';
import { frameGrpcMessage, GRPC_FRAME_HEADER_BYTES } from './grpc-wire.js';
import type {
  AssignmentSnapshot,
  DownloadModelRequest,
  ModelChunk,
  ModelStatusAck,
  ModelStatusReport,
  WatchAssignmentsRequest,
} from './control-messages.js';
import { FleetControlService } from './schema.js';

/**
 * The gRPC service fleet.v1.FleetControl as method definitions for @grpc/grpc-js (structurally its
 * `ServiceDefinition`, so this package does not depend on grpc-js). Two views of one method table:
 *
 * - the **client** view encodes requests and decodes (and validates) responses;
 * - the **server** view hands requests over as raw bytes, so a handler decodes them itself and answers a
 *   contract violation with INVALID_ARGUMENT naming the field (grpc-js would turn a throwing deserializer
 *   into a bare INTERNAL), and encodes (and validates) its responses.
 */

export const FLEET_CONTROL_SERVICE_NAME = 'fleet.v1.FleetControl';

/**
 * A response already encoded (and validated when it was made): the server view sends its bytes as they are.
 * Made by `encodeModelChunkMessage`, so a control plane can encode an artifact's chunks once and send them
 * to every agent that downloads it, instead of reading and encoding them again per download. `framed`,
 * when present, is the same message as one gRPC frame (`bytes` is a view into it), for a sender that
 * writes frames onto the HTTP/2 stream itself.
 */
export class EncodedMessage {
  constructor(
    readonly bytes: Uint8Array,
    readonly framed?: Buffer,
  ) {}
}

/** A validated, encoded ModelChunk for the server's DownloadModel stream, with its gRPC frame. */
export function encodeModelChunkMessage(chunk: ModelChunk): EncodedMessage {
  const framed = frameGrpcMessage(encodeModelChunk(chunk));
  return new EncodedMessage(framed.subarray(GRPC_FRAME_HEADER_BYTES), framed);
}

interface MethodShape<Req, Res> {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly originalName: string;
  readonly requestSerialize: (value: Req) => Buffer;
  readonly requestDeserialize: (bytes: Buffer) => Req;
  readonly responseSerialize: (value: Res) => Buffer;
  readonly responseDeserialize: (bytes: Buffer) => Res;
}

const toBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const unsupported = (what: string) => (): never => {
  throw new Error(`${what} is not used on this side of fleet.v1.FleetControl`);
};

function method<Req, Res>(
  name: string,
  encodeReq: (r: Req) => Uint8Array,
  encodeRes: (r: Exclude<Res, EncodedMessage>) => Uint8Array,
  decodeRes: (b: Uint8Array) => Res,
  side: 'client' | 'server',
): MethodShape<Req, Res> {
  const declared = FleetControlService.methods[name];
  if (!declared) throw new Error(`control.proto declares no method ${name}`);
  return {
    path: `/${FLEET_CONTROL_SERVICE_NAME}/${name}`,
    requestStream: declared.requestStream === true,
    responseStream: declared.responseStream === true,
    originalName: name,
    requestSerialize: side === 'client' ? (r: Req) => toBuffer(encodeReq(r)) : unsupported('request encoding'),
    // Server side: raw bytes; the handler decodes (see above).
    requestDeserialize: side === 'server' ? (b: Buffer) => b as unknown as Req : unsupported('request decoding'),
    responseSerialize:
      side === 'server'
        ? (r: Res) =>
            r instanceof EncodedMessage ? toBuffer(r.bytes) : toBuffer(encodeRes(r as Exclude<Res, EncodedMessage>))
        : unsupported('response encoding'),
    responseDeserialize: side === 'client' ? (b: Buffer) => decodeRes(b) : unsupported('response decoding'),
  };
}

/** For `makeGenericClientConstructor` / `new Client` on the agent. */
export const FLEET_CONTROL_CLIENT_DEFINITION = {
  watchAssignments: method<WatchAssignmentsRequest, AssignmentSnapshot>(
    'WatchAssignments',
    encodeWatchAssignmentsRequest,
    encodeAssignmentSnapshot,
    decodeAssignmentSnapshot,
    'client',
  ),
  downloadModel: method<DownloadModelRequest, ModelChunk>(
    'DownloadModel',
    encodeDownloadModelRequest,
    encodeModelChunk,
    decodeModelChunk,
    'client',
  ),
  reportModelStatus: method<ModelStatusReport, ModelStatusAck>(
    'ReportModelStatus',
    encodeModelStatusReport,
    encodeModelStatusAck,
    decodeModelStatusAck,
    'client',
  ),
} as const;

/**
 * For `server.addService` on the control plane. Request values arrive as `Buffer`: decode them with
 * decodeWatchAssignmentsRequest, decodeDownloadModelRequest and decodeModelStatusReport. DownloadModel
 * also takes `EncodedMessage`s (chunks encoded once for many downloads).
 */
export const FLEET_CONTROL_SERVER_DEFINITION = {
  watchAssignments: method<WatchAssignmentsRequest, AssignmentSnapshot>(
    'WatchAssignments',
    encodeWatchAssignmentsRequest,
    encodeAssignmentSnapshot,
    decodeAssignmentSnapshot,
    'server',
  ),
  downloadModel: method<DownloadModelRequest, ModelChunk | EncodedMessage>(
    'DownloadModel',
    encodeDownloadModelRequest,
    encodeModelChunk,
    decodeModelChunk,
    'server',
  ),
  reportModelStatus: method<ModelStatusReport, ModelStatusAck>(
    'ReportModelStatus',
    encodeModelStatusReport,
    encodeModelStatusAck,
    decodeModelStatusAck,
    'server',
  ),
} as const;
