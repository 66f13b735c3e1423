import type { ServerWritableStream } from '@grpc/grpc-js';

/**
 * The HTTP/2 stream under a grpc-js server-streaming call, for writing pre-framed gRPC messages onto it
 * (DownloadModel's in-place sender), or null when grpc-js is not shaped as expected.
 *
 * grpc-js sends every message by copying it into a fresh buffer behind a 5-byte header and writing that
 * through an object-mode stream with a callback per message. For model chunks that copy and its
 * allocations were most of the sender's cost, and with hundreds of watch sessions open they set off a
 * full garbage collection every ~150 ms (see the README's rollout benchmark). Chunks cached already framed
 * can go straight onto the HTTP/2 stream instead: the call's headers and trailers stay grpc-js' own
 * (`sendMetadata` before, `end` after), only the messages between them bypass it.
 *
 * This reads a private field of grpc-js (`call.call.stream` of a call without server interceptors,
 * grpc-js 1.10 to 1.14). When it is absent or not an HTTP/2 stream the caller falls back to `call.write`,
 * so a grpc-js upgrade can slow downloads but not break them; `in-place-response.test.ts` fails when this
 * returns null with the installed grpc-js, so such an upgrade is noticed.
 */
export interface InPlaceResponse {
  write(frame: Buffer): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  readonly destroyed: boolean;
  readonly closed: boolean;
}

interface Http2StreamShape {
  write?: unknown;
  respond?: unknown;
  sendTrailers?: unknown;
  session?: unknown;
}

export function inPlaceResponse(call: ServerWritableStream<unknown, unknown>): InPlaceResponse | null {
  const inner = (call as unknown as { call?: { stream?: Http2StreamShape } }).call;
  const stream = inner?.stream;
  if (stream === undefined || stream === null || typeof stream !== 'object') return null;
  if (
    typeof stream.write !== 'function' ||
    typeof stream.respond !== 'function' ||
    typeof stream.sendTrailers !== 'function' ||
    stream.session === undefined
  )
    return null;
  return stream as unknown as InPlaceResponse;
}
