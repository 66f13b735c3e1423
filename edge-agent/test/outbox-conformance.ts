/**
 * Behaviour every Outbox implementation must have. Run it once per implementation
 * (see outbox-sqlite.test.ts); it is a plain module, not a test file of its own.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { EvictionEvent, Outbox, OutboxFrame } from '../src/outbox/outbox.js';
import { estimateFrameBytes, IMAGE_STATS_BYTES } from '../src/outbox/row-size.js';

export interface OutboxBounds {
  readonly deviceId: string;
  readonly maxRows: number;
  readonly maxBytes: number;
}

/** Opens one store; `open()` may be called again after `close()` to reopen the same store. */
export interface OutboxHarness {
  open(): Outbox;
  cleanup(): void;
}

export type OutboxHarnessFactory = (bounds: OutboxBounds) => OutboxHarness;

const LABELS = ['person', 'car', 'bicycle', 'dog'] as const;

/** A deterministic frame with `detections` boxes. */
export function makeFrame(
  cameraId: string,
  frameId: number,
  detections: number,
  extra: Partial<OutboxFrame> = {},
): OutboxFrame {
  return {
    cameraId,
    frameId,
    timestampMs: 1_700_000_000_000 + frameId * 33,
    modelId: 'yolov8n',
    modelVersion: '1.0.0',
    arm: 'primary',
    detections: Array.from({ length: detections }, (_, i) => ({
      classId: i % LABELS.length,
      label: LABELS[i % LABELS.length] as string,
      score: 0.5 + (i % 5) / 10,
      box: [i, i + 1, i + 10.5, i + 20.25] as [number, number, number, number],
    })),
    ...extra,
  };
}

const BIG = { maxRows: 1_000_000, maxBytes: 1_000_000_000 };

export function outboxConformance(name: string, factory: OutboxHarnessFactory): void {
  describe(`Outbox conformance: ${name}`, () => {
    const harnesses: OutboxHarness[] = [];
    const opened: Outbox[] = [];
    const setup = (bounds: Partial<OutboxBounds> = {}) => {
      const h = factory({ deviceId: 'dev-1', ...BIG, ...bounds });
      harnesses.push(h);
      const open = () => {
        const o = h.open();
        opened.push(o);
        return o;
      };
      return { open, outbox: open() };
    };
    afterEach(() => {
      for (const o of opened.splice(0)) o.close();
      for (const h of harnesses.splice(0)) h.cleanup();
    });

    it('assigns gapless per-camera detection and frame sequence numbers over many appends', () => {
      const { outbox } = setup();
      const expectedSeq = new Map<string, number>();
      const expectedFrameSeq = new Map<string, number>();
      for (let batch = 0; batch < 60; batch++) {
        const frames = [0, 1, 2].map((k) => makeFrame(`cam-${(batch + k) % 3}`, batch * 3 + k, (batch * 7 + k) % 5));
        const result = outbox.append(frames);
        result.frames.forEach((a, i) => {
          const f = frames[i] as OutboxFrame;
          const prevSeq = expectedSeq.get(f.cameraId) ?? 0;
          const prevFrameSeq = expectedFrameSeq.get(f.cameraId) ?? 0;
          assert.equal(a.cameraId, f.cameraId);
          assert.equal(a.frameSeq, prevFrameSeq + 1);
          if (f.detections.length === 0) {
            assert.equal(a.firstSeq, null);
            assert.equal(a.lastSeq, null);
          } else {
            assert.equal(a.firstSeq, prevSeq + 1);
            assert.equal(a.lastSeq, prevSeq + f.detections.length);
          }
          expectedSeq.set(f.cameraId, prevSeq + f.detections.length);
          expectedFrameSeq.set(f.cameraId, prevFrameSeq + 1);
        });
      }
      const { frames, detections } = outbox.peekFrames(1000);
      assert.equal(frames.length, 180);
      for (const cam of ['cam-0', 'cam-1', 'cam-2']) {
        const seqs = detections.filter((d) => d.cameraId === cam).map((d) => d.seq);
        assert.deepEqual(
          seqs,
          Array.from({ length: seqs.length }, (_, i) => i + 1),
          `${cam} detection seqs are 1..n`,
        );
        assert.equal(outbox.lastSeq(cam), seqs.length);
        const frameSeqs = frames.filter((f) => f.cameraId === cam).map((f) => f.frameSeq);
        assert.deepEqual(
          frameSeqs,
          Array.from({ length: 60 }, (_, i) => i + 1),
          `${cam} frame seqs are 1..60`,
        );
        assert.equal(outbox.lastFrameSeq(cam), 60);
      }
      assert.equal(outbox.lastSeq('never-seen'), 0);
    });

    it('stores every field of frames and detections as given', () => {
      const { outbox } = setup();
      const frame = makeFrame('cam-a', 42, 3, { modelId: 'yolox-s', modelVersion: '2.1.0', arm: 'candidate' });
      const [appended] = outbox.append([frame]).frames;
      const { frames, detections } = outbox.peekFrames(10);
      assert.equal(frames.length, 1);
      assert.deepEqual(frames[0], {
        rowId: appended!.rowId,
        deviceId: 'dev-1',
        cameraId: 'cam-a',
        frameSeq: 1,
        frameId: 42,
        timestampMs: frame.timestampMs,
        modelId: 'yolox-s',
        modelVersion: '2.1.0',
        arm: 'candidate',
        detectionCount: 3,
        firstSeq: 1,
        lastSeq: 3,
        bytes: estimateFrameBytes('dev-1', frame),
        imageStats: null,
      });
      assert.equal(detections.length, 3);
      detections.forEach((d, i) => {
        const src = frame.detections[i]!;
        assert.equal(d.frameRowId, appended!.rowId);
        assert.equal(d.seq, i + 1);
        assert.equal(d.frameSeq, 1);
        assert.equal(d.frameId, 42);
        assert.equal(d.deviceId, 'dev-1');
        assert.equal(d.arm, 'candidate');
        assert.equal(d.modelVersion, '2.1.0');
        assert.equal(d.classId, src.classId);
        assert.equal(d.label, src.label);
        assert.equal(d.score, src.score);
        assert.deepEqual(d.box, src.box);
      });
    });

    it('stores image statistics (the grid at float32 precision) and frames without them as null', () => {
      const { outbox } = setup();
      const lumaGrid = Array.from({ length: 16 }, (_, i) => Math.fround(i / 16 + 0.01));
      const imageStats = { brightness: 0.123456789, contrast: 0.2, sharpness: 0.0042, saturation: 1, lumaGrid };
      outbox.append([makeFrame('cam-a', 1, 1, { imageStats }), makeFrame('cam-a', 2, 0)]);
      const { frames } = outbox.peekFrames(10);
      assert.deepEqual(frames[0]!.imageStats, imageStats);
      assert.equal(frames[1]!.imageStats, null);
      assert.equal(frames[0]!.bytes, estimateFrameBytes('dev-1', makeFrame('cam-a', 1, 1)) + IMAGE_STATS_BYTES);
    });

    it('stores and counts frames with zero detections', () => {
      const { outbox } = setup();
      outbox.append([makeFrame('cam-a', 1, 0), makeFrame('cam-a', 2, 2), makeFrame('cam-a', 3, 0)]);
      const s = outbox.stats();
      assert.equal(s.frames, 3);
      assert.equal(s.detections, 2);
      const { frames } = outbox.peekFrames(10);
      assert.deepEqual(
        frames.map((f) => [f.frameSeq, f.detectionCount, f.firstSeq, f.lastSeq]),
        [
          [1, 0, null, null],
          [2, 2, 1, 2],
          [3, 0, null, null],
        ],
      );
    });

    it('continues sequences after reopening the store', () => {
      const h = setup();
      h.outbox.append([makeFrame('cam-a', 1, 4), makeFrame('cam-b', 1, 2)]);
      h.outbox.close();
      const again = h.open();
      assert.equal(again.lastSeq('cam-a'), 4);
      assert.equal(again.stats().frames, 2);
      assert.equal(again.stats().detections, 6);
      const [a] = again.append([makeFrame('cam-a', 2, 3)]).frames;
      assert.deepEqual([a!.frameSeq, a!.firstSeq, a!.lastSeq], [2, 5, 7]);
    });

    it('continues sequences after every row was acked, also across a reopen', () => {
      const h = setup();
      h.outbox.append([makeFrame('cam-a', 1, 5)]);
      const ids = h.outbox.peekFrames(10).frames.map((f) => f.rowId);
      assert.equal(h.outbox.ack(ids), 1);
      assert.equal(h.outbox.stats().frames, 0);
      h.outbox.close();
      const again = h.open();
      assert.equal(again.lastSeq('cam-a'), 5);
      const [a] = again.append([makeFrame('cam-a', 2, 1)]).frames;
      assert.deepEqual([a!.frameSeq, a!.firstSeq], [2, 6]);
    });

    it('ack deletes exactly the given frames with their detections and is idempotent', () => {
      const { outbox } = setup();
      outbox.append([1, 2, 3, 4].map((i) => makeFrame('cam-a', i, i)));
      const before = outbox.peekFrames(10).frames;
      const acked = [before[0]!.rowId, before[2]!.rowId];
      assert.equal(outbox.ack(acked), 2);
      assert.equal(outbox.ack(acked), 0, 'acking again deletes nothing');
      assert.equal(outbox.ack([987654321]), 0, 'unknown ids are ignored');
      const after = outbox.peekFrames(10);
      assert.deepEqual(
        after.frames.map((f) => f.frameSeq),
        [2, 4],
      );
      assert.deepEqual(
        after.detections.map((d) => d.frameSeq),
        [2, 2, 4, 4, 4, 4],
      );
      const frame2 = makeFrame('cam-a', 2, 2);
      const frame4 = makeFrame('cam-a', 4, 4);
      assert.deepEqual(outbox.stats(), {
        frames: 2,
        detections: 6,
        bytes: estimateFrameBytes('dev-1', frame2) + estimateFrameBytes('dev-1', frame4),
        evictedFrames: 0,
        evictedDetections: 0,
      });
    });

    it('peeks oldest first, honours limit and afterRowId', () => {
      const { outbox } = setup();
      outbox.append(Array.from({ length: 10 }, (_, i) => makeFrame('cam-a', i, 1)));
      const first = outbox.peekFrames(4);
      assert.deepEqual(
        first.frames.map((f) => f.frameSeq),
        [1, 2, 3, 4],
      );
      assert.deepEqual(
        first.detections.map((d) => d.seq),
        [1, 2, 3, 4],
      );
      const next = outbox.peekFrames(4, first.frames.at(-1)!.rowId);
      assert.deepEqual(
        next.frames.map((f) => f.frameSeq),
        [5, 6, 7, 8],
      );
      assert.deepEqual(
        outbox.peekFrames(100, next.frames.at(-1)!.rowId).frames.map((f) => f.frameSeq),
        [9, 10],
      );
      assert.throws(() => outbox.peekFrames(0), { code: 'EDGE_ERR_OUTBOX' });
    });

    it('evicts the oldest frames when maxRows is reached and counts exactly what was lost', () => {
      // Each frame costs 1 + 3 = 4 rows; 100 rows hold 25 frames.
      const { outbox } = setup({ maxRows: 100 });
      const events: EvictionEvent[] = [];
      outbox.onEvicted((e) => events.push(e));
      for (let i = 1; i <= 25; i++) outbox.append([makeFrame('cam-a', i, 3)]);
      assert.equal(events.length, 0);
      assert.equal(outbox.stats().frames + outbox.stats().detections, 100);
      // 15 more frames in 5 batches of 3: each batch must make room for 12 rows = 3 frames.
      for (let b = 0; b < 5; b++) {
        const r = outbox.append([26, 27, 28].map((k) => makeFrame('cam-a', k + b * 3, 3)));
        assert.equal(r.evicted?.frames, 3);
        assert.equal(r.evicted?.detections, 9);
      }
      const s = outbox.stats();
      assert.equal(s.frames, 25);
      assert.equal(s.detections, 75);
      assert.equal(s.evictedFrames, 40 - 25);
      assert.equal(s.evictedDetections, (40 - 25) * 3);
      assert.equal(events.length, 5);
      assert.equal(
        events.reduce((n, e) => n + e.frames, 0),
        15,
      );
      assert.deepEqual(events[0]!.cameras, [
        { cameraId: 'cam-a', frames: 3, detections: 9, firstFrameSeq: 1, lastFrameSeq: 3 },
      ]);
      assert.equal(events[0]!.reason, 'bounds');
      const { frames, detections } = outbox.peekFrames(100);
      assert.deepEqual(
        frames.map((f) => f.frameSeq),
        Array.from({ length: 25 }, (_, i) => i + 16),
        'the newest 25 remain',
      );
      assert.equal(detections[0]!.seq, 15 * 3 + 1, 'the first remaining detection follows the evicted ones');
      assert.equal(outbox.lastSeq('cam-a'), 120, 'eviction does not rewind sequences');
    });

    it('evicts by accounted bytes when maxBytes is the tighter bound', () => {
      const frameBytes = estimateFrameBytes('dev-1', makeFrame('cam-a', 1, 2));
      // Room for exactly 10 frames of this size.
      const { outbox } = setup({ maxBytes: frameBytes * 10 + frameBytes - 1 });
      for (let i = 1; i <= 17; i++) outbox.append([makeFrame('cam-a', i, 2)]);
      const s = outbox.stats();
      assert.equal(s.frames, 10);
      assert.equal(s.bytes, frameBytes * 10);
      assert.equal(s.evictedFrames, 7);
      assert.equal(s.evictedDetections, 14);
      assert.equal(outbox.peekFrames(1).frames[0]!.frameSeq, 8);
    });

    it('evicts mixed frame sizes exactly: enough oldest frames to fit, never more', () => {
      const { outbox } = setup({ maxRows: 20 });
      // rows: 1 + 5 = 6, 1 + 0 = 1, 1 + 3 = 4, 1 + 7 = 8 → 19 rows.
      outbox.append([makeFrame('c', 1, 5), makeFrame('c', 2, 0), makeFrame('c', 3, 3), makeFrame('c', 4, 7)]);
      // +3 rows → 22 > 20: must free ≥ 2 rows; the oldest frame (6 rows) suffices.
      const r = outbox.append([makeFrame('c', 5, 2)]);
      assert.deepEqual([r.evicted?.frames, r.evicted?.detections], [1, 5]);
      assert.equal(outbox.stats().frames + outbox.stats().detections, 16);
      // +5 rows → 21: must free ≥ 1 row; oldest is now the empty frame (1 row).
      const r2 = outbox.append([makeFrame('c', 6, 4)]);
      assert.deepEqual([r2.evicted?.frames, r2.evicted?.detections], [1, 0]);
      assert.deepEqual(outbox.stats(), {
        ...outbox.stats(),
        frames: 4,
        detections: 16,
        evictedFrames: 2,
        evictedDetections: 5,
      });
    });

    it('drops the oldest frames of a batch that alone exceeds the bounds, keeping their numbers used', () => {
      const { outbox } = setup({ maxRows: 10 });
      outbox.append([makeFrame('c', 1, 1)]);
      // 5 frames x 3 rows = 15 rows: everything stored goes, then the batch's own 2 oldest frames.
      const r = outbox.append([2, 3, 4, 5, 6].map((i) => makeFrame('c', i, 2)));
      assert.equal(r.frames.length, 5);
      assert.deepEqual(
        r.frames.map((f) => f.frameSeq),
        [2, 3, 4, 5, 6],
      );
      assert.deepEqual([r.evicted?.frames, r.evicted?.detections], [3, 5]);
      assert.deepEqual(
        outbox.peekFrames(10).frames.map((f) => f.frameSeq),
        [4, 5, 6],
      );
      assert.equal(outbox.stats().evictedFrames, 3);
      assert.equal(outbox.lastSeq('c'), 11);
    });

    it('persists eviction counters across a reopen', () => {
      const h = setup({ maxRows: 8 });
      for (let i = 1; i <= 6; i++) h.outbox.append([makeFrame('c', i, 1)]);
      assert.equal(h.outbox.stats().evictedFrames, 2);
      h.outbox.close();
      const again = h.open();
      assert.equal(again.stats().evictedFrames, 2);
      assert.equal(again.stats().evictedDetections, 2);
      again.append([makeFrame('c', 7, 1)]);
      assert.equal(again.stats().evictedFrames, 3);
    });

    it('evictOldest removes the given number of oldest frames and reports them', () => {
      const { outbox } = setup();
      outbox.append([makeFrame('a', 1, 2), makeFrame('b', 1, 1), makeFrame('a', 2, 0), makeFrame('a', 3, 4)]);
      const events: EvictionEvent[] = [];
      const off = outbox.onEvicted((e) => events.push(e));
      const e = outbox.evictOldest(3);
      assert.equal(e?.reason, 'manual');
      assert.deepEqual([e?.frames, e?.detections], [3, 3]);
      assert.deepEqual(
        [...(e?.cameras ?? [])].sort((x, y) => x.cameraId.localeCompare(y.cameraId)),
        [
          { cameraId: 'a', frames: 2, detections: 2, firstFrameSeq: 1, lastFrameSeq: 2 },
          { cameraId: 'b', frames: 1, detections: 1, firstFrameSeq: 1, lastFrameSeq: 1 },
        ],
      );
      assert.equal(events.length, 1);
      off();
      assert.equal(outbox.evictOldest(10)?.frames, 1);
      assert.equal(events.length, 1, 'an unsubscribed listener is not called');
      assert.equal(outbox.evictOldest(1), null, 'nothing left to evict');
      assert.equal(outbox.stats().evictedFrames, 4);
    });

    it('rejects use after close with EDGE_ERR_OUTBOX', () => {
      const { outbox } = setup();
      outbox.close();
      assert.throws(() => outbox.append([makeFrame('a', 1, 1)]), { code: 'EDGE_ERR_OUTBOX', message: /closed/ });
    });
  });
}
