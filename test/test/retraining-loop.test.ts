/**
 * The retraining loop's parts working together on the project's own data: the scene generator writes a
 * YOLO dataset, the PyTorch trainer trains a few iterations and exports ONNX, the edge agent's `detect`
 * decodes that export unchanged (YOLOv8 adapter, class names from its metadata), the trainer fine-tunes
 * from the checkpoint, and the evaluator scores both through the same detection code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLASS_NAMES, generateDataset } from '@edgefleet/scenes';
import { evaluateModel } from '@edgefleet/control-plane';
import { parseClassNames, readOnnxMetadataFile } from '@edgefleet/vision/testing';
import { repoRoot, tempDir } from '../support/fixtures.js';

const PYTHON = '/usr/bin/python3';

function train(args: string[]): void {
  const r = spawnSync(PYTHON, ['-m', 'edgefleet_trainer', 'train', ...args], {
    env: { ...process.env, PYTHONPATH: join(repoRoot, 'control-plane', 'trainer'), PYTHONUNBUFFERED: '1' },
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(r.status, 0, `trainer failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string });
  assert.equal(events.at(-1)?.event, 'done', 'the last progress event is done');
}

function detect(
  model: string,
  images: string[],
): Array<{ image: string; detections: Array<{ label: string; box: number[] }> }> {
  const r = spawnSync(
    process.execPath,
    [
      join(repoRoot, 'edge-agent', 'bin', 'edge-agent.js'),
      'detect',
      '--model',
      model,
      '--providers',
      'cpu',
      '--conf',
      '0.01',
      ...images,
    ],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

test('scenes → trainer → ONNX that edge-agent detect decodes → fine-tune from the checkpoint → evaluator', async (t) => {
  const python = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  assert.equal(python.status, 0, `${PYTHON} cannot import torch (install python3-torch): ${python.stderr}`);
  const tmp = tempDir('retraining-loop');
  t.after(tmp.cleanup);
  const day = join(tmp.path, 'day');
  const night = join(tmp.path, 'night');
  await generateDataset({
    domain: 'day',
    count: 24,
    seed: 11,
    outDir: day,
    width: 160,
    height: 160,
    split: [0.67, 0.17, 0.16],
  });
  await generateDataset({
    domain: 'night',
    count: 12,
    seed: 12,
    outDir: night,
    width: 160,
    height: 160,
    split: [0.67, 0.17, 0.16],
  });

  const base = join(tmp.path, 'base');
  train([
    '--data',
    day,
    '--out',
    base,
    '--epochs',
    '2',
    '--batch',
    '8',
    '--imgsz',
    '160',
    '--seed',
    '1',
    '--val-every',
    '1',
  ]);
  for (const f of ['best.pt', 'last.pt', 'model.onnx', 'metrics.json'])
    assert.ok(existsSync(join(base, f)), `${f} written`);

  const testImages = readdirSync(join(day, 'images', 'test')).map((f) => join(day, 'images', 'test', f));
  const lines = detect(join(base, 'model.onnx'), testImages);
  assert.equal(lines.length, testImages.length, 'one JSON line per image');
  // The export carries the dataset's class names; without them detect would say class0..class2.
  const metadata = await readOnnxMetadataFile(join(base, 'model.onnx'));
  assert.ok(metadata.names, 'the export carries class names in its metadata');
  const exportNames = parseClassNames(metadata.names);
  assert.deepEqual(exportNames, [...CLASS_NAMES] as string[], "the export's metadata names are the dataset's classes");
  const labels = new Set(lines.flatMap((l) => l.detections.map((d) => d.label)));
  assert.ok(labels.size > 0, 'detect found something at --conf 0.01, so there are labels to check');
  for (const label of labels)
    assert.ok(exportNames.includes(label), `label ${label} comes from the export's metadata names`);

  const tuned = join(tmp.path, 'tuned');
  train([
    '--data',
    night,
    '--out',
    tuned,
    '--weights',
    join(base, 'best.pt'),
    '--epochs',
    '1',
    '--batch',
    '8',
    '--imgsz',
    '160',
    '--seed',
    '1',
  ]);
  assert.equal(
    detect(join(tuned, 'model.onnx'), testImages.slice(0, 1)).length,
    1,
    'the fine-tuned export decodes too',
  );

  const metrics = await evaluateModel({
    model: join(tuned, 'model.onnx'),
    data: night,
    split: 'test',
    providers: ['cpu'],
  });
  assert.ok(
    metrics.mAP50 >= 0 && metrics.mAP50 <= 1 && metrics.mAP50_95 <= metrics.mAP50,
    `metrics in range: ${metrics.mAP50}, ${metrics.mAP50_95}`,
  );
  assert.deepEqual(Object.keys(metrics.perClass).sort(), ['bicycle', 'car', 'person']);
});
