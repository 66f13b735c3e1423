import { once } from 'node:events';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { DEFAULT_MODEL_CHUNK_BYTES, decodeDownloadModelRequest, MAX_MODEL_CHUNK_BYTES, type ModelChunk } from '@edgefleet/proto';
import { CpError, describeError } from '../../errors.js';
import { identityOf, type FleetControlDeps } from '../handler-deps.js';
import { isServerFault, toGrpcStatus } from '../grpc-status.js';

/**
 * DownloadModel: the artifact of a registered model, in chunks from `offset` (resume) to the end.
 * Chunk size: the agent's wish within [MIN_CHUNK_BYTES, MAX_MODEL_CHUNK_BYTES], default 256 KiB.
 * Backpressure: when `write` says the stream's buffer is full, reading waits for 'drain' (or the
 * cancellation), so a slow agent holds at most a few chunks in memory. NOT_FOUND for a sha256 the
 * registry does not know, OUT_OF_RANGE for an offset past the end.
 */

/** Smaller wishes are raised to this, so a client cannot make the server send millions of tiny messages. */
export const MIN_CHUNK_BYTES = 4096;

export function chunkSizeFor(wish: number): number {
  if (wish === 0) return DEFAULT_MODEL_CHUNK_BYTES;
  return Math.min(MAX_MODEL_CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, wish));
}

export function downloadModelHandler(deps: FleetControlDeps) {
  return (call: ServerWritableStream<Buffer, ModelChunk>): void => {
    void download(deps, call);
  };
}

async function download(deps: FleetControlDeps, call: ServerWritableStream<Buffer, ModelChunk>): Promise<void> {
  let cancelled = false;
  const cancellation = new Promise<void>((resolve) =>
    call.once('cancelled', () => {
      cancelled = true;
      resolve();
    }),
  );
  let source: NodeJS.ReadableStream & { destroy(): void } | null = null;
  try {
    await deps.authenticator.authenticate(identityOf(call));
    const request = decodeDownloadModelRequest(call.request);
    if (!(await deps.registry.findModelBySha256(request.sha256))) throw new CpError('CP_ERR_ARTIFACT_NOT_FOUND', `no registered model has sha256 ${request.sha256}`);
    const opened = await deps.artifacts.open(request.sha256, request.offset, { chunkBytes: chunkSizeFor(request.chunkBytes) });
    source = opened.stream;
    let offset = request.offset;
    for await (const data of opened.stream) {
      if (cancelled) break;
      const bytes = data as Buffer;
      const room = call.write({ offset, data: bytes, totalBytes: opened.sizeBytes });
      offset += bytes.length;
      if (!room) await Promise.race([once(call, 'drain'), cancellation]);
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
