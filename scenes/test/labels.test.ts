import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DAY, type DomainParams } from '../src/domain/domain-spec.js';
import { isLabelled } from '../src/render/label-rule.js';
import { renderScene } from '../src/render/render-scene.js';
import { Rng } from '../src/prng.js';
import { sampleBicycle, sampleCar, sampleDistractor, samplePerson } from '../src/sampling/sample-objects.js';
import type { ObjectSpec, SceneDescription } from '../src/objects/object-spec.js';
import { boundsNotColor } from './helpers.js';

const BG = [7, 200, 9] as const;
const W = 200;
const H = 150;

function flatScene(objects: ObjectSpec[]): SceneDescription {
  return { width: W, height: H, background: { kind: 'flat', color: BG }, objects };
}

function renderExact(objects: ObjectSpec[], params: DomainParams = DAY) {
  return renderScene(flatScene(objects), params, { noise: false });
}

const rng = new Rng(11);
const person = { ...samplePerson(rng, 100, 120, 90), view: 'front' as const, armLeft: 0.2, armRight: 0.2 };
const walker = { ...samplePerson(rng, 60, 130, 80), view: 'side' as const, stride: 1 };
const bike = (() => {
  const b = sampleBicycle(rng, 100, 120, 16);
  const { rider: _omit, ...rest } = b;
  return rest;
})();
const carSide = { ...sampleCar(rng, 100, 130, 50, 'side') };
const carFront = { ...sampleCar(rng, 100, 130, 70, 'front') };

test('a single object on a flat background is labelled with the exact bounds of its pixels', () => {
  for (const spec of [person, walker, bike, carSide, carFront]) {
    const r = renderExact([spec]);
    assert.equal(r.labels.length, 1, spec.kind);
    assert.deepEqual(r.labels[0]?.box, boundsNotColor(r.data, W, H, BG), spec.kind);
    const o = r.objects[0];
    assert.equal(o?.visiblePixels, o?.totalPixels, 'alone and inside the frame, every pixel is visible');
  }
});

test('a bicycle with a rider gives a bicycle box and a person box whose union is all drawn pixels', () => {
  const withRider = sampleBicycle(new Rng(3), 100, 140, 18);
  assert.ok(withRider.rider === undefined || withRider.rider.height > 0);
  const spec = { ...withRider, rider: { height: 18 * 5.3, look: person.look } };
  const r = renderExact([spec]);
  assert.deepEqual(r.labels.map((l) => l.className).sort(), ['bicycle', 'person']);
  const [a, b] = r.labels.map((l) => l.box) as unknown as [number[], number[]];
  const union = [Math.min(a[0]!, b[0]!), Math.min(a[1]!, b[1]!), Math.max(a[2]!, b[2]!), Math.max(a[3]!, b[3]!)];
  assert.deepEqual(union, boundsNotColor(r.data, W, H, BG));
});

test('labels stay exact under a camera change (zoom, roll, tilt)', () => {
  const params = { ...DAY, zoom: 1.3, rollDeg: 12, tilt: 0.25 };
  for (const spec of [person, carSide, bike]) {
    const r = renderExact([spec], params);
    assert.equal(r.labels.length, 1);
    assert.deepEqual(r.labels[0]?.box, boundsNotColor(r.data, W, H, BG));
  }
});

/**
 * The object rendered alone, then split by a rectangle of pixels (columns x0..x1-1, rows y0..y1-1):
 * how many of its pixels fall outside it, and their bounds.
 */
function pixelsOutside(
  spec: ObjectSpec,
  rect: [number, number, number, number],
): { outside: number; total: number; box: number[] | null } {
  const r = renderExact([spec]);
  let outside = 0;
  let box: number[] | null = null;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 3;
      if (r.data[o] === BG[0] && r.data[o + 1] === BG[1] && r.data[o + 2] === BG[2]) continue;
      if (x >= rect[0] && x < rect[2] && y >= rect[1] && y < rect[3]) continue;
      outside++;
      box = box
        ? [Math.min(box[0]!, x), Math.min(box[1]!, y), Math.max(box[2]!, x + 1), Math.max(box[3]!, y + 1)]
        : [x, y, x + 1, y + 1];
    }
  }
  return { outside, total: r.objects[0]!.totalPixels, box };
}

/** Pixel rectangle a crate of `size` standing at (x, y) covers: pixel centres inside [x-s/2, x+s/2) × [y-s, y). */
function crateRect(x: number, y: number, size: number): [number, number, number, number] {
  return [Math.ceil(x - size / 2 - 0.5), Math.ceil(y - size - 0.5), Math.ceil(x + size / 2 - 0.5), Math.ceil(y - 0.5)];
}

test('occlusion: a person behind a crate keeps a box of its visible part while ≥ 40% is visible', () => {
  const crateRng = new Rng(5);
  // The crate stands 1 px nearer than the person, so it is drawn on top of it.
  const crate = (size: number) => ({ ...sampleDistractor(crateRng, 'crate', person.x, person.y + 1, size), size });
  const expected = pixelsOutside(person, crateRect(person.x, person.y + 1, 40));
  const r = renderExact([person, crate(40)]);
  const truth = r.objects.find((o) => o.className === 'person')!;
  assert.equal(truth.totalPixels, expected.total);
  assert.equal(truth.visiblePixels, expected.outside);
  assert.ok(expected.outside / expected.total >= 0.4, `visible fraction ${expected.outside / expected.total}`);
  assert.ok(expected.outside / expected.total < 0.9, 'the crate really hides part of the person');
  assert.equal(truth.labelled, true);
  assert.equal(r.labels.length, 1, 'the crate is a distractor and is never labelled');
  assert.deepEqual(r.labels[0]?.box, expected.box);

  // A crate twice as high hides all but the head and shoulders.
  const hidden = pixelsOutside(person, crateRect(person.x, person.y + 1, 80));
  assert.ok(hidden.outside / hidden.total < 0.4, `visible fraction ${hidden.outside / hidden.total}`);
  const r2 = renderExact([person, crate(80)]);
  const truth2 = r2.objects.find((o) => o.className === 'person')!;
  assert.equal(truth2.visiblePixels, hidden.outside);
  assert.equal(truth2.labelled, false);
  assert.equal(r2.labels.length, 0);
});

test('occlusion by another labelled object: the nearer car hides the person and only the car is labelled', () => {
  const car = { ...sampleCar(new Rng(8), person.x, person.y + 20, 120, 'front'), size: 170 };
  const r = renderExact([person, car]);
  const p = r.objects.find((o) => o.className === 'person')!;
  assert.ok(p.visiblePixels / p.totalPixels < 0.4, `person visible ${p.visiblePixels}/${p.totalPixels}`);
  assert.deepEqual(
    r.labels.map((l) => l.className),
    ['car'],
  );
  assert.deepEqual(r.labels[0]?.box, boundsNotColor(r.data, W, H, BG));
});

test('frame edges: an object is labelled while ≥ 40% of it is inside, with its box clipped to the frame', () => {
  const alone = renderExact([carSide]);
  const full = alone.labels[0]!.box;
  const total = alone.objects[0]!.totalPixels;
  const width = full[2] - full[0];
  for (const [insideFraction, expectLabel] of [
    [0.7, true],
    [0.2, false],
  ] as const) {
    // Shift left by whole pixels so that about `insideFraction` of the width stays in the frame.
    const shift = full[0] + Math.round(width * (1 - insideFraction));
    const spec = { ...carSide, x: carSide.x - shift };
    const r = renderExact([spec]);
    const o = r.objects[0]!;
    assert.ok(Math.abs(o.totalPixels - total) <= total * 0.01, 'the silhouette keeps its size off-frame');
    assert.equal(o.labelled, expectLabel, `inside ${insideFraction}: visible ${o.visiblePixels}/${o.totalPixels}`);
    if (expectLabel) {
      assert.equal(r.labels[0]?.box[0], 0, 'box is clipped at the left edge');
      assert.deepEqual(r.labels[0]?.box, boundsNotColor(r.data, W, H, BG));
    }
  }
});

test('objects smaller than 4 px in either side are not labelled', () => {
  const tiny = { ...person, height: 3 };
  const r = renderExact([tiny]);
  assert.ok(r.objects[0]!.visiblePixels > 0, 'the tiny person is drawn');
  assert.equal(r.labels.length, 0);
  const small = renderExact([{ ...person, height: 14 }]);
  assert.equal(small.labels.length, 1);
});

test('a custom label rule is honoured', () => {
  const crate = { ...sampleDistractor(new Rng(5), 'crate', person.x, person.y + 1, 40), size: 40 };
  const strict = renderScene(flatScene([person, crate]), DAY, {
    noise: false,
    labelRule: { minVisibleFraction: 0.95, minBoxPx: 4 },
  });
  assert.equal(strict.labels.length, 0);
});

test('isLabelled applies both thresholds', () => {
  const rule = { minVisibleFraction: 0.4, minBoxPx: 4 };
  assert.equal(isLabelled(rule, 40, 100, 10, 10), true);
  assert.equal(isLabelled(rule, 39, 100, 10, 10), false);
  assert.equal(isLabelled(rule, 100, 100, 3, 10), false);
  assert.equal(isLabelled(rule, 100, 100, 10, 3), false);
  assert.equal(isLabelled(rule, 0, 0, 0, 0), false);
});
