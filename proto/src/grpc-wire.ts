/**
 * gRPC's length-prefixed message framing (the body of a gRPC HTTP/2 stream): each message is a 1-byte
 * compressed flag, a 4-byte big-endian length, then the message. Used where a side writes or reads the
 * frames itself instead of through grpc-js (the control plane's in-place DownloadModel sender, the agent's
 * artifact downloader).
 */

import { ProtoError } from './proto-error.js';

export const GRPC_FRAME_HEADER_BYTES = 5;

/** `payload` as one uncompressed gRPC frame (a fresh buffer: header + a copy of the payload). */
export function frameGrpcMessage(payload: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(GRPC_FRAME_HEADER_BYTES + payload.byteLength);
  framed[0] = 0;
  framed.writeUInt32BE(payload.byteLength, 1);
  framed.set(payload, GRPC_FRAME_HEADER_BYTES);
  return framed;
}

/**
 * Cuts a gRPC response body, arriving in pieces of any size, into its messages. A message that lies within
 * one piece is handed over as a view of that piece; one spread over several is assembled in a buffer the
 * reader reuses. Either way the message is valid only during `onMessage`. Throws ProtoError
 * (PROTO_ERR_DECODE) for a compressed message (only identity is accepted) or one above `maxMessageBytes`.
 */
export class GrpcMessageReader {
  private readonly header = Buffer.alloc(GRPC_FRAME_HEADER_BYTES);
  private headerFill = 0;
  /** Length of the message being read, or -1 between messages. */
  private need = -1;
  private fill = 0;
  private assembly: Buffer = Buffer.alloc(0);

  constructor(
    private readonly maxMessageBytes: number,
    private readonly onMessage: (message: Buffer) => void,
  ) {}

  /** True between messages: a body may end only here. */
  get atBoundary(): boolean {
    return this.need < 0 && this.headerFill === 0;
  }

  push(piece: Buffer): void {
    let i = 0;
    while (i < piece.length) {
      if (this.need < 0) {
        const take = Math.min(GRPC_FRAME_HEADER_BYTES - this.headerFill, piece.length - i);
        piece.copy(this.header, this.headerFill, i, i + take);
        this.headerFill += take;
        i += take;
        if (this.headerFill < GRPC_FRAME_HEADER_BYTES) return;
        this.headerFill = 0;
        if (this.header[0] !== 0)
          throw new ProtoError(
            'PROTO_ERR_DECODE',
            `gRPC message compressed (flag ${this.header[0]}); only identity is accepted`,
          );
        const length = this.header.readUInt32BE(1);
        if (length > this.maxMessageBytes)
          throw new ProtoError(
            'PROTO_ERR_DECODE',
            `gRPC message of ${length} bytes is above the ${this.maxMessageBytes}-byte limit`,
          );
        this.need = length;
        this.fill = 0;
        if (length === 0) {
          this.need = -1;
          this.onMessage(Buffer.alloc(0));
        }
        continue;
      }
      const take = Math.min(this.need - this.fill, piece.length - i);
      if (this.fill === 0 && take === this.need) {
        const whole = piece.subarray(i, i + take);
        i += take;
        this.need = -1;
        this.onMessage(whole);
        continue;
      }
      if (this.assembly.length < this.need) this.assembly = Buffer.allocUnsafe(this.need);
      piece.copy(this.assembly, this.fill, i, i + take);
      this.fill += take;
      i += take;
      if (this.fill === this.need) {
        const length = this.need;
        this.need = -1;
        this.onMessage(this.assembly.subarray(0, length));
      }
    }
  }
}
