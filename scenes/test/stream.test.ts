import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { createSceneStream } from '../src/index.js';
import { lumaStats } from './helpers.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('a stream yields successive frames with timestamps from its fps', () => {
  const s = createSceneStream({ domainSchedule: 'day:10', seed: 1, width: 96, height: 72, fps: 5 });
  const frames = [s.next(), s.next(), s.next()];
  assert.deepEqual(
    frames.map((f) => f.index),
    [0, 1, 2],
  );
  assert.deepEqual(
    frames.map((f) => f.timestampMs),
    [0, 200, 400],
  );
  for (const f of frames) {
    assert.equal(f.data.length, 96 * 72 * 3);
    assert.equal(f.format, 'RGB');
  }
});

test('frames are a pure function of seed and index (random access equals sequential)', () => {
  const opts = { domainSchedule: 'day:5,night:5~2', seed: 4, width: 80, height: 60, fps: 4 } as const;
  const a = createSceneStream(opts);
  const seq = Array.from({ length: 30 }, () => a.next());
  const b = createSceneStream(opts);
  for (const i of [29, 3, 17, 0]) {
    const f = b.frameAt(i);
    assert.equal(sha(f.data), sha(seq[i]!.data), `frame ${i}`);
    assert.deepEqual(f.labels, seq[i]!.labels);
  }
  const other = createSceneStream({ ...opts, seed: 5 });
  assert.notEqual(sha(other.frameAt(3).data), sha(seq[3]!.data));
});

test('objects move between frames', () => {
  const s = createSceneStream({ domainSchedule: 'day:600', seed: 2, width: 160, height: 120, fps: 2, density: 20 });
  let moved = 0;
  for (let i = 0; i < 20; i++) {
    const a = s.frameAt(i);
    const b = s.frameAt(i + 1);
    if (JSON.stringify(a.labels.map((l) => l.box)) !== JSON.stringify(b.labels.map((l) => l.box))) moved++;
  }
  assert.ok(moved >= 10, `boxes changed in ${moved} of 20 frame pairs`);
});

test('the domain follows the schedule with a gradual transition', () => {
  const s = createSceneStream({ domainSchedule: 'day:10,night:10~4', seed: 3, width: 80, height: 60, fps: 1 });
  assert.equal(s.frameAt(5).domainLabel, 'day');
  assert.equal(s.frameAt(12).domain.night, 0.5);
  assert.equal(s.frameAt(12).domainLabel, 'day->night 50%');
  assert.equal(s.frameAt(15).domain.night, 1);
  const mean = (i: number) => lumaStats(s.frameAt(i).data).mean;
  assert.ok(
    mean(9) > mean(12) && mean(12) > mean(15),
    `brightness falls through the transition: ${mean(9)}, ${mean(12)}, ${mean(15)}`,
  );
});

test('bad stream options are rejected with a reason', () => {
  assert.throws(() => createSceneStream({ domainSchedule: 'day' }), { code: 'SCENES_ERR_SCHEDULE' });
  assert.throws(() => createSceneStream({ domainSchedule: 'day:10', fps: 0 }), {
    code: 'SCENES_ERR_ARGS',
    message: /fps/,
  });
  assert.throws(() => createSceneStream({ domainSchedule: 'day:10', width: 3 }), {
    code: 'SCENES_ERR_ARGS',
    message: /width/,
  });
  assert.throws(() => createSceneStream({ domainSchedule: [] }), { code: 'SCENES_ERR_SCHEDULE' });
  const s = createSceneStream({ domainSchedule: 'day:10', width: 32, height: 32 });
  assert.throws(() => s.frameAt(-1), { code: 'SCENES_ERR_ARGS' });
});
