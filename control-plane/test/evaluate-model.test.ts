// End-to-end evaluation with the real YOLOv8n model on real photos (converted to PNG with
// GStreamer), labelled with the detections listed in ../shared/models/README.md.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { generateDataset } from '@edgefleet/scenes';
import { evaluateModel } from '../src/index.js';
import { REPO_ROOT, sharedPath } from '@edgefleet/service-kit/testing';
import { tempDir } from '@edgefleet/service-kit/testing';

const NAMES = ['person', 'bicycle', 'car', 'dog', 'horse', 'kite', 'giraffe', 'zebra', 'bird'];

type Box = [string, number, number, number, number];

/**
 * The photos and their labels, read from the table in ../shared/models/README.md, the one place they are written:
 * `| dog.jpg | 768x576 | dog 0.93 [132,220,309,542]; … |` gives image, size and [class, x1, y1, x2, y2] in source
 * pixels (the scores are what the model found, not labels, and are dropped).
 */
function readPhotoLabels(): [string, number, number, Box[]][] {
  const readme = readFileSync(sharedPath('models', 'README.md'), 'utf8');
  const rows = [...readme.matchAll(/^\| (\w+)\.jpg \| (\d+)x(\d+) \| (.*) \|$/gm)];
  if (rows.length === 0) throw new Error('no photo rows in ../shared/models/README.md');
  return rows.map(([, name, w, h, found]) => {
    const boxes = [...(found as string).matchAll(/(\w+) [\d.]+ \[(\d+),(\d+),(\d+),(\d+)\]/g)];
    return [name as string, Number(w), Number(h), boxes.map(([, cls, ...xy]) => [cls, ...xy.map(Number)] as Box)];
  });
}

const PHOTOS = readPhotoLabels();
const INSTANCES = PHOTOS.reduce((n, p) => n + p[3].length, 0);

function yoloLine(name: string, x1: number, y1: number, x2: number, y2: number, w: number, h: number): string {
  const f = (v: number) => v.toFixed(6);
  return `${NAMES.indexOf(name)} ${f((x1 + x2) / 2 / w)} ${f((y1 + y2) / 2 / h)} ${f((x2 - x1) / w)} ${f((y2 - y1) / h)}`;
}

/** Writes data.yaml + labels for the photos; `shift` moves every box by that fraction of its width. */
function writePhotoDataset(root: string, pngDir: string, shift = 0): string {
  mkdirSync(join(root, 'images', 'test'), { recursive: true });
  mkdirSync(join(root, 'labels', 'test'), { recursive: true });
  for (const [name, w, h, boxes] of PHOTOS) {
    copyFileSync(join(pngDir, `${name}.png`), join(root, 'images', 'test', `${name}.png`));
    const lines = boxes.map(([cls, x1, y1, x2, y2]) => {
      const dx = (x2 - x1) * shift;
      return yoloLine(cls, Math.min(w - 1, x1 + dx), y1, Math.min(w, x2 + dx), y2, w, h);
    });
    writeFileSync(join(root, 'labels', 'test', `${name}.txt`), `${lines.join('\n')}\n`);
  }
  writeFileSync(join(root, 'data.yaml'), `path: ${root}\ntest: images/test\nnames: [${NAMES.join(', ')}]\n`);
  return root;
}

let MODEL = '';
let PNG_DIR = '';
let PHOTO_DS = '';
let WORK = '';

after(() => {
  if (WORK) rmSync(WORK, { recursive: true, force: true });
});

before(() => {
  MODEL = sharedPath('models', 'yolov8n_int8.onnx');
  WORK = mkdtempSync(join(tmpdir(), 'cp-eval-'));
  const work = WORK;
  PNG_DIR = join(work, 'png');
  mkdirSync(PNG_DIR);
  for (const [name] of PHOTOS) {
    const jpg = sharedPath('images', `${name}.jpg`);
    execFileSync(
      'gst-launch-1.0',
      [
        '-q',
        'filesrc',
        `location=${jpg}`,
        '!',
        'jpegdec',
        '!',
        'videoconvert',
        '!',
        'video/x-raw,format=RGB',
        '!',
        'pngenc',
        '!',
        'filesink',
        `location=${join(PNG_DIR, `${name}.png`)}`,
      ],
      { timeout: 60_000 },
    );
  }
  PHOTO_DS = writePhotoDataset(join(work, 'photos'), PNG_DIR);
});

test('YOLOv8n on the labelled photos reaches mAP50 ≥ 0.9', async () => {
  const progress: string[] = [];
  const r = await evaluateModel({
    model: MODEL,
    data: PHOTO_DS,
    providers: ['cpu'],
    progress: (l) => progress.push(l),
  });
  assert.equal(r.images, PHOTOS.length);
  assert.equal(r.instances, INSTANCES);
  assert.ok(r.mAP50 >= 0.9, `mAP50 ${r.mAP50}`);
  assert.ok(r.mAP50_95 > 0.5 && r.mAP50_95 <= r.mAP50, `mAP50-95 ${r.mAP50_95}`);
  assert.ok(r.recall >= 0.9, `recall at 0.25 ${r.recall}`);
  assert.deepEqual(Object.keys(r.perClass), NAMES);
  assert.equal(r.perClass.person?.gt, 4);
  assert.equal(r.perClass.horse?.gt, 4);
  assert.equal(r.classMapping.by, 'name');
  assert.equal(r.split, 'test');
  assert.equal(r.provider, 'cpu');
  assert.ok(r.imagesPerSecond > 0 && r.inferenceImagesPerSecond >= r.imagesPerSecond);
  assert.ok(
    progress.some((l) => /6\/6 images/.test(l)),
    progress.join('\n'),
  );
});

test('misplaced labels give a low mAP (the metric can fail)', async (t) => {
  const shifted = writePhotoDataset(join(tempDir(t), 'shifted'), PNG_DIR, 0.6);
  const r = await evaluateModel({ model: MODEL, data: shifted, providers: ['cpu'] });
  assert.ok(r.mAP50 < 0.3, `mAP50 ${r.mAP50} with every box moved by 60% of its width`);
});

test('a scenes dataset evaluates with classes mapped by name from the COCO model', async (t) => {
  const dir = join(tempDir(t), 'scenes');
  const summary = generateDataset({
    domain: 'day',
    count: 3,
    seed: 21,
    outDir: dir,
    width: 320,
    height: 320,
    split: [0, 0, 1],
  });
  const r = await evaluateModel({ model: MODEL, data: dir, providers: ['cpu'] });
  assert.equal(r.images, 3);
  assert.equal(
    r.instances,
    Object.values(summary.instances).reduce((a, b) => a + b, 0),
  );
  assert.deepEqual(Object.keys(r.perClass), ['person', 'bicycle', 'car']);
  assert.deepEqual(r.classMapping, { by: 'name', unmatchedDatasetClasses: [] });
  assert.ok(r.mAP50 >= 0 && r.mAP50 <= 1);
});

test('a JPEG dataset is refused with CP_ERR_IMAGE_FORMAT before any model is loaded', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'images', 'test'), { recursive: true });
  mkdirSync(join(root, 'labels', 'test'), { recursive: true });
  copyFileSync(sharedPath('images', 'dog.jpg'), join(root, 'images', 'test', 'dog.jpg'));
  writeFileSync(join(root, 'labels', 'test', 'dog.txt'), '0 0.5 0.5 0.2 0.2\n');
  writeFileSync(join(root, 'data.yaml'), 'test: images/test\nnames: [dog]\n');
  await assert.rejects(evaluateModel({ model: join(root, 'no-such-model.onnx'), data: root }), {
    code: 'CP_ERR_IMAGE_FORMAT',
    message: /\.jpg images are not supported yet \(only PNG/,
  });
});

test('a JPEG file named .png is refused with CP_ERR_IMAGE_FORMAT', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'images', 'test'), { recursive: true });
  mkdirSync(join(root, 'labels', 'test'), { recursive: true });
  copyFileSync(sharedPath('images', 'dog.jpg'), join(root, 'images', 'test', 'dog.png'));
  writeFileSync(join(root, 'labels', 'test', 'dog.txt'), '0 0.5 0.5 0.2 0.2\n');
  writeFileSync(join(root, 'data.yaml'), 'test: images/test\nnames: [dog]\n');
  await assert.rejects(evaluateModel({ model: MODEL, data: root, providers: ['cpu'] }), {
    code: 'CP_ERR_IMAGE_FORMAT',
    message: /is JPEG/,
  });
});

test('a missing model is CP_ERR_MODEL_LOAD; unrelated classes are CP_ERR_CLASS_MISMATCH', async (t) => {
  await assert.rejects(evaluateModel({ model: '/nonexistent/model.onnx', data: PHOTO_DS }), {
    code: 'CP_ERR_MODEL_LOAD',
  });
  const root = tempDir(t);
  mkdirSync(join(root, 'images', 'test'), { recursive: true });
  mkdirSync(join(root, 'labels', 'test'), { recursive: true });
  copyFileSync(join(PNG_DIR, 'dog.png'), join(root, 'images', 'test', 'dog.png'));
  writeFileSync(join(root, 'labels', 'test', 'dog.txt'), '0 0.5 0.5 0.2 0.2\n');
  writeFileSync(join(root, 'data.yaml'), 'test: images/test\nnames: [widget, gadget]\n');
  await assert.rejects(evaluateModel({ model: MODEL, data: root, providers: ['cpu'] }), {
    code: 'CP_ERR_CLASS_MISMATCH',
  });
});

test('a split without any labelled object is refused (mAP undefined)', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'images', 'test'), { recursive: true });
  mkdirSync(join(root, 'labels', 'test'), { recursive: true });
  copyFileSync(join(PNG_DIR, 'dog.png'), join(root, 'images', 'test', 'dog.png'));
  writeFileSync(join(root, 'labels', 'test', 'dog.txt'), '');
  writeFileSync(join(root, 'data.yaml'), 'test: images/test\nnames: [dog]\n');
  await assert.rejects(evaluateModel({ model: MODEL, data: root }), {
    code: 'CP_ERR_DATASET_SPLIT',
    message: /no labelled objects/,
  });
});

const BIN = join(REPO_ROOT, 'control-plane', 'bin', 'control-plane.js');

test('control-plane eval prints the metrics JSON on stdout and progress on stderr', async () => {
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    [
      BIN,
      'eval',
      '--model',
      MODEL,
      '--data',
      PHOTO_DS,
      '--split',
      'test',
      '--providers',
      'cpu',
      '--conf',
      '0.001',
      '--iou',
      '0.7',
    ],
    { timeout: 120_000 },
  );
  const r = JSON.parse(stdout);
  assert.ok(r.mAP50 >= 0.9);
  assert.equal(r.images, 6);
  assert.deepEqual(r.settings, { conf: 0.001, iou: 0.7, maxDetections: 300, prConf: 0.25 });
  assert.match(stderr, /eval: 6\/6 images/);
  assert.ok(readFileSync(BIN, 'utf8').includes('dist/src/cli/main.js'));
});

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('control-plane eval: bad arguments exit 2, failures exit 1, both with a reason', async () => {
  const noModel = await runCli(['eval', '--data', PHOTO_DS]);
  assert.equal(noModel.code, 2);
  assert.match(noModel.stderr, /CP_ERR_ARGS: invalid arguments: --model is required/);
  assert.match(noModel.stderr, /usage: control-plane eval/);
  const badConf = await runCli(['eval', '--model', MODEL, '--data', PHOTO_DS, '--conf', 'high']);
  assert.equal(badConf.code, 2);
  assert.match(badConf.stderr, /--conf must be a number/);
  const outOfRange = await runCli(['eval', '--model', MODEL, '--data', PHOTO_DS, '--iou', '1.5']);
  assert.equal(outOfRange.code, 2);
  assert.match(outOfRange.stderr, /iou must be within 0\.\.1/);
  const unknownOption = await runCli(['eval', '--model', MODEL, '--data', PHOTO_DS, '--bogus']);
  assert.equal(unknownOption.code, 2);
  const unknownCommand = await runCli(['deploy']);
  assert.equal(unknownCommand.code, 2);
  assert.match(unknownCommand.stderr, /unknown command "deploy"/);
  const missing = await runCli(['eval', '--model', MODEL, '--data', '/nonexistent/dataset']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /CP_ERR_DATASET_NOT_FOUND/);
  assert.equal(missing.stdout, '');
});
