import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { isCpError } from '../src/errors.js';
import type { ArtifactStore } from '../src/artifacts/artifact-store.js';

/**
 * What every ArtifactStore must do (the file store runs it in artifact-store.test.ts; an S3-compatible
 * store would run it too).
 */

export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** A source that yields `bytes` in pieces of `piece` bytes. */
export async function* pieces(bytes: Uint8Array, piece = 4096): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += piece) yield bytes.subarray(i, i + piece);
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export function artifactStoreConformance(
  label: string,
  open: (t: { after: (fn: () => void | Promise<void>) => void }) => Promise<ArtifactStore>,
): void {
  describe(`ArtifactStore conformance: ${label}`, () => {
    test('put computes the sha256 while writing; open returns the bytes from any offset', async (t) => {
      const store = await open(t);
      const bytes = randomBytes(300_001);
      const stored = await store.put(pieces(bytes, 7777));
      assert.deepEqual(stored, { sha256: sha(bytes), sizeBytes: bytes.length });
      assert.equal(await store.has(stored.sha256), true);
      assert.equal(await store.size(stored.sha256), bytes.length);
      for (const offset of [0, 1, 65_536, 300_000, 300_001]) {
        const { stream, sizeBytes } = await store.open(stored.sha256, offset, { chunkBytes: 65_536 });
        assert.equal(sizeBytes, bytes.length);
        assert.ok((await readAll(stream)).equals(bytes.subarray(offset)), `offset ${offset}`);
      }
    });

    test('open yields chunks no larger than asked', async (t) => {
      const store = await open(t);
      const bytes = randomBytes(10_000);
      const { sha256 } = await store.put(pieces(bytes));
      const { stream } = await store.open(sha256, 0, { chunkBytes: 1024 });
      const sizes: number[] = [];
      for await (const chunk of stream) sizes.push((chunk as Buffer).length);
      assert.ok(sizes.every((s) => s <= 1024));
      assert.equal(
        sizes.reduce((a, b) => a + b, 0),
        10_000,
      );
    });

    test('an unknown digest is CP_ERR_ARTIFACT_NOT_FOUND; an offset past the end is CP_ERR_ARTIFACT_RANGE', async (t) => {
      const store = await open(t);
      await assert.rejects(store.open('f'.repeat(64)), (err: unknown) => isCpError(err, 'CP_ERR_ARTIFACT_NOT_FOUND'));
      await assert.rejects(store.open('../../etc/passwd'), (err: unknown) =>
        isCpError(err, 'CP_ERR_ARTIFACT_NOT_FOUND'),
      );
      const { sha256 } = await store.put(pieces(randomBytes(100)));
      await assert.rejects(store.open(sha256, 101), (err: unknown) => isCpError(err, 'CP_ERR_ARTIFACT_RANGE'));
      assert.equal(await store.size('f'.repeat(64)), null);
    });

    test('bytes with another digest than expected, or more than maxBytes, are refused and nothing is stored', async (t) => {
      const store = await open(t);
      const bytes = randomBytes(5000);
      await assert.rejects(store.put(pieces(bytes), { expectedSha256: 'a'.repeat(64) }), (err: unknown) =>
        isCpError(err, 'CP_ERR_ARTIFACT_DIGEST'),
      );
      assert.equal(await store.has(sha(bytes)), false);
      await assert.rejects(store.put(pieces(bytes), { maxBytes: 4999 }), (err: unknown) =>
        isCpError(err, 'CP_ERR_MODEL_TOO_LARGE'),
      );
      assert.equal(await store.has(sha(bytes)), false);
      assert.equal((await store.put(pieces(bytes), { maxBytes: 5000, expectedSha256: sha(bytes) })).sizeBytes, 5000);
    });

    test('storing the same bytes twice, even at once, keeps one artifact; delete removes it', async (t) => {
      const store = await open(t);
      const bytes = randomBytes(50_000);
      const [a, b] = await Promise.all([store.put(pieces(bytes)), store.put(pieces(bytes, 1000))]);
      assert.deepEqual(a, b);
      assert.ok((await readAll((await store.open(a.sha256)).stream)).equals(bytes));
      assert.equal(await store.delete(a.sha256), true);
      assert.equal(await store.delete(a.sha256), false);
      assert.equal(await store.has(a.sha256), false);
    });
  });
}
