import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileArtifactStore } from '../src/artifacts/file-artifact-store.js';
import { isCpError } from '../src/errors.js';
import { artifactStoreConformance, pieces } from './artifact-store-conformance.js';
import { tempDir } from '@edgefleet/service-kit/testing';

artifactStoreConformance('files under a directory', async (t) => {
  const store = new FileArtifactStore(join(tempDir(t as { after: (fn: () => void) => void }), 'artifacts'));
  await store.start();
  return store;
});

test('file store: artifacts are named by digest under sha256/<2 hex>/; refused puts leave no temp file', async (t) => {
  const root = join(tempDir(t), 'artifacts');
  const store = new FileArtifactStore(root);
  await store.start();
  const { sha256 } = await store.put(pieces(randomBytes(1000)));
  assert.deepEqual(readdirSync(join(root, 'sha256', sha256.slice(0, 2))), [sha256]);
  await assert.rejects(store.put(pieces(randomBytes(1000)), { maxBytes: 10 }), (err: unknown) =>
    isCpError(err, 'CP_ERR_MODEL_TOO_LARGE'),
  );
  assert.deepEqual(readdirSync(join(root, 'tmp')), []);
});

test('file store: start sweeps temp files an interrupted put left behind', async (t) => {
  const root = join(tempDir(t), 'artifacts');
  const first = new FileArtifactStore(root);
  await first.start();
  // A source that fails half way stands in for a crash during a put.
  async function* broken(): AsyncGenerator<Uint8Array> {
    yield randomBytes(100);
    throw new Error('connection reset');
  }
  await assert.rejects(first.put(broken()), /connection reset/);
  writeFileSync(join(root, 'tmp', 'left-by-a-crash.part'), 'x');
  await new FileArtifactStore(root).start();
  assert.deepEqual(readdirSync(join(root, 'tmp')), []);
});
