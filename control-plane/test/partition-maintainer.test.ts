import { systemClock } from '@edgefleet/service-kit';
/**
 * The partition maintainer on a real store, PostgreSQL and PGlite: at start and then on its timer it
 * creates today's day partitions and `partitionsAhead` more, and applies retention (old day partitions
 * dropped, old rows of the default partitions deleted). The clock is injected, so "today" moves on demand.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '@edgefleet/service-kit';
import { PartitionMaintainer } from '../src/storage/partition-maintainer.js';
import { createPgStore } from '../src/storage/pg-store.js';
import { createPgliteStore } from '../src/storage/pglite-store.js';
import type { Store } from '../src/storage/store.js';
import { waitFor } from './ingest-test-kit.js';
import { makeRows } from './store-conformance.js';
import { createDatabase } from './storage-test-db.js';

const DAY_MS = 86_400_000;
const DEVICE = 'dev-maintainer';

interface Backend {
  readonly label: string;
  readonly open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>;
}

const backends: Backend[] = [
  {
    label: 'PostgreSQL',
    open: async () => {
      const { url, drop } = await createDatabase();
      const store = createPgStore({ connectionString: url });
      return { store, cleanup: drop };
    },
  },
  { label: 'PGlite (in memory)', open: async () => ({ store: await createPgliteStore(), cleanup: async () => {} }) },
];

/** The days of the `frames` and `detections` day partitions, each sorted. */
async function partitionDays(store: Store): Promise<{ frames: string[]; detections: string[] }> {
  const parts = await store.listPartitions();
  const days = (table: string): string[] =>
    parts
      .filter((p) => p.table === table && p.day !== null)
      .map((p) => p.day as string)
      .sort();
  return { frames: days('frames'), detections: days('detections') };
}

for (const backend of backends) {
  describe(`partition maintainer: ${backend.label}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let maintainer: PartitionMaintainer | null = null;
    let nowMs = Date.UTC(2040, 2, 10, 12); // 2040-03-10, far from other tests' days

    before(async () => {
      ({ store, cleanup } = await backend.open());
      await store.migrate();
      // Before the maintainer runs: three old day partitions with a row each, one old row and one recent
      // row in the default partition (no day partition for 2040-01-15 or 2040-02-20).
      await store.ensurePartitions('2040-02-01', 3);
      const old = makeRows(DEVICE, 'cam-1', {
        frames: 3,
        perFrame: 1,
        startMs: Date.UTC(2040, 1, 1, 12),
        stepMs: DAY_MS,
      });
      const oldDefault = makeRows(DEVICE, 'cam-1', {
        frames: 1,
        perFrame: 1,
        startMs: Date.UTC(2040, 0, 15, 12),
        firstFrameSeq: 10,
      });
      const recentDefault = makeRows(DEVICE, 'cam-1', {
        frames: 1,
        perFrame: 1,
        startMs: Date.UTC(2040, 1, 20, 12),
        firstFrameSeq: 20,
      });
      const rows = [old, oldDefault, recentDefault];
      await store.insertBatch(
        rows.flatMap((r) => r.frames),
        rows.flatMap((r) => r.detections),
      );
    });

    after(async () => {
      await maintainer?.stop();
      await store?.close();
      await cleanup?.();
    });

    test('at start it creates today and the partitions ahead, drops partitions past retention and deletes old default rows', async () => {
      assert.equal(await store.countFrames({ deviceId: DEVICE }), 5);
      maintainer = new PartitionMaintainer(
        { partitionsAhead: 3, retentionDays: 30, intervalMs: 25 },
        { store, logger: silentLogger, clock: { ...systemClock, now: () => nowMs } },
      );
      await maintainer.start();
      const today = ['2040-03-10', '2040-03-11', '2040-03-12', '2040-03-13'];
      assert.deepEqual(await partitionDays(store), { frames: today, detections: today });
      // Cutoff 2040-02-09: the three February partitions and the January default row are gone; the
      // default row of 2040-02-20 is within retention and stays.
      assert.equal(await store.countFrames({ deviceId: DEVICE }), 1);
      assert.equal(await store.countDetections({ deviceId: DEVICE }), 1);
    });

    test('its timer keeps partitions ahead as the days pass and drops the ones that age out', async () => {
      assert.ok(maintainer, 'started by the previous test');
      nowMs = Date.UTC(2040, 3, 20, 12); // 2040-04-20: cutoff 2040-03-21, past every March partition
      const later = ['2040-04-20', '2040-04-21', '2040-04-22', '2040-04-23'];
      await waitFor('the timer to maintain the partitions of 2040-04-20', async () => {
        const days = await partitionDays(store);
        return JSON.stringify(days) === JSON.stringify({ frames: later, detections: later });
      });
      // The 2040-02-20 default row is now past retention too.
      await waitFor(
        'the timer to delete the aged default row',
        async () => (await store.countFrames({ deviceId: DEVICE })) === 0,
      );
      assert.equal(await store.countDetections({ deviceId: DEVICE }), 0);
    });
  });
}
