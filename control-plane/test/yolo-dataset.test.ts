import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { test } from 'node:test';
import { generateDataset } from '@edgefleet/scenes';
import { labelPathFor, loadSplit, parseLabelFile, readYoloDataset } from '../src/evaluation/yolo-dataset.js';
import { parseDataYaml } from '../src/evaluation/data-yaml.js';
import { tempDir } from '@edgefleet/service-kit/testing';

/** Writes a dataset folder: `files` maps relative paths to contents. */
function writeTree(root: string, files: Record<string, string>): string {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  return root;
}

test('reads a dataset written by the scenes generator', (t) => {
  const dir = join(tempDir(t), 'ds');
  const summary = generateDataset({ domain: 'day', count: 10, seed: 5, outDir: dir, width: 64, height: 64 });
  const ds = readYoloDataset(dir);
  assert.deepEqual(ds.names, ['person', 'bicycle', 'car']);
  assert.equal(ds.root, dir);
  for (const split of ['train', 'val', 'test'] as const) {
    const s = loadSplit(ds, split);
    assert.equal(s.images.length, summary.images[split]);
    assert.equal(s.backgroundImages, 0);
  }
  const total = ['train', 'val', 'test'].reduce((n, s) => n + loadSplit(ds, s).instances, 0);
  assert.equal(
    total,
    Object.values(summary.instances).reduce((a, b) => a + b, 0),
  );
  // The YAML file itself works as --data too.
  assert.deepEqual(readYoloDataset(join(dir, 'data.yaml')).names, ds.names);
});

test('common Ultralytics data.yaml forms parse', () => {
  const flowList = parseDataYaml(
    'path: ../datasets/coco8 # dataset root\ntrain: images/train\nnames: [\'person\', "bi cycle", car]\n',
  );
  assert.deepEqual(flowList.names, ['person', 'bi cycle', 'car']);
  assert.equal(flowList.path, '../datasets/coco8');
  const blockMap = parseDataYaml(
    'names:\n  0: person\n  1: bicycle\n\ntrain: [images/a, images/b]\ndownload: |\n  from x import y\n  y()\nnc: 2\n',
  );
  assert.deepEqual(blockMap.names, { 0: 'person', 1: 'bicycle' });
  assert.deepEqual(blockMap.train, ['images/a', 'images/b']);
  assert.equal(blockMap.nc, '2');
  const blockList = parseDataYaml('---\nnames:\n  - person\n  - car\nval: "images/val"\n');
  assert.deepEqual(blockList.names, ['person', 'car']);
  assert.equal(blockList.val, 'images/val');
  assert.deepEqual(parseDataYaml('names: {0: person, 1: car}').names, { 0: 'person', 1: 'car' });
});

test('malformed data.yaml fails with CP_ERR_DATASET_YAML and the line', () => {
  assert.throws(() => parseDataYaml('names: [a, b\n', 'd.yaml'), {
    code: 'CP_ERR_DATASET_YAML',
    message: /d\.yaml:1: unterminated flow list/,
  });
  assert.throws(() => parseDataYaml('  indented: x\n', 'd.yaml'), {
    code: 'CP_ERR_DATASET_YAML',
    message: /d\.yaml:1/,
  });
  assert.throws(() => parseDataYaml('nc: 1\nnc: 2\n', 'd.yaml'), {
    code: 'CP_ERR_DATASET_YAML',
    message: /d\.yaml:2: duplicate key "nc"/,
  });
  assert.throws(() => parseDataYaml('just text\n', 'd.yaml'), {
    code: 'CP_ERR_DATASET_YAML',
    message: /expected "key: value"/,
  });
});

test('dataset-level YAML errors: names/nc mismatch, missing names, gaps in the names map', (t) => {
  const root = tempDir(t);
  const check = (yaml: string, message: RegExp) => {
    writeFileSync(join(root, 'data.yaml'), yaml);
    assert.throws(() => readYoloDataset(root), { code: 'CP_ERR_DATASET_YAML', message });
  };
  check('train: images/train\nnc: 3\nnames: [a, b]\n', /nc is 3 but names lists 2/);
  check('train: images/train\n', /neither names nor nc/);
  check('names:\n  0: a\n  2: c\n', /without gaps/);
  check('nc: many\nnames: [a]\n', /nc must be a positive integer/);
  check('names: []\n', /names is empty/);
  writeFileSync(join(root, 'data.yaml'), 'train: images/train\nnc: 2\n');
  assert.deepEqual(readYoloDataset(root).names, ['class0', 'class1'], 'nc alone names classes by index');
});

test('path rules: relative to the YAML, absent = the YAML folder, a stale absolute path falls back', (t) => {
  const root = tempDir(t);
  writeTree(root, { 'sub/images/val/a.png': 'x', 'sub/labels/val/a.txt': '0 0.5 0.5 0.2 0.2\n' });
  writeFileSync(join(root, 'data.yaml'), 'path: sub\nval: images/val\nnames: [a]\n');
  assert.equal(readYoloDataset(root).root, join(root, 'sub'));
  writeFileSync(join(root, 'sub', 'data.yaml'), 'val: images/val\nnames: [a]\n');
  assert.equal(readYoloDataset(join(root, 'sub')).root, join(root, 'sub'));
  writeFileSync(join(root, 'sub', 'data.yaml'), 'path: "/nonexistent/moved/dataset"\nval: images/val\nnames: [a]\n');
  const moved = readYoloDataset(join(root, 'sub'));
  assert.equal(moved.root, join(root, 'sub'));
  assert.equal(loadSplit(moved, 'val').instances, 1);
});

test('splits as image-list .txt files and as lists of folders', (t) => {
  const root = writeTree(tempDir(t), {
    'images/a/1.png': 'x',
    'images/b/2.png': 'x',
    'labels/a/1.txt': '0 0.5 0.5 0.2 0.2\n',
    'labels/b/2.txt': '0 0.5 0.5 0.2 0.2\n0 0.2 0.2 0.1 0.1\n',
    'val.txt': './images/a/1.png\n\n./images/b/2.png\n',
    'data.yaml': 'train: [images/a, images/b]\nval: val.txt\nnames: [thing]\n',
  });
  const ds = readYoloDataset(root);
  assert.equal(loadSplit(ds, 'train').instances, 3);
  assert.deepEqual(
    loadSplit(ds, 'val').images.map((i) => i.imagePath),
    [join(root, 'images/a/1.png'), join(root, 'images/b/2.png')],
  );
});

test('split errors: undefined split, missing folder, no images', (t) => {
  const root = writeTree(tempDir(t), {
    'images/train/1.png': 'x',
    'labels/train/1.txt': '',
    'images/val/readme.md': 'no images here',
    'data.yaml': 'train: images/train\nval: images/val\ntest: images/test\nnames: [a]\n',
  });
  const ds = readYoloDataset(root);
  assert.throws(() => loadSplit(ds, 'holdout'), {
    code: 'CP_ERR_DATASET_SPLIT',
    message: /no "holdout" split \(defined: train, val, test\)/,
  });
  assert.throws(() => loadSplit(ds, 'test'), {
    code: 'CP_ERR_DATASET_SPLIT',
    message: /images[/\\]test does not exist/,
  });
  assert.throws(() => loadSplit(ds, 'val'), { code: 'CP_ERR_DATASET_SPLIT', message: /contains no images/ });
});

test('dataset not found: missing folder or folder without data.yaml', (t) => {
  const root = tempDir(t);
  assert.throws(() => readYoloDataset(join(root, 'nope')), {
    code: 'CP_ERR_DATASET_NOT_FOUND',
    message: /does not exist/,
  });
  assert.throws(() => readYoloDataset(root), { code: 'CP_ERR_DATASET_NOT_FOUND', message: /has no data\.yaml/ });
});

test('label errors name the file and line: missing labels folder, class id, values', (t) => {
  const root = writeTree(tempDir(t), { 'images/val/1.png': 'x', 'data.yaml': 'val: images/val\nnames: [a, b]\n' });
  const ds = readYoloDataset(root);
  assert.throws(() => loadSplit(ds, 'val'), {
    code: 'CP_ERR_DATASET_LABELS',
    message: /labels folder .*labels[/\\]val is missing/,
  });
  const label = join(root, 'labels', 'val', '1.txt');
  mkdirSync(join(root, 'labels', 'val'), { recursive: true });
  const check = (content: string, message: RegExp) => {
    writeFileSync(label, content);
    assert.throws(() => loadSplit(ds, 'val'), { code: 'CP_ERR_DATASET_LABELS', message });
  };
  check(
    '0 0.5 0.5 0.1 0.1\n2 0.5 0.5 0.1 0.1\n',
    /1\.txt:2: class id 2 is not within 0\.\.1 \(data\.yaml has 2 classes\)/,
  );
  check('-1 0.5 0.5 0.1 0.1\n', /class id -1/);
  check('0.5 0.5 0.5 0.1 0.1\n', /class id 0\.5/);
  check('0 0.5 0.5 0.1\n', /1\.txt:1: expected "class cx cy w h"/);
  check('0 0.5 abc 0.1 0.1\n', /non-numeric/);
  check('0 0.5 0.5 1.5 0.1\n', /normalised to 0\.\.1/);
  check('0 0.5 0.5 0 0.1\n', /zero or negative size/);
  check('0 0.1 0.1 0.2 0.2 0.3\n', /polygon/);
  writeFileSync(label, '');
  assert.equal(loadSplit(ds, 'val').instances, 0);
});

test('an image without a label file is a background image, counted', (t) => {
  const root = writeTree(tempDir(t), {
    'images/val/1.png': 'x',
    'images/val/2.png': 'x',
    'labels/val/1.txt': '1 0.5 0.5 0.1 0.1\n',
    'data.yaml': 'val: images/val\nnames: [a, b]\n',
  });
  const s = loadSplit(readYoloDataset(root), 'val');
  assert.equal(s.backgroundImages, 1);
  assert.deepEqual(
    s.images.map((i) => i.hasLabelFile),
    [true, false],
  );
  assert.equal(s.instances, 1);
});

test('label paths swap the last /images/ for /labels/; polygons reduce to their bounds', () => {
  assert.equal(
    labelPathFor(['', 'd', 'images', 'x', 'images', 'val', 'a.b.png'].join(sep)),
    ['', 'd', 'images', 'x', 'labels', 'val', 'a.b.txt'].join(sep),
  );
  // Polygon (0.1,0.2) (0.5,0.2) (0.3,0.6): x 0.1..0.5, y 0.2..0.6 → centre (0.3, 0.4), size 0.4 × 0.4.
  const [l] = parseLabelFile('1 0.1 0.2 0.5 0.2 0.3 0.6\n', 2, 'p.txt');
  assert.equal(l?.classId, 1);
  for (const [k, v] of [
    ['cx', 0.3],
    ['cy', 0.4],
    ['w', 0.4],
    ['h', 0.4],
  ] as const)
    assert.ok(Math.abs(l![k] - v) < 1e-12, k);
});
