import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ModelChunk, ModelDescriptor } from '@edgefleet/proto';
import { EdgeError, describeError } from '../errors.js';
import type { Logger } from '@edgefleet/service-kit';
import type { PinnedKey } from '../control/pinned-key.js';
import { checkSize, ModelRejectedError, verifyArtifact } from './artifact-verifier.js';

/** Where artifact bytes come from (the control client's DownloadModel). */
export interface ArtifactSource {
  /**
   * Streams the artifact from `offset` to its end, calling `onChunk` in order; resolves when the stream
   * ended normally. Rejects with EDGE_ERR_MODEL_DOWNLOAD (`retryable` in its details) otherwise.
   * `chunk.data` may be a view of a buffer the source reuses: it is valid only during `onChunk`.
   */
  download(
    request: { sha256: string; offset: number },
    onChunk: (chunk: ModelChunk) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

export interface FetchObserver {
  /** Bytes on disk so far (resumed bytes included), after each chunk. */
  downloading?(bytesDone: number): void;
  verifying?(): void;
}

export interface ModelStoreDeps {
  /** `<dataDir>/models`. */
  readonly dir: string;
  readonly key: PinnedKey;
  readonly source: ArtifactSource;
  readonly logger: Logger;
  /** Waits between download attempts after a transient failure (the control client's backoff). */
  readonly retryDelay: (attempt: number) => number;
}

const ARTIFACT = /^([0-9a-f]{64})\.onnx$/;
const PARTIAL = /^([0-9a-f]{64})\.partial$/;

/** The downloader says whether a failure may pass (connection lost) or will not (unknown artifact). */
function retryable(err: unknown): boolean {
  return (
    err instanceof EdgeError &&
    err.code === 'EDGE_ERR_MODEL_DOWNLOAD' &&
    (err.details as { retryable?: boolean } | undefined)?.retryable === true
  );
}

/**
 * Content-addressed model artifacts on disk: `<sha256>.onnx` exist only once verified (size, sha256,
 * signature with the pinned key); a download in progress is `<sha256>.partial` and resumes from its size
 * (DownloadModel's offset) after a lost connection or a restart. A file that fails verification is deleted.
 */
export class ModelStore {
  private readonly inFlight = new Map<string, { promise: Promise<string>; observers: Set<FetchObserver> }>();
  private readonly abort = new AbortController();

  constructor(private readonly deps: ModelStoreDeps) {}

  open(): void {
    mkdirSync(this.deps.dir, { recursive: true });
  }

  pathOf(sha256: string): string {
    return join(this.deps.dir, `${sha256}.onnx`);
  }

  private partialOf(sha256: string): string {
    return join(this.deps.dir, `${sha256}.partial`);
  }

  has(sha256: string): boolean {
    return existsSync(this.pathOf(sha256));
  }

  /** Verified artifacts on disk. */
  list(): string[] {
    return readdirSync(this.deps.dir).flatMap((n) => ARTIFACT.exec(n)?.[1] ?? []);
  }

  /**
   * The verified artifact's path: at once when on disk, otherwise downloaded (resuming a partial file),
   * verified and moved into place. Transient download failures are retried until `signal` aborts or the
   * store stops; concurrent fetches of one artifact share one download. Throws ModelRejectedError
   * (verification; the file is gone) or EDGE_ERR_MODEL_DOWNLOAD (not retryable, or aborted).
   */
  async fetch(d: ModelDescriptor, observer: FetchObserver = {}, signal?: AbortSignal): Promise<string> {
    if (this.has(d.sha256)) return this.pathOf(d.sha256);
    let entry = this.inFlight.get(d.sha256);
    if (!entry) {
      const observers = new Set<FetchObserver>();
      const promise = this.download(d, observers).finally(() => this.inFlight.delete(d.sha256));
      entry = { promise, observers };
      this.inFlight.set(d.sha256, entry);
    }
    entry.observers.add(observer);
    const shared = entry;
    try {
      if (!signal) return await shared.promise;
      return await Promise.race([
        shared.promise,
        new Promise<never>((_, reject) => {
          const onAbort = () =>
            reject(
              new EdgeError('EDGE_ERR_MODEL_DOWNLOAD', `${d.sha256}: no longer wanted`, {
                details: { retryable: false },
              }),
            );
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      shared.observers.delete(observer);
    }
  }

  private async download(d: ModelDescriptor, observers: Set<FetchObserver>): Promise<string> {
    const partial = this.partialOf(d.sha256);
    const each = (fn: (o: FetchObserver) => void) => {
      for (const o of observers) fn(o);
    };
    for (let attempt = 0; ; attempt++) {
      let offset = existsSync(partial) ? statSync(partial).size : 0;
      if (offset > d.sizeBytes) {
        unlinkSync(partial);
        offset = 0;
      }
      if (offset < d.sizeBytes) {
        each((o) => o.downloading?.(offset));
        try {
          await this.receive(d, partial, offset, (bytes) => each((o) => o.downloading?.(bytes)));
        } catch (err) {
          if (err instanceof ModelRejectedError) {
            this.discard(partial);
            throw err;
          }
          if (!retryable(err) || this.abort.signal.aborted || observers.size === 0) throw err;
          const delay = this.deps.retryDelay(attempt);
          this.deps.logger.warn('model download interrupted; resuming', {
            sha256: d.sha256,
            bytes: existsSync(partial) ? statSync(partial).size : 0,
            inMs: delay,
            error: describeError(err),
          });
          await sleep(delay, this.abort.signal);
          if (this.abort.signal.aborted) throw err;
          continue;
        }
      }
      each((o) => o.verifying?.());
      try {
        await verifyArtifact(partial, d, this.deps.key);
      } catch (err) {
        this.discard(partial);
        throw err;
      }
      renameSync(partial, this.pathOf(d.sha256));
      return this.pathOf(d.sha256);
    }
  }

  /** Appends the stream from `offset` to the partial file; size problems are refusals, not retries. */
  private async receive(
    d: ModelDescriptor,
    partial: string,
    offset: number,
    progress: (bytes: number) => void,
  ): Promise<void> {
    const fd = openSync(partial, 'a');
    let size = offset;
    try {
      await this.deps.source.download(
        { sha256: d.sha256, offset },
        (chunk) => {
          if (chunk.offset !== size) {
            throw new EdgeError(
              'EDGE_ERR_MODEL_DOWNLOAD',
              `${d.sha256}: chunk at offset ${chunk.offset}, expected ${size}`,
              { details: { retryable: true } },
            );
          }
          if (size + chunk.data.length > d.sizeBytes) checkSize(size + chunk.data.length, d);
          writeSync(fd, chunk.data);
          size += chunk.data.length;
          progress(size);
        },
        this.abort.signal,
      );
    } finally {
      closeSync(fd);
    }
    // The stream ended normally: what the control plane has is all there is.
    checkSize(size, d);
  }

  private discard(path: string): void {
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.deps.logger.warn('cannot delete a refused model file', { path, error: describeError(err) });
    }
  }

  /** Deletes an artifact (a stored file that no longer matches its hash). */
  remove(sha256: string): void {
    this.discard(this.pathOf(sha256));
  }

  /** Marks an artifact as just used (its mtime orders retention). */
  touch(sha256: string): void {
    const now = new Date();
    try {
      utimesSync(this.pathOf(sha256), now, now);
    } catch (err) {
      this.deps.logger.warn('cannot touch a model file', { sha256, error: describeError(err) });
    }
  }

  /**
   * Keeps the `keep` most recently used artifacts plus every protected one (in use, assigned, previous
   * primary of a camera); deletes the rest and partial files nobody downloads. Returns the deleted sha256s.
   */
  prune(keep: number, protect: ReadonlySet<string>): string[] {
    const artifacts = this.list()
      .map((sha) => ({ sha, mtime: statSync(this.pathOf(sha)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    const deleted: string[] = [];
    let kept = 0;
    for (const a of artifacts) {
      if (protect.has(a.sha)) continue;
      if (kept < Math.max(0, keep - [...protect].filter((s) => this.has(s)).length)) {
        kept++;
        continue;
      }
      this.discard(this.pathOf(a.sha));
      deleted.push(a.sha);
    }
    for (const name of readdirSync(this.deps.dir)) {
      const sha = PARTIAL.exec(name)?.[1];
      if (sha && !protect.has(sha) && !this.inFlight.has(sha)) this.discard(join(this.deps.dir, name));
    }
    return deleted;
  }

  /** Stops downloads in progress (their partial files stay for the next start). */
  stop(): void {
    this.abort.abort();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
