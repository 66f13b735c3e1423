import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DAY, formatDomain, interpolateParams, parseDomain, resolveDomain } from '../src/domain/domain-spec.js';
import { parseSchedule, ScheduleClock } from '../src/domain/domain-schedule.js';

test('named domains resolve to their presets', () => {
  assert.deepEqual(resolveDomain('day'), DAY);
  assert.equal(resolveDomain('night').night, 1);
  assert.equal(resolveDomain('fog').fog, 1);
  assert.equal(resolveDomain('rain').rain, 1);
  assert.equal(resolveDomain('style').style, 1);
  const cam = resolveDomain('camera');
  assert.ok(cam.zoom > 1 && cam.rollDeg !== 0 && cam.tilt !== 0);
});

test('mixes add each domain scaled by its intensity', () => {
  const p = resolveDomain({ night: 0.5, fog: 0.5 });
  assert.equal(p.night, 0.5);
  assert.equal(p.fog, 0.5);
  assert.equal(p.rain, 0);
  assert.deepEqual(resolveDomain('night@0.5+fog@0.5'), p);
  const cam = resolveDomain('camera@0.5');
  assert.equal(cam.zoom, 1 + (resolveDomain('camera').zoom - 1) / 2);
  assert.deepEqual(resolveDomain({ day: 1, night: 0.25 }), resolveDomain('night@0.25'));
});

test('formatDomain gives the canonical text', () => {
  assert.equal(formatDomain(parseDomain('fog@0.5+night')), 'night+fog@0.5');
  assert.equal(formatDomain({}), 'day');
});

test('bad domain specs are rejected with SCENES_ERR_DOMAIN and a reason', () => {
  assert.throws(() => parseDomain('dusk'), { code: 'SCENES_ERR_DOMAIN', message: /unknown domain "dusk"/ });
  assert.throws(() => parseDomain(''), { code: 'SCENES_ERR_DOMAIN' });
  assert.throws(() => parseDomain('night@'), { code: 'SCENES_ERR_DOMAIN', message: /not a number/ });
  assert.throws(() => parseDomain('night@2'), { code: 'SCENES_ERR_DOMAIN', message: /0\.\.1/ });
  assert.throws(() => parseDomain('night+night'), { code: 'SCENES_ERR_DOMAIN', message: /twice/ });
  assert.throws(() => resolveDomain({ fog: -0.1 }), { code: 'SCENES_ERR_DOMAIN' });
});

test('interpolateParams is linear and clamped', () => {
  const a = resolveDomain('day');
  const b = resolveDomain('night@0.8+camera');
  const mid = interpolateParams(a, b, 0.5);
  assert.equal(mid.night, 0.4);
  assert.equal(mid.zoom, (a.zoom + b.zoom) / 2);
  assert.deepEqual(interpolateParams(a, b, 2), b);
  assert.deepEqual(interpolateParams(a, b, -1), a);
});

test('schedules parse from text with durations and transitions', () => {
  const s = parseSchedule('day:300, fog@0.5+night:120~30');
  assert.deepEqual(s, [
    { domain: { day: 1 }, durationS: 300, transitionS: 0 },
    { domain: { fog: 0.5, night: 1 }, durationS: 120, transitionS: 30 },
  ]);
});

test('a schedule clock holds segments and blends linearly through transitions', () => {
  const clock = new ScheduleClock(parseSchedule('day:100,fog:100~20,night:50'));
  assert.deepEqual(clock.at(50).params, DAY);
  assert.equal(clock.at(50).label, 'day');
  assert.equal(clock.at(110).params.fog, 0.5, 'halfway through the 20 s transition');
  assert.equal(clock.at(110).label, 'day->fog 50%');
  assert.equal(clock.at(120).params.fog, 1);
  assert.equal(clock.at(210).params.night, 1, 'no transition: switches at once');
  assert.equal(clock.at(210).params.fog, 0);
  assert.equal(clock.at(10_000).label, 'night', 'past the end the last segment holds');
  const looping = new ScheduleClock(parseSchedule('day:10,night:10'), true);
  assert.equal(looping.at(25).params.night, 0, 'looping wraps to the start');
});

test('bad schedules are rejected with SCENES_ERR_SCHEDULE and a reason', () => {
  assert.throws(() => parseSchedule(''), { code: 'SCENES_ERR_SCHEDULE' });
  assert.throws(() => parseSchedule('day'), { code: 'SCENES_ERR_SCHEDULE', message: /DOMAIN:DURATION_S/ });
  assert.throws(() => parseSchedule('day:0'), { code: 'SCENES_ERR_SCHEDULE', message: /positive/ });
  assert.throws(() => parseSchedule('day:abc'), { code: 'SCENES_ERR_SCHEDULE' });
  assert.throws(() => parseSchedule('day:10~20'), { code: 'SCENES_ERR_SCHEDULE', message: /transition/ });
  assert.throws(() => parseSchedule('day:10~'), { code: 'SCENES_ERR_SCHEDULE' });
  assert.throws(() => parseSchedule('sunset:10'), { code: 'SCENES_ERR_DOMAIN' });
  assert.throws(() => new ScheduleClock([]), { code: 'SCENES_ERR_SCHEDULE' });
});
