// GStreamer pulls and bus polls park libuv threadpool threads: size the pool before anything async.
process.env.UV_THREADPOOL_SIZE ??= '16';

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { before, describe, it } from 'node:test';
import { sharedPath, tempDir } from '@edgefleet/service-kit/testing';
import { detectCommand } from '../src/cli/detect-command.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

interface OutputLine {
  image: string;
  width: number;
  height: number;
  detections: Array<{ classId: number; label: string; score: number; box: [number, number, number, number] }>;
}

async function run(argv: string[]): Promise<{ code: number; lines: OutputLine[]; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await detectCommand(argv, { stdout, stderr });
  const lines = stdout.text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as OutputLine);
  return { code, lines, stderr: stderr.text };
}

function iou(a: readonly number[], b: readonly number[]): number {
  const iw = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const ih = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter);
}

interface Expected {
  labels: string[];
  score: number;
  box: [number, number, number, number];
  /** Wider than the default 0.05 where noted. */
  scoreTolerance?: number;
}

/*
 * The yolov8n_int8.onnx table of ../shared/models/README.md (conf 0.5, IoU 0.45). Two small kite.jpg
 * objects get a wider score tolerance: Ultralytics centres the letterbox (what we do) and there they
 * score 0.81 and 0.64 here; the README's 0.75 and 0.51 are reproduced (within 0.03, as every other row)
 * only when the content is placed top-left, so those two scores depend on the letterbox placement.
 */
const YOLOV8_EXPECTED: Record<string, { size: [number, number]; objects: Expected[] }> = {
  'dog.jpg': {
    size: [768, 576],
    objects: [
      { labels: ['dog'], score: 0.93, box: [132, 220, 309, 542] },
      { labels: ['bicycle'], score: 0.88, box: [132, 139, 568, 421] },
      { labels: ['car', 'truck'], score: 0.58, box: [467, 75, 693, 172] },
    ],
  },
  'horses.jpg': {
    size: [773, 512],
    objects: [
      { labels: ['horse'], score: 0.89, box: [435, 213, 596, 349] },
      { labels: ['horse'], score: 0.88, box: [2, 193, 315, 410] },
      { labels: ['horse'], score: 0.68, box: [0, 187, 154, 280] },
    ],
  },
  'person.jpg': {
    size: [640, 424],
    objects: [
      { labels: ['horse'], score: 0.96, box: [407, 139, 600, 345] },
      { labels: ['person'], score: 0.94, box: [191, 100, 275, 376] },
      { labels: ['dog'], score: 0.92, box: [64, 264, 203, 346] },
    ],
  },
  'kite.jpg': {
    size: [1352, 900],
    objects: [
      { labels: ['kite'], score: 0.88, box: [595, 79, 671, 152] },
      { labels: ['person'], score: 0.85, box: [112, 614, 166, 764] },
      { labels: ['person'], score: 0.79, box: [216, 698, 273, 860] },
      { labels: ['kite'], score: 0.75, box: [280, 238, 304, 281], scoreTolerance: 0.1 },
      { labels: ['person'], score: 0.51, box: [82, 507, 106, 567], scoreTolerance: 0.15 },
    ],
  },
  'giraffe.jpg': {
    size: [500, 500],
    objects: [
      { labels: ['giraffe'], score: 0.91, box: [166, 28, 450, 442] },
      { labels: ['zebra'], score: 0.88, box: [249, 205, 427, 432] },
    ],
  },
  'eagle.jpg': { size: [773, 512], objects: [{ labels: ['bird'], score: 0.92, box: [138, 84, 601, 448] }] },
};

function assertFinds(line: OutputLine, expected: Expected, strict = false): void {
  const match = line.detections.find((d) => expected.labels.includes(d.label) && iou(d.box, expected.box) >= 0.9);
  assert.ok(
    match,
    `${line.image}: no ${expected.labels.join('/')} with IoU >= 0.9 to [${expected.box.join(',')}]; got ${JSON.stringify(line.detections)}`,
  );
  const tolerance = strict ? 0.05 : (expected.scoreTolerance ?? 0.05);
  assert.ok(
    Math.abs(match.score - expected.score) <= tolerance,
    `${line.image}: ${match.label} score ${match.score}, expected ${expected.score} ± ${tolerance}`,
  );
}

describe('edge-agent detect', () => {
  let yolov8: string;
  let yolox: string;
  before(() => {
    yolov8 = sharedPath('models', 'yolov8n_int8.onnx');
    yolox = sharedPath('models', 'yolox_nano.onnx');
  });

  async function checkReadmeTable(extra: string[], strict: boolean): Promise<void> {
    const images = Object.keys(YOLOV8_EXPECTED).map((name) => sharedPath('images', name));
    const { code, lines, stderr } = await run([
      '--model',
      yolov8,
      '--conf',
      '0.5',
      '--iou',
      '0.45',
      '--providers',
      'cpu',
      ...extra,
      ...images,
    ]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(
      lines.map((l) => l.image),
      images,
    );
    for (const line of lines) {
      const name = line.image.split('/').pop()!;
      const { size, objects } = YOLOV8_EXPECTED[name]!;
      assert.deepEqual([line.width, line.height], size, name);
      for (const expected of objects) assertFinds(line, expected, strict);
      for (const d of line.detections) {
        assert.ok(d.score >= 0.5, `${name}: score ${d.score} below --conf`);
        assert.equal(d.score, Math.round(d.score * 1e4) / 1e4, 'score has at most 4 decimals');
        for (const v of d.box) assert.equal(v, Math.round(v * 10) / 10, 'box has at most 1 decimal');
        assert.ok(
          d.box[0] >= 0 && d.box[1] >= 0 && d.box[2] <= line.width && d.box[3] <= line.height,
          'box inside the image',
        );
        assert.equal(typeof d.classId, 'number');
      }
    }
  }

  it('finds every object of the README table with yolov8n_int8.onnx, one JSON line per image (centred letterbox, as Ultralytics)', async () => {
    await checkReadmeTable([], false);
  });

  it('matches every README score within 0.05 with the top-left letterbox the table was made with', async () => {
    await checkReadmeTable(['--letterbox', 'top-left'], true);
  });

  it('rejects an unknown --letterbox placement with EDGE_ERR_USAGE', async () => {
    const { code, stderr } = await run(['--model', yolov8, '--letterbox', 'middle', sharedPath('images', 'dog.jpg')]);
    assert.equal(code, 2);
    assert.match(stderr, /EDGE_ERR_USAGE: .*--letterbox must be center or top-left/);
  });

  it('finds dog, bicycle and car/truck on dog.jpg and person, horse and dog on person.jpg with yolox_nano.onnx', async () => {
    const { code, lines, stderr } = await run([
      '--model',
      yolox,
      '--conf',
      '0.5',
      '--providers',
      'cpu',
      sharedPath('images', 'dog.jpg'),
      sharedPath('images', 'person.jpg'),
    ]);
    assert.equal(code, 0, stderr);
    const labels = lines.map((l) => new Set(l.detections.map((d) => d.label)));
    for (const label of ['dog', 'bicycle']) assert.ok(labels[0]!.has(label), `dog.jpg: ${label}`);
    assert.ok(labels[0]!.has('car') || labels[0]!.has('truck'), 'dog.jpg: car or truck');
    for (const label of ['person', 'horse', 'dog']) assert.ok(labels[1]!.has(label), `person.jpg: ${label}`);
    const dog = lines[0]!.detections.find((d) => d.label === 'dog')!;
    assert.ok(iou(dog.box, [132, 220, 309, 542]) >= 0.8, `yolox dog box ${dog.box.join(',')}`);
  });

  it('keeps going after a bad image, reports it with its code and exits 1', async (t) => {
    const dir = await tempDir(t);
    const garbage = join(dir, 'garbage.jpg');
    await writeFile(garbage, randomBytes(2000));
    const missing = join(dir, 'missing.jpg');
    const dog = sharedPath('images', 'dog.jpg');
    const person = sharedPath('images', 'person.jpg');
    const { code, lines, stderr } = await run(['--model', yolox, '--providers', 'cpu', dog, garbage, missing, person]);
    assert.equal(code, 1);
    assert.deepEqual(
      lines.map((l) => l.image),
      [dog, person],
    );
    assert.match(stderr, /EDGE_ERR_IMAGE_DECODE: .*garbage\.jpg: not a JPEG or PNG file/);
    assert.match(stderr, /EDGE_ERR_IMAGE_DECODE: .*missing\.jpg: file not found/);
  });

  it('reports a missing model with EDGE_ERR_MODEL_NOT_FOUND and exits 1', async (t) => {
    const model = join(await tempDir(t), 'nope.onnx');
    const { code, lines, stderr } = await run(['--model', model, sharedPath('images', 'dog.jpg')]);
    assert.equal(code, 1);
    assert.equal(lines.length, 0);
    assert.match(stderr, /EDGE_ERR_MODEL_NOT_FOUND: model file not found: .*nope\.onnx/);
  });

  it('reports a corrupt model with EDGE_ERR_MODEL_CORRUPT and ONNX Runtime’s reason', async (t) => {
    const model = join(await tempDir(t), 'corrupt.onnx');
    await writeFile(model, randomBytes(5000));
    const { code, stderr } = await run(['--model', model, '--providers', 'cpu', sharedPath('images', 'dog.jpg')]);
    assert.equal(code, 1);
    assert.match(stderr, /EDGE_ERR_MODEL_CORRUPT: .*corrupt\.onnx: .*protobuf parsing failed/i);
  });

  it('reports a model that does not fit the requested adapter with EDGE_ERR_MODEL_NOT_DETECTOR and the shapes', async () => {
    const { code, stderr } = await run([
      '--model',
      yolox,
      '--providers',
      'cpu',
      '--adapter',
      'yolov8',
      sharedPath('images', 'dog.jpg'),
    ]);
    assert.equal(code, 1);
    assert.match(stderr, /EDGE_ERR_MODEL_NOT_DETECTOR: .*adapter 'yolov8' does not fit: .*output float32\[1,3549,85\]/);
  });

  it('rejects invalid arguments with EDGE_ERR_USAGE, the usage text and exit code 2', async () => {
    const dog = sharedPath('images', 'dog.jpg');
    const cases: Array<[string[], RegExp]> = [
      [[dog], /--model is required/],
      [['--model', yolox], /at least one IMAGE is required/],
      [['--model', yolox, '--conf', 'high', dog], /--conf must be a number, got 'high'/],
      [['--model', yolox, '--iou', '1.5', dog], /iou must be a number in \[0, 1\]/],
      [['--model', yolox, '--max-det', '0', dog], /maxDetections must be an integer >= 1/],
      [['--model', yolox, '--providers', 'cuda,rocm', dog], /unknown execution provider 'rocm'/],
      [['--model', yolox, '--adapter', 'ssd', dog], /--adapter must be one of yolov8, yolox/],
      [['--model', yolox, '--frobnicate', dog], /Unknown option '--frobnicate'/],
    ];
    for (const [argv, message] of cases) {
      const { code, lines, stderr } = await run(argv);
      assert.equal(code, 2, argv.join(' '));
      assert.equal(lines.length, 0);
      assert.match(stderr, /edge-agent detect: EDGE_ERR_USAGE: /);
      assert.match(stderr, message);
      assert.match(stderr, /usage: edge-agent detect --model MODEL/);
    }
  });
});
