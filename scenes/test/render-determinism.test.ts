import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { renderScene } from '../src/render/render-scene.js';
import { resolveDomain } from '../src/domain/domain-spec.js';
import { sampleScene } from '../src/sampling/sample-scene.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('the same seed renders the same bytes and labels', () => {
  for (const domain of ['day', 'night@0.7+fog@0.4+rain@0.5', 'camera+style']) {
    const a = renderScene(sampleScene(42, 160, 120), resolveDomain(domain), { seed: 42 });
    const b = renderScene(sampleScene(42, 160, 120), resolveDomain(domain), { seed: 42 });
    assert.equal(sha(a.data), sha(b.data), domain);
    assert.deepEqual(a.labels, b.labels);
  }
});

test('different seeds render different scenes', () => {
  const a = renderScene(sampleScene(1, 160, 120));
  const b = renderScene(sampleScene(2, 160, 120));
  assert.notEqual(sha(a.data), sha(b.data));
  assert.notDeepEqual(sampleScene(1, 160, 120), sampleScene(2, 160, 120));
});

test('the noise seed changes only the noise, not the layout or labels', () => {
  const scene = sampleScene(9, 160, 120);
  const a = renderScene(scene, resolveDomain('night'), { seed: 1 });
  const b = renderScene(scene, resolveDomain('night'), { seed: 2 });
  assert.notEqual(sha(a.data), sha(b.data));
  assert.deepEqual(a.labels, b.labels);
});

test('rendered frames have the documented size and at least some labelled scenes', () => {
  let labelled = 0;
  for (let seed = 0; seed < 12; seed++) {
    const r = renderScene(sampleScene(seed, 128, 96), resolveDomain('day'), { seed });
    assert.equal(r.data.length, 128 * 96 * 3);
    labelled += r.labels.length;
    for (const l of r.labels) {
      assert.ok(l.box[0] >= 0 && l.box[1] >= 0 && l.box[2] <= 128 && l.box[3] <= 96, `box ${l.box} inside the frame`);
      assert.ok(l.box[2] - l.box[0] >= 4 && l.box[3] - l.box[1] >= 4);
    }
  }
  assert.ok(labelled >= 12, `expected objects across 12 scenes, got ${labelled}`);
});

test('bad frame sizes are rejected with SCENES_ERR_SCENE', () => {
  const scene = sampleScene(1, 64, 64);
  assert.throws(() => renderScene({ ...scene, width: 0 }), { code: 'SCENES_ERR_SCENE' });
  assert.throws(() => renderScene({ ...scene, height: 10.5 }), { code: 'SCENES_ERR_SCENE' });
});
