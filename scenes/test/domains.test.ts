import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DAY, resolveDomain, type DomainParams } from '../src/domain/domain-spec.js';
import { renderScene } from '../src/render/render-scene.js';
import { Rng } from '../src/prng.js';
import { sampleDistractor, samplePerson } from '../src/sampling/sample-objects.js';
import { sampleScene } from '../src/sampling/sample-scene.js';
import type { SceneDescription } from '../src/objects/object-spec.js';
import type { Rgb } from '../src/raster/color.js';
import { boundsNotColor, lumaStats, meanChroma } from './helpers.js';

const SEEDS = [0, 1, 2, 3];
const W = 160;
const H = 120;

/** An empty W×H scene of one flat sky colour over one flat ground colour, the horizon at row `horizon`. */
function plainScene(options: { horizon: number; sky: Rgb; ground: Rgb }): SceneDescription {
  const { horizon, sky, ground } = options;
  const background = { horizon, skyTop: sky, skyHorizon: sky, groundNear: ground, groundFar: ground, textureSeed: 1 };
  return { width: W, height: H, background: { kind: 'procedural', ...background }, objects: [] };
}

function renderSeeds(domain: string | DomainParams) {
  const params = typeof domain === 'string' ? resolveDomain(domain) : domain;
  return SEEDS.map((seed) => renderScene(sampleScene(seed, W, H), params, { seed }));
}

/** Mean |ΔL| to the right neighbour over mean |ΔL| to the lower neighbour: > 1 when vertical strokes dominate. */
function gradientRatio(rgb: Uint8Array): number {
  const L = (i: number) =>
    0.299 * (rgb[i * 3] as number) + 0.587 * (rgb[i * 3 + 1] as number) + 0.114 * (rgb[i * 3 + 2] as number);
  let gh = 0;
  let gv = 0;
  for (let y = 0; y < H - 1; y++) {
    for (let x = 0; x < W - 1; x++) {
      gh += Math.abs(L(y * W + x + 1) - L(y * W + x));
      gv += Math.abs(L((y + 1) * W + x) - L(y * W + x));
    }
  }
  return gh / gv;
}

const day = renderSeeds('day');

test('night is much darker than day for the same scenes', () => {
  renderSeeds('night').forEach((r, i) => {
    const d = lumaStats(day[i]!.data).mean;
    const n = lumaStats(r.data).mean;
    assert.ok(n < d * 0.35, `seed ${i}: night mean ${n.toFixed(1)} vs day ${d.toFixed(1)}`);
  });
});

test('fog lowers contrast and colourfulness and brightens toward the fog colour', () => {
  renderSeeds('fog').forEach((r, i) => {
    const d = lumaStats(day[i]!.data);
    const f = lumaStats(r.data);
    assert.ok(f.std < d.std, `seed ${i}: fog std ${f.std.toFixed(1)} vs day ${d.std.toFixed(1)}`);
    // RMS contrast (std / mean) is what fog really takes away.
    assert.ok(
      f.std / f.mean < (d.std / d.mean) * 0.8,
      `seed ${i}: fog contrast ${(f.std / f.mean).toFixed(2)} vs day ${(d.std / d.mean).toFixed(2)}`,
    );
    assert.ok(f.mean > d.mean, `seed ${i}: fog mean ${f.mean.toFixed(1)} vs day ${d.mean.toFixed(1)}`);
    assert.ok(meanChroma(r.data) < meanChroma(day[i]!.data) * 0.7);
  });
});

test('fog is depth dependent: far ground fades more than near ground', () => {
  const scene = plainScene({ horizon: 20, sky: [80, 120, 200], ground: [40, 90, 40] });
  const clear = renderScene(scene, DAY, { noise: false }).data;
  const fog = renderScene(scene, resolveDomain('fog@0.6'), { noise: false }).data;
  const change = (row: number) => {
    let s = 0;
    for (let x = 0; x < W; x++)
      s += Math.abs((fog[(row * W + x) * 3 + 1] as number) - (clear[(row * W + x) * 3 + 1] as number));
    return s / W;
  };
  assert.ok(
    change(25) > change(H - 2) * 1.5,
    `near-horizon change ${change(25).toFixed(1)} vs bottom ${change(H - 2).toFixed(1)}`,
  );
});

test('rain desaturates, dims and adds near-vertical streaks', () => {
  renderSeeds('rain').forEach((r, i) => {
    assert.ok(meanChroma(r.data) < meanChroma(day[i]!.data) * 0.8, `seed ${i} chroma`);
    assert.ok(lumaStats(r.data).mean < lumaStats(day[i]!.data).mean, `seed ${i} mean`);
    assert.ok(
      gradientRatio(r.data) > gradientRatio(day[i]!.data) + 0.03,
      `seed ${i}: gradient ratio ${gradientRatio(r.data).toFixed(3)} vs ${gradientRatio(day[i]!.data).toFixed(3)}`,
    );
  });
});

test('night adds sensor noise: a flat wall is grainy at night and clean by day', () => {
  const wall: SceneDescription = {
    width: W,
    height: H,
    background: { kind: 'flat', color: [120, 120, 120] },
    objects: [],
  };
  const dayStd = lumaStats(renderScene(wall, DAY, { seed: 1 }).data).std;
  const nightStd = lumaStats(renderScene(wall, resolveDomain('night'), { seed: 1 }).data).std;
  assert.ok(dayStd < 2, `day std ${dayStd}`);
  assert.ok(nightStd > 4, `night std ${nightStd}`);
});

test('lamps glare at night and not by day', () => {
  const lamp = { ...sampleDistractor(new Rng(2), 'lamp', 80, 110, 80), size: 80 };
  const scene = (objects: SceneDescription['objects']): SceneDescription => ({
    width: W,
    height: H,
    background: { kind: 'flat', color: [90, 90, 90] },
    objects,
  });
  const maxGlare = (params: DomainParams) => {
    const withLamp = renderScene(scene([lamp]), params, { noise: false }).data;
    const without = renderScene(scene([]), params, { noise: false }).data;
    const lampPixels = renderScene(scene([lamp]), DAY, { noise: false }).data;
    let max = 0;
    for (let i = 0; i < W * H; i++) {
      // Only background pixels: the lamp's own pixels would differ anyway.
      if (lampPixels[i * 3] !== 90 || lampPixels[i * 3 + 1] !== 90 || lampPixels[i * 3 + 2] !== 90) continue;
      max = Math.max(max, Math.abs((withLamp[i * 3] as number) - (without[i * 3] as number)));
    }
    return max;
  };
  assert.equal(maxGlare(DAY), 0);
  assert.ok(maxGlare(resolveDomain('night')) > 40, `night glare ${maxGlare(resolveDomain('night'))}`);
});

test('camera change rolls the horizon and zoom enlarges objects about the centre', () => {
  const scene = plainScene({ horizon: 50, sky: [60, 90, 230], ground: [40, 160, 40] });
  const horizonRow = (rgb: Uint8Array, x: number) => {
    for (let y = 0; y < H; y++)
      if ((rgb[(y * W + x) * 3 + 1] as number) > (rgb[(y * W + x) * 3 + 2] as number)) return y;
    return H;
  };
  const flat = renderScene(scene, DAY, { noise: false }).data;
  assert.equal(horizonRow(flat, 5), horizonRow(flat, W - 5));
  const rolled = renderScene(scene, resolveDomain('camera'), { noise: false }).data;
  const tilt = Math.abs(horizonRow(rolled, 5) - horizonRow(rolled, W - 5));
  assert.ok(tilt >= 10, `horizon drops ${tilt} px across the frame after the camera change`);

  const bg = [7, 200, 9] as const;
  const person = { ...samplePerson(new Rng(4), W / 2, H / 2 + 20, 40), view: 'front' as const };
  const one: SceneDescription = { width: W, height: H, background: { kind: 'flat', color: bg }, objects: [person] };
  const a = renderScene(one, DAY, { noise: false }).labels[0]!.box;
  const b = renderScene(one, { ...DAY, zoom: 2 }, { noise: false }).labels[0]!.box;
  assert.ok(Math.abs(b[3] - b[1] - 2 * (a[3] - a[1])) <= 2, `height ${a[3] - a[1]} -> ${b[3] - b[1]}`);
  assert.deepEqual(b, boundsNotColor(renderScene(one, { ...DAY, zoom: 2 }, { noise: false }).data, W, H, bg));
});

test('style changes palettes (more colourful) and proportions (stockier people)', () => {
  const styled = renderSeeds('style');
  const chroma = (rs: typeof day) => rs.reduce((s, r) => s + meanChroma(r.data), 0);
  assert.ok(chroma(styled) > chroma(day) * 1.05, `chroma ${chroma(styled)} vs ${chroma(day)}`);
  const bg = [7, 200, 9] as const;
  const person = {
    ...samplePerson(new Rng(6), W / 2, H - 10, 90),
    view: 'front' as const,
    armLeft: 0.1,
    armRight: 0.1,
  };
  const one: SceneDescription = { width: W, height: H, background: { kind: 'flat', color: bg }, objects: [person] };
  const aspect = (style: number) => {
    const [x1, y1, x2, y2] = renderScene(one, { ...DAY, style }, { noise: false }).labels[0]!.box;
    return (y2 - y1) / (x2 - x1);
  };
  assert.ok(aspect(1) < aspect(0) * 0.85, `height/width ${aspect(0).toFixed(2)} -> ${aspect(1).toFixed(2)}`);
});

test('a mix applies each domain at its intensity: night@0.5 sits between day and night', () => {
  const half = renderSeeds('night@0.5');
  const full = renderSeeds('night');
  half.forEach((r, i) => {
    const m = lumaStats(r.data).mean;
    assert.ok(m < lumaStats(day[i]!.data).mean && m > lumaStats(full[i]!.data).mean);
  });
});

test('domains never change labels except through geometry (camera) and proportions (style)', () => {
  for (const d of ['night', 'fog', 'rain', 'night@0.5+fog@0.5']) {
    renderSeeds(d).forEach((r, i) => {
      assert.deepEqual(r.labels, day[i]!.labels, `${d} seed ${i}`);
    });
  }
});
