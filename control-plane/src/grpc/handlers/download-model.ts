import { once } from 'node:events';
import { Metadata, type ServerWritableStream } from '@grpc/grpc-js';
import {
  DEFAULT_MODEL_CHUNK_BYTES,
  decodeDownloadModelRequest,
  decodeModelChunk,
  encodeModelChunk,
  frameGrpcMessage,
  MAX_MODEL_CHUNK_BYTES,
  type EncodedMessage,
  type ModelChunk,
} from '@edgefleet/proto';
import { CpError, describeError } from '../../errors.js';
import { identityOf, type FleetControlDeps } from '../handler-deps.js';
import { isServerFault, toGrpcStatus } from '../grpc-status.js';
import { inPlaceResponse, type InPlaceResponse } from '../in-place-response.js';

/**
 * DownloadModel: the artifact of a registered model, in chunks from `offset` (resume) to the end.
 * Chunk size: the agent's wish within [MIN_CHUNK_BYTES, MAX_MODEL_CHUNK_BYTES], default 256 KiB.
 * Chunks come from the EncodedChunkCache (encoded and framed once, shared by every download of the
 * artifact) or, for artifacts above its budget, straight from the store. Cached chunks go onto the call's
 * HTTP/2 stream as they are, between grpc-js' own headers and trailers (see in-place-response.ts); the rest
 * go through `call.write`. Backpressure: when a write says the stream's buffer is full, sending waits for
 * 'drain' (or the cancellation), so a slow agent holds at most a few chunks. NOT_FOUND for a sha256 the
 * registry does not know, OUT_OF_RANGE for an offset past the end.
 */

/** Smaller wishes are raised to this, so a client cannot make the server send millions of tiny messages. */
export const MIN_CHUNK_BYTES = 4096;

export function chunkSizeFor(wish: number): number {
  if (wish === 0) return DEFAULT_MODEL_CHUNK_BYTES;
  return Math.min(MAX_MODEL_CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, wish));
}

export function downloadModelHandler(deps: FleetControlDeps) {
  return (call: ServerWritableStream<Buffer, ModelChunk | EncodedMessage>): void => {
    void download(deps, call);
  };
}

async function download(
  deps: FleetControlDeps,
  call: ServerWritableStream<Buffer, ModelChunk | EncodedMessage>,
): Promise<void> {
  let cancelled = false;
  const cancellation = new Promise<void>((resolve) =>
    call.once('cancelled', () => {
      cancelled = true;
      resolve();
    }),
  );
  let source: (NodeJS.ReadableStream & { destroy(): void }) | null = null;
  try {
    await deps.authenticator.authenticate(identityOf(call));
    const request = decodeDownloadModelRequest(call.request);
    if (!(await deps.registry.findModelBySha256(request.sha256)))
      throw new CpError('CP_ERR_ARTIFACT_NOT_FOUND', `no registered model has sha256 ${request.sha256}`);
    const chunkBytes = chunkSizeFor(request.chunkBytes);
    const size = await deps.artifacts.size(request.sha256);
    if (size === null) throw new CpError('CP_ERR_ARTIFACT_NOT_FOUND', request.sha256);
    if (request.offset > size)
      throw new CpError('CP_ERR_ARTIFACT_RANGE', `offset ${request.offset} is past the end (${size} bytes)`);
    const cached = await deps.chunks?.get(request.sha256, size, chunkBytes);
    const send = async (message: ModelChunk | EncodedMessage): Promise<void> => {
      if (!call.write(message)) await Promise.race([once(call, 'drain'), cancellation]);
    };
    const raw = cached && cached.messages[0]?.framed !== undefined ? inPlaceResponse(call) : null;
    if (cached && request.offset < size) {
      // Encoded once for every download of this artifact; a resume inside a chunk sends that chunk's rest first.
      let index = Math.floor(request.offset / chunkBytes);
      const within = request.offset - index * chunkBytes;
      const rest =
        within > 0
          ? {
              offset: request.offset,
              data: decodeModelChunk((cached.messages[index] as EncodedMessage).bytes).data.subarray(within),
              totalBytes: size,
            }
          : null;
      if (rest) index++;
      if (raw) {
        await sendInPlace(call, raw, cancellation, () => cancelled, rest, cached.messages.slice(index));
      } else {
        if (rest) await send(rest);
        for (; index < cached.messages.length && !cancelled; index++)
          await send(cached.messages[index] as EncodedMessage);
      }
    } else if (!cached) {
      const opened = await deps.artifacts.open(request.sha256, request.offset, { chunkBytes });
      source = opened.stream;
      let offset = request.offset;
      for await (const data of opened.stream) {
        if (cancelled) break;
        const bytes = data as Buffer;
        await send({ offset, data: bytes, totalBytes: opened.sizeBytes });
        offset += bytes.length;
      }
    }
    if (!cancelled) call.end();
  } catch (err) {
    if (cancelled) return;
    if (isServerFault(err)) deps.logger.error('download failed', { error: describeError(err) });
    call.emit('error', toGrpcStatus(err));
  } finally {
    source?.destroy();
  }
}

/**
 * Writes the chunks' gRPC frames onto the call's HTTP/2 stream: grpc-js sends the response headers first
 * (`sendMetadata`) and the trailers after (`call.end()`, by the caller), in order on the same stream.
 */
async function sendInPlace(
  call: ServerWritableStream<Buffer, ModelChunk | EncodedMessage>,
  raw: InPlaceResponse,
  cancellation: Promise<void>,
  isCancelled: () => boolean,
  first: ModelChunk | null,
  messages: readonly EncodedMessage[],
): Promise<void> {
  call.sendMetadata(new Metadata());
  // A write to a stream the agent reset fails on the stream; grpc-js reports that as the call's cancellation.
  const ignore = (): void => undefined;
  raw.on('error', ignore);
  const closed = new Promise<void>((resolve) => raw.once('close', resolve));
  const write = async (frame: Buffer): Promise<void> => {
    if (raw.write(frame)) return;
    await Promise.race([new Promise<void>((resolve) => raw.once('drain', resolve)), cancellation, closed]);
  };
  if (first) await write(frameGrpcMessage(encodeModelChunk(first)));
  for (const message of messages) {
    if (isCancelled() || raw.destroyed || raw.closed) return;
    await write(message.framed as Buffer);
  }
}
