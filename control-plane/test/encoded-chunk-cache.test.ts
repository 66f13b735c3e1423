import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeModelChunk } from '@edgefleet/proto';
import { EncodedChunkCache } from '../src/grpc/encoded-chunk-cache.js';
import { FileArtifactStore } from '../src/artifacts/file-artifact-store.js';
import { isCpError } from '../src/errors.js';
import { pieces } from './artifact-store-conformance.js';
import { tempDir } from '@edgefleet/service-kit/testing';

async function storeWith(t: { after: (fn: () => void) => void }, ...blobs: Buffer[]) {
  const store = new FileArtifactStore(join(tempDir(t), 'artifacts'));
  await store.start();
  const shas: string[] = [];
  for (const b of blobs) shas.push((await store.put(pieces(b))).sha256);
  return { store, shas };
}

test('an artifact is encoded once into chunks that decode back to its bytes, and concurrent first downloads share the load', async (t) => {
  const blob = randomBytes(10_000);
  const { store, shas } = await storeWith(t, blob);
  let opens = 0;
  const counting = Object.create(store, {
    open: {
      value: (...a: Parameters<typeof store.open>) => {
        opens++;
        return store.open(...a);
      },
    },
  }) as typeof store;
  const cache = new EncodedChunkCache(counting, 1 << 20);
  const [a, b] = await Promise.all([cache.get(shas[0]!, blob.length, 4096), cache.get(shas[0]!, blob.length, 4096)]);
  assert.equal(a, b);
  assert.equal(opens, 1);
  const chunks = a!.messages.map((m) => decodeModelChunk(m.bytes));
  assert.deepEqual(
    chunks.map((c) => [c.offset, c.data.length, c.totalBytes]),
    [
      [0, 4096, 10_000],
      [4096, 4096, 10_000],
      [8192, 1808, 10_000],
    ],
  );
  assert.deepEqual(Buffer.concat(chunks.map((c) => c.data)), blob);
  assert.ok(cache.bytes > blob.length);
  await cache.get(shas[0]!, blob.length, 4096);
  assert.equal(opens, 1, 'a hit reads nothing');
});

test('the least recently used artifact leaves when the budget is exceeded; one above the budget is never cached', async (t) => {
  const [x, y, z] = [randomBytes(3000), randomBytes(3000), randomBytes(3000)];
  const { store, shas } = await storeWith(t, x, y, z);
  const cache = new EncodedChunkCache(store, 7000);
  await cache.get(shas[0]!, 3000, 1024);
  await cache.get(shas[1]!, 3000, 1024);
  await cache.get(shas[0]!, 3000, 1024); // x is now the most recent
  await cache.get(shas[2]!, 3000, 1024); // over budget: y goes
  assert.ok(cache.bytes <= 7000, `${cache.bytes} bytes cached`);
  let opened: string | null = null;
  const watching = Object.create(store, {
    open: {
      value: (sha: string, ...rest: [number?, object?]) => {
        opened = sha;
        return store.open(sha, ...rest);
      },
    },
  }) as typeof store;
  const spy = new EncodedChunkCache(watching, 7000);
  assert.equal(await spy.get(shas[0]!, 8000, 1024), null, 'larger than the budget: the caller streams it');
  assert.equal(opened, null);
});

test("an unknown artifact is the store's error, and is not remembered", async (t) => {
  const { store } = await storeWith(t);
  const cache = new EncodedChunkCache(store, 1 << 20);
  const missing = 'f'.repeat(64);
  await assert.rejects(cache.get(missing, 10, 1024), (err) => isCpError(err, 'CP_ERR_ARTIFACT_NOT_FOUND'));
  await assert.rejects(cache.get(missing, 10, 1024), (err) => isCpError(err, 'CP_ERR_ARTIFACT_NOT_FOUND'));
  assert.equal(cache.bytes, 0);
});
