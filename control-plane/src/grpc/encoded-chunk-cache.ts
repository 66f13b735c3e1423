import { encodeModelChunkMessage, type EncodedMessage } from '@edgefleet/proto';
import type { ArtifactStore } from '../artifacts/artifact-store.js';

/**
 * Artifacts cut into encoded ModelChunk messages once and shared by every download of them. A rollout
 * sends the same model to many agents; reading and encoding it per download allocated two fresh chunk
 * buffers per chunk per agent (plus grpc-js' own framing copy), and that allocation rate, not the copying,
 * was what cost: every few tens of MB it triggered a full garbage collection, whose price grows with
 * everything else on the heap (hundreds of open watch streams). With the cache a download allocates only
 * grpc-js' framing buffer per chunk.
 *
 * Least recently used artifacts are dropped to stay within `maxBytes`; an artifact larger than the budget
 * is never cached (its downloads stream from the store as before). Concurrent first downloads of one
 * artifact share one load.
 */

export interface CachedArtifact {
  readonly sizeBytes: number;
  readonly chunkBytes: number;
  /** Chunk i covers [i × chunkBytes, min((i + 1) × chunkBytes, size)). */
  readonly messages: readonly EncodedMessage[];
}

interface Entry {
  readonly key: string;
  readonly loading: Promise<CachedArtifact>;
  bytes: number;
}

export class EncodedChunkCache {
  private readonly entries = new Map<string, Entry>();
  private cachedBytes = 0;

  constructor(
    private readonly artifacts: ArtifactStore,
    private readonly maxBytes: number,
  ) {}

  /** Bytes held (encoded messages of complete loads). */
  get bytes(): number {
    return this.cachedBytes;
  }

  /**
   * The artifact's encoded chunks, or null when it does not fit the budget (the caller streams it).
   * Throws what the store throws (CP_ERR_ARTIFACT_NOT_FOUND, …).
   */
  async get(sha256: string, sizeBytes: number, chunkBytes: number): Promise<CachedArtifact | null> {
    if (sizeBytes > this.maxBytes) return null;
    const key = `${sha256}/${chunkBytes}`;
    const hit = this.entries.get(key);
    if (hit) {
      // Most recently used last (Map keeps insertion order).
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.loading;
    }
    const entry: Entry = { key, loading: this.load(sha256, chunkBytes), bytes: 0 };
    this.entries.set(key, entry);
    try {
      const loaded = await entry.loading;
      if (this.entries.get(key) === entry) {
        entry.bytes = loaded.messages.reduce((n, m) => n + m.bytes.length, 0);
        this.cachedBytes += entry.bytes;
        this.evict(key);
      }
      return loaded;
    } catch (err) {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw err;
    }
  }

  /** Forgets every cached artifact (e.g. when one was deleted from the store). */
  clear(): void {
    this.entries.clear();
    this.cachedBytes = 0;
  }

  private async load(sha256: string, chunkBytes: number): Promise<CachedArtifact> {
    const { stream, sizeBytes } = await this.artifacts.open(sha256, 0, { chunkBytes });
    const messages: EncodedMessage[] = [];
    let offset = 0;
    try {
      for await (const piece of stream) {
        const bytes = piece as Uint8Array;
        messages.push(encodeModelChunkMessage({ offset, data: bytes, totalBytes: sizeBytes }));
        offset += bytes.length;
      }
    } finally {
      stream.destroy();
    }
    if (offset !== sizeBytes) throw new Error(`artifact ${sha256} gave ${offset} bytes, expected ${sizeBytes}`);
    return { sizeBytes, chunkBytes, messages };
  }

  private evict(keep: string): void {
    for (const [key, entry] of this.entries) {
      if (this.cachedBytes <= this.maxBytes) return;
      if (key === keep || entry.bytes === 0) continue;
      this.entries.delete(key);
      this.cachedBytes -= entry.bytes;
    }
  }
}
