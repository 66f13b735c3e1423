import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { BatchWriter } from '../src/ingest/batch-writer.js';
import { IngestStats } from '../src/ingest/ingest-stats.js';
import { isCpError } from '../src/errors.js';
import { silentLogger } from '@edgefleet/service-kit';
import type { Store } from '../src/storage/store.js';
import { makeRows } from './store-conformance.js';
import { STORE_KINDS, lifo, openTestStore } from './ingest-test-kit.js';

function writer(store: Store, stats: IngestStats, options: Partial<ConstructorParameters<typeof BatchWriter>[0]> = {}) {
  return new BatchWriter(
    { batchMaxRows: 20_000, flushIntervalMs: 20, retryMaxDelayMs: 50, drainTimeoutMs: 1000, ...options },
    { store, stats, logger: silentLogger },
  );
}

const T0 = Date.UTC(2030, 2, 1);

for (const kind of STORE_KINDS) {
  describe(`batch writer (${kind})`, () => {
    test('group commit: concurrent messages share flushes and every promise resolves after its rows are committed', async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const stats = new IngestStats();
      const w = writer(store, stats);
      const messages = Array.from({ length: 50 }, (_, i) =>
        makeRows('dev-gc', 'cam-1', { frames: 4, perFrame: 3, startMs: T0, firstFrameSeq: 1 + i * 4 }),
      );
      const outcomes = await Promise.all(messages.map((m) => w.write(m.frames, m.detections)));
      assert.ok(outcomes.every((o) => o.ok));
      assert.equal(await store.countDetections({ deviceId: 'dev-gc' }), 600);
      assert.ok(stats.flushes < 50, `50 messages in ${stats.flushes} flushes`);
      assert.equal(stats.insertedDetections, 600);
      assert.equal(stats.pendingRows, 0);
      await w.stop(1000);
    });

    test('a message the database refuses is isolated: the others in its flush are committed', async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const stats = new IngestStats();
      const w = writer(store, stats);
      const messages = Array.from({ length: 5 }, (_, i) =>
        makeRows('dev-poison', 'cam-1', { frames: 2, perFrame: 2, startMs: T0, firstFrameSeq: 1 + i * 2 }),
      );
      const bad = messages[2]!;
      bad.detections[1] = { ...bad.detections[1]!, label: 'nul\u0000' };
      const outcomes = await Promise.all(messages.map((m) => w.write(m.frames, m.detections)));
      assert.deepEqual(
        outcomes.map((o) => o.ok),
        [true, true, false, true, true],
      );
      assert.equal(outcomes[2]?.ok === false && outcomes[2].reason, 'db-rejected');
      assert.equal(await store.countDetections({ deviceId: 'dev-poison' }), 16);
      assert.equal(await store.countFrames({ deviceId: 'dev-poison' }), 8);
      assert.equal(stats.pendingRows, 0);
      await w.stop(1000);
    });

    test('after stop, writes are refused with CP_ERR_INGEST', async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const w = writer(store, new IngestStats());
      await w.stop(100);
      const m = makeRows('dev-stop', 'cam-1', { frames: 1, perFrame: 1, startMs: T0 });
      await assert.rejects(w.write(m.frames, m.detections), (err: unknown) => isCpError(err, 'CP_ERR_INGEST'));
    });
  });
}

test('batch writer (postgres): rows that cannot be committed before the stop timeout are abandoned, not reported as stored', async (tc) => {
  const t = lifo(tc);
  const { store, url } = await openTestStore(t, 'postgres');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  t.after(() => admin.end());
  await admin.query('ALTER TABLE frames RENAME TO frames_away');
  const stats = new IngestStats();
  const w = writer(store, stats);
  const m = makeRows('dev-abandon', 'cam-1', { frames: 2, perFrame: 2, startMs: T0 });
  const pending = w.write(m.frames, m.detections);
  const settled = pending.then(
    () => 'resolved',
    (err: unknown) => (isCpError(err, 'CP_ERR_INGEST') ? 'abandoned' : String(err)),
  );
  while (stats.flushRetries < 1) await new Promise((r) => setTimeout(r, 20));
  await w.stop(200);
  assert.equal(await settled, 'abandoned');
  assert.equal(stats.pendingRows, 0);
  await admin.query('ALTER TABLE frames_away RENAME TO frames');
  assert.equal(await store.countDetections({ deviceId: 'dev-abandon' }), 0);
});
