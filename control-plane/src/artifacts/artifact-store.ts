import type { Readable } from 'node:stream';

/**
 * Where model artifacts live, addressed by the lower-case hex SHA-256 of their bytes. The file store
 * (file-artifact-store.ts) keeps them under `<dataDir>/artifacts`; an S3-compatible store can implement
 * the same interface later (put: multipart upload while hashing, then a copy to the content key; open:
 * a ranged GET), and test/artifact-store-conformance.ts is the suite it has to pass.
 */

export interface StoredArtifact {
  readonly sha256: string;
  readonly sizeBytes: number;
}

export interface PutOptions {
  /** When given, bytes with another digest are refused (CP_ERR_ARTIFACT_DIGEST) and nothing is stored. */
  readonly expectedSha256?: string;
  /** More bytes than this are refused (CP_ERR_MODEL_TOO_LARGE) and nothing is stored. */
  readonly maxBytes?: number;
}

export interface OpenOptions {
  /** Size of the chunks the stream yields (the last one may be shorter). */
  readonly chunkBytes?: number;
}

export type ByteSource = AsyncIterable<Uint8Array>;

export interface ArtifactStore {
  /**
   * Streams `source` into the store, computing its SHA-256 while writing; the artifact becomes visible
   * only once all of it is durable (never a partial artifact under a digest). Storing bytes that are
   * already there is a no-op that answers the same digest.
   */
  put(source: ByteSource, options?: PutOptions): Promise<StoredArtifact>;
  /**
   * The bytes from `offset` to the end. CP_ERR_ARTIFACT_NOT_FOUND for an unknown digest,
   * CP_ERR_ARTIFACT_RANGE for an offset past the end (an offset equal to the size gives an empty stream).
   */
  open(
    sha256: string,
    offset?: number,
    options?: OpenOptions,
  ): Promise<{ readonly stream: Readable; readonly sizeBytes: number }>;
  /** Size in bytes, or null when the artifact is not stored. */
  size(sha256: string): Promise<number | null>;
  has(sha256: string): Promise<boolean>;
  /** Removes the artifact; false when it was not there. */
  delete(sha256: string): Promise<boolean>;
}
