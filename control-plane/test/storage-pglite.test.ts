import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPgliteExecutor, createPgliteStore } from '../src/storage/pglite-store.js';
import { SqlStore } from '../src/storage/sql-store.js';
import { registryConformance } from './registry-conformance.js';
import { makeRows, storeConformance } from './store-conformance.js';
import { tempDir } from '@edgefleet/service-kit/testing';

storeConformance('PGlite (in memory)', async () => {
  const store = await createPgliteStore();
  await store.migrate();
  return { store, cleanup: async () => {} };
});

registryConformance('PGlite (in memory)', async () => {
  const executor = await createPgliteExecutor();
  const store = new SqlStore('pglite', executor);
  await store.migrate();
  return { store, sql: (text) => executor.exec(text), cleanup: async () => {} };
});

test('PGlite store in a directory keeps its rows and migrations across reopening', async (t) => {
  const dir = tempDir(t);
  const first = await createPgliteStore({ dataDir: dir });
  assert.deepEqual(await first.migrate(), [1, 2, 3]);
  const rows = makeRows('dev-reopen', 'cam-1', { frames: 3, perFrame: 2, startMs: Date.UTC(2030, 0, 1) });
  await first.insertBatch(rows.frames, rows.detections);
  await first.close();
  // Closed inside the test: the temp dir's own after-hook removes the files, which PGlite must not outlive.
  const second = await createPgliteStore({ dataDir: dir });
  try {
    assert.deepEqual(await second.migrate(), []);
    assert.equal(await second.countDetections({ deviceId: 'dev-reopen' }), 6);
    assert.deepEqual(await second.insertBatch(rows.frames, rows.detections), {
      insertedFrames: 0,
      insertedDetections: 0,
      duplicates: 9,
    });
  } finally {
    await second.close();
  }
});
