import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodePng } from '../src/png/png-decode.js';
import { generateDataset, splitCounts } from '../src/dataset/generate-dataset.js';
import { hashSeed } from '../src/prng.js';
import { renderScene } from '../src/render/render-scene.js';
import { resolveDomain } from '../src/domain/domain-spec.js';
import { sampleScene } from '../src/sampling/sample-scene.js';
import { yoloLine } from '../src/dataset/yolo-format.js';
import { tempDir } from '@edgefleet/service-kit/testing';
import { hashTree } from './helpers.js';

test('a generated dataset has the Ultralytics layout, YOLO labels and data.yaml', (t) => {
  const out = join(tempDir(t), 'ds');
  const summary = generateDataset({
    domain: 'night@0.5+fog@0.5',
    count: 10,
    seed: 7,
    outDir: out,
    width: 64,
    height: 48,
  });
  assert.deepEqual(summary.images, { train: 8, val: 1, test: 1 });
  for (const [split, n] of Object.entries(summary.images)) {
    const images = readdirSync(join(out, 'images', split)).sort();
    const labels = readdirSync(join(out, 'labels', split)).sort();
    assert.equal(images.length, n);
    assert.deepEqual(
      labels,
      images.map((f) => f.replace(/\.png$/, '.txt')),
    );
  }
  assert.deepEqual(readdirSync(join(out, 'images', 'train')).slice(0, 2), ['scene_000000.png', 'scene_000001.png']);
  let instances = 0;
  for (const split of ['train', 'val', 'test']) {
    for (const f of readdirSync(join(out, 'labels', split))) {
      const text = readFileSync(join(out, 'labels', split, f), 'utf8');
      for (const line of text.split('\n').filter(Boolean)) {
        assert.match(line, /^[0-2] (0|1)\.\d{6} (0|1)\.\d{6} (0|1)\.\d{6} (0|1)\.\d{6}$/);
        instances++;
      }
    }
  }
  assert.equal(
    instances,
    Object.values(summary.instances).reduce((a, b) => a + b, 0),
  );
  assert.ok(instances > 0);
  const yaml = readFileSync(join(out, 'data.yaml'), 'utf8');
  assert.match(yaml, new RegExp(`^path: ${JSON.stringify(out).replace(/[\\/.]/g, '\\$&')}$`, 'm'));
  assert.match(yaml, /^train: images\/train$/m);
  assert.match(yaml, /^val: images\/val$/m);
  assert.match(yaml, /^test: images\/test$/m);
  assert.match(yaml, /^nc: 3$/m);
  assert.match(yaml, /^names:\n {2}0: person\n {2}1: bicycle\n {2}2: car$/m);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.equal(manifest.domain, 'night@0.5+fog@0.5');
  assert.equal(manifest.seed, 7);
});

test('dataset images and labels are exactly the rendered scenes', (t) => {
  const out = join(tempDir(t), 'ds');
  generateDataset({ domain: 'rain', count: 3, seed: 11, outDir: out, width: 64, height: 64, split: [1, 0, 0] });
  for (let i = 0; i < 3; i++) {
    const seed = hashSeed(11, i);
    const r = renderScene(sampleScene(seed, 64, 64), resolveDomain('rain'), { seed });
    const png = decodePng(readFileSync(join(out, 'images', 'train', `scene_00000${i}.png`)));
    assert.deepEqual(Buffer.from(png.data), Buffer.from(r.data));
    const lines = r.labels.map((l) => yoloLine(l.classId, l.box, 64, 64));
    assert.equal(
      readFileSync(join(out, 'labels', 'train', `scene_00000${i}.txt`), 'utf8'),
      lines.length ? `${lines.join('\n')}\n` : '',
    );
  }
  assert.ok(!existsSync(join(out, 'images', 'val')), 'empty splits get no folder');
  assert.doesNotMatch(readFileSync(join(out, 'data.yaml'), 'utf8'), /^val:/m);
});

test('generation is byte-for-byte deterministic for a seed', (t) => {
  const root = tempDir(t);
  const a = join(root, 'a');
  const opts = { domain: 'camera+night@0.3', count: 6, seed: 99, width: 48, height: 48 } as const;
  generateDataset({ ...opts, outDir: a });
  const first = hashTree(a);
  rmSync(a, { recursive: true });
  generateDataset({ ...opts, outDir: a });
  assert.deepEqual(hashTree(a), first, 'same seed, same folder: identical files');
  const b = join(root, 'b');
  generateDataset({ ...opts, outDir: b });
  const other = hashTree(b);
  for (const [file, hash] of first) {
    if (file !== 'data.yaml') assert.equal(other.get(file), hash, `${file} is independent of the output folder`);
  }
  const c = join(root, 'c');
  generateDataset({ ...opts, seed: 100, outDir: c });
  assert.notEqual(hashTree(c).get('images/train/scene_000000.png'), first.get('images/train/scene_000000.png'));
});

test('a non-empty output folder is refused unless overwrite is set, which replaces only dataset files', (t) => {
  const out = tempDir(t);
  writeFileSync(join(out, 'notes.txt'), 'keep me');
  assert.throws(() => generateDataset({ domain: 'day', count: 2, seed: 1, outDir: out, width: 32, height: 32 }), {
    code: 'SCENES_ERR_OUTPUT',
    message: /not empty/,
  });
  generateDataset({
    domain: 'day',
    count: 2,
    seed: 1,
    outDir: out,
    width: 32,
    height: 32,
    overwrite: true,
    split: [0.5, 0.5, 0],
  });
  generateDataset({
    domain: 'day',
    count: 1,
    seed: 1,
    outDir: out,
    width: 32,
    height: 32,
    overwrite: true,
    split: [1, 0, 0],
  });
  assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'keep me');
  assert.ok(!existsSync(join(out, 'images', 'val')), 'the previous dataset is gone');
});

test('split counts round and give the remainder to test', () => {
  assert.deepEqual(splitCounts(10, [0.8, 0.1, 0.1]), { train: 8, val: 1, test: 1 });
  assert.deepEqual(splitCounts(3, [0.8, 0.1, 0.1]), { train: 2, val: 0, test: 1 });
  assert.deepEqual(splitCounts(7, [0.5, 0.5, 0]), { train: 4, val: 3, test: 0 });
});

test('bad generation options are rejected with SCENES_ERR_ARGS', (t) => {
  const out = join(tempDir(t), 'x');
  const base = { domain: 'day', count: 2, seed: 1, outDir: out };
  assert.throws(() => generateDataset({ ...base, count: 0 }), { code: 'SCENES_ERR_ARGS', message: /count/ });
  assert.throws(() => generateDataset({ ...base, seed: -1 }), { code: 'SCENES_ERR_ARGS', message: /seed/ });
  assert.throws(() => generateDataset({ ...base, split: [0.5, 0.5, 0.5] }), {
    code: 'SCENES_ERR_ARGS',
    message: /split/,
  });
  assert.throws(() => generateDataset({ ...base, width: 8 }), { code: 'SCENES_ERR_ARGS', message: /width/ });
  assert.throws(() => generateDataset({ ...base, domain: 'snow' }), { code: 'SCENES_ERR_DOMAIN' });
  assert.ok(!existsSync(out), 'nothing is written for bad options');
});
