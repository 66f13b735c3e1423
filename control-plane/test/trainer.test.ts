// The retraining worker as the control plane runs it: `python3 -m edgefleet_trainer` in a
// child process, progress as JSON lines on stdout, documented exit codes (CONTRACT.md),
// artefacts checked with the real consumers (onnxruntime-node for the ONNX model).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { Cleanups, tempDir } from '@edgefleet/service-kit/testing';

const PYTHON = '/usr/bin/python3';
// Compiled to control-plane/dist/test/, so the package root is two levels up.
/** Temp dirs of the whole file, removed after the last test. */
const temps = new Cleanups();
const TRAINER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'trainer');

interface TrainerEvent {
  readonly event: string;
  readonly [key: string]: unknown;
}

interface TrainerRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly events: TrainerEvent[];
  readonly stderr: string;
}

function trainerEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONPATH: TRAINER_DIR, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' };
}

/** Fails with a clear message when the Python side (torch, torchvision, PIL) is not installed. */
function assertPythonReady(): void {
  const r = spawnSync(PYTHON, ['-c', 'import torch, torchvision, PIL, numpy'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(
      `trainer tests need ${PYTHON} with torch, torchvision, PIL and numpy: ${r.error?.message ?? r.stderr}`,
    );
  }
}

/** Writes the synthetic shapes dataset (3 classes) into a fresh temp dir and returns its path. */
function makeShapesDataset(opts: { train: number; val: number; test?: number; size?: number; seed?: number }): string {
  const dir = tempDir(temps, 'ef-trainer-ds-');
  const args = [
    join(TRAINER_DIR, 'fixtures', 'make_shapes.py'),
    dir,
    '--train',
    String(opts.train),
    '--val',
    String(opts.val),
    '--test',
    String(opts.test ?? 0),
    '--size',
    String(opts.size ?? 160),
    '--seed',
    String(opts.seed ?? 1),
  ];
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', env: trainerEnv() });
  if (r.status !== 0) throw new Error(`fixture generator failed: ${r.stderr}`);
  return dir;
}

function copyDataset(src: string): string {
  const dir = tempDir(temps, 'ef-trainer-bad-');
  cpSync(src, dir, { recursive: true });
  return dir;
}

/**
 * Runs `python3 -m edgefleet_trainer <args>`, collecting JSON-lines events from stdout.
 * `onEvent` may act on the child (e.g. send SIGTERM) as events arrive.
 */
function runTrainer(
  args: readonly string[],
  onEvent?: (e: TrainerEvent, kill: (s: NodeJS.Signals) => void) => void,
  opts: { processGroup?: boolean } = {},
): Promise<TrainerRun> {
  return new Promise((resolveRun, reject) => {
    // processGroup: the trainer leads its own group and kill() signals the whole group
    // (trainer and loader workers), as systemd or a shell's Ctrl-C would.
    const child = spawn(PYTHON, ['-m', 'edgefleet_trainer', ...args], {
      cwd: TRAINER_DIR,
      env: trainerEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: opts.processGroup === true,
    });
    const signal = (s: NodeJS.Signals): void => {
      if (opts.processGroup && child.pid !== undefined) process.kill(-child.pid, s);
      else child.kill(s);
    };
    const events: TrainerEvent[] = [];
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.trim()) continue;
        // Every stdout line must be one JSON object: the contract the control plane relies on.
        let parsed: TrainerEvent;
        try {
          parsed = JSON.parse(line) as TrainerEvent;
        } catch (err) {
          child.kill('SIGKILL');
          reject(new Error(`non-JSON line on trainer stdout: ${line.slice(0, 200)} (${String(err)})`));
          return;
        }
        events.push(parsed);
        onEvent?.(parsed, signal);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolveRun({ code, signal, events, stderr }));
  });
}

function eventsOf(run: TrainerRun, name: string): TrainerEvent[] {
  return run.events.filter((e) => e.event === name);
}

function describeRun(run: TrainerRun): string {
  return `exit ${run.code}; last events ${JSON.stringify(run.events.slice(-2))}; stderr tail: ${run.stderr.slice(-1500)}`;
}

/** ONNX ModelProto.metadata_props (field 14: StringStringEntryProto key=1, value=2) from raw bytes. */
function onnxMetadata(model: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of protoFields(model)) {
    if (f.field === 14 && f.bytes) {
      let key = '';
      let value = '';
      for (const kv of protoFields(f.bytes)) {
        if (kv.field === 1 && kv.bytes) key = Buffer.from(kv.bytes).toString('utf8');
        if (kv.field === 2 && kv.bytes) value = Buffer.from(kv.bytes).toString('utf8');
      }
      out[key] = value;
    }
  }
  return out;
}

interface ProtoField {
  readonly field: number;
  readonly bytes?: Uint8Array;
}

function* protoFields(buf: Uint8Array): Generator<ProtoField> {
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (;;) {
      const b = buf[pos++];
      if (b === undefined) throw new Error('truncated protobuf varint');
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
  };
  while (pos < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = varint();
      yield { field, bytes: buf.subarray(pos, pos + len) };
      pos += len;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

// ---- tests ---------------------------------------------------------------------------------

const NAMES = ['box', 'disc', 'ring'];
const IMGSZ = 160;
const ANCHORS_160 = (160 / 8) ** 2 + (160 / 16) ** 2 + (160 / 32) ** 2; // 525

let dataset = '';
let scratchOut = '';
let scratch: TrainerRun;

// Small and quick on 2 CPU cores: 16 training images at 160 px, batch 8, two threads.
const FAST = ['--imgsz', String(IMGSZ), '--batch', '8', '--threads', '2', '--workers', '0', '--log-every', '1'];

/** `train` argv at the FAST settings: the dataset, the output folder, the epochs, then any further flags. */
function fastTrainArgs(options: { data: string; out: string; epochs: number; flags?: string[] }): string[] {
  const { data, out, epochs, flags = [] } = options;
  return ['train', '--data', data, '--out', out, '--epochs', String(epochs), ...flags, ...FAST];
}

before(async () => {
  assertPythonReady();
  dataset = makeShapesDataset({ train: 16, val: 8, test: 4, size: 160 });
  scratchOut = tempDir(temps, 'ef-trainer-out-');
  scratch = await runTrainer(fastTrainArgs({ data: dataset, out: scratchOut, epochs: 2 }));
});

after(() => {
  temps.run();
});

test('training from scratch exits 0 and writes best.pt, last.pt, model.onnx and metrics.json', () => {
  assert.equal(scratch.code, 0, describeRun(scratch));
  for (const f of ['best.pt', 'last.pt', 'model.onnx', 'metrics.json']) {
    assert.ok(statSync(join(scratchOut, f)).size > 0, `${f} is empty`);
  }
});

test('progress is JSON lines: start, iter with box/cls/dfl losses, one epoch event per epoch with mAP, then done', () => {
  assert.equal(scratch.code, 0, describeRun(scratch));
  const names = scratch.events.map((e) => e.event);
  assert.equal(names[0], 'start');
  assert.equal(names.at(-1), 'done');
  const start = scratch.events[0]!;
  assert.equal(start.mode, 'scratch');
  assert.deepEqual(start.names, NAMES);
  const model = start.model as { params: number };
  assert.ok(model.params > 100_000 && model.params <= 3_000_000, `params ${model.params}`);

  const iters = eventsOf(scratch, 'iter');
  assert.ok(iters.length >= 2);
  for (const it of iters) {
    const loss = it.loss as Record<string, number>;
    for (const k of ['box', 'cls', 'dfl']) assert.ok(Number.isFinite(loss[k]) && loss[k]! >= 0, `loss.${k}=${loss[k]}`);
    assert.ok(typeof it.lr === 'number' && it.lr > 0);
    assert.ok(typeof it.imgs_per_s === 'number' && it.imgs_per_s > 0);
    assert.ok((it.iter as number) >= 1 && (it.iter as number) <= (it.iters as number));
  }
  const epochs = eventsOf(scratch, 'epoch');
  assert.deepEqual(
    epochs.map((e) => e.epoch),
    [1, 2],
  );
  for (const e of epochs) {
    const val = e.val as { mAP50: number; mAP50_95: number };
    assert.ok(val.mAP50 >= 0 && val.mAP50 <= 1);
    assert.ok(val.mAP50_95 >= 0 && val.mAP50_95 <= val.mAP50 + 1e-9);
    assert.equal(typeof e.eta_s, 'number');
  }
  assert.equal(epochs[1]!.eta_s, 0);
  const done = scratch.events.at(-1)!;
  assert.equal(done.onnx, join(scratchOut, 'model.onnx'));
  assert.equal(done.best, join(scratchOut, 'best.pt'));
});

test('metrics.json records val and test mAP per class, parameters, image size, epochs, seed, dataset and device', () => {
  assert.equal(scratch.code, 0, describeRun(scratch));
  const m = JSON.parse(readFileSync(join(scratchOut, 'metrics.json'), 'utf8'));
  assert.equal(m.model.imgsz, IMGSZ);
  assert.ok(m.model.params <= 3_000_000);
  assert.equal(m.train.epochs, 2);
  assert.equal(m.train.seed, 0);
  assert.equal(m.train.device, 'cpu');
  assert.ok(m.train.elapsed_s > 0);
  assert.deepEqual(m.dataset.names, NAMES);
  assert.deepEqual(m.dataset.images, { train: 16, val: 8, test: 4 });
  for (const split of ['val', 'test']) {
    assert.equal(typeof m[split].mAP50, 'number');
    assert.equal(typeof m[split].mAP50_95, 'number');
    assert.deepEqual(
      m[split].per_class.map((c: { name: string }) => c.name),
      NAMES,
    );
  }
});

test('model.onnx runs in onnxruntime-node with output [1, 4+nc, N] and carries Ultralytics metadata', async () => {
  assert.equal(scratch.code, 0, describeRun(scratch));
  const file = join(scratchOut, 'model.onnx');
  const session = await ort.InferenceSession.create(file);
  assert.deepEqual(session.inputNames, ['images']);
  assert.deepEqual(session.outputNames, ['output0']);
  const x = new Float32Array(3 * IMGSZ * IMGSZ).fill(114 / 255);
  const out = await session.run({ images: new ort.Tensor('float32', x, [1, 3, IMGSZ, IMGSZ]) });
  const y = out.output0!;
  assert.deepEqual(y.dims, [1, 4 + NAMES.length, ANCHORS_160]);
  const data = y.data as Float32Array;
  for (let i = 0; i < data.length; i++) assert.ok(Number.isFinite(data[i]!), `non-finite output at ${i}`);
  // Rows 4.. are per-class sigmoid scores (no objectness): all within [0, 1].
  for (let i = 4 * ANCHORS_160; i < data.length; i++) assert.ok(data[i]! >= 0 && data[i]! <= 1);
  // Row 0 (cx) of the first anchor of stride 8 is near its cell centre, in input pixels.
  assert.ok(data[0]! > -160 && data[0]! < 320);
  await session.release();

  const meta = onnxMetadata(readFileSync(file));
  assert.equal(meta.names, "{0: 'box', 1: 'disc', 2: 'ring'}");
  assert.equal(meta.imgsz, `[${IMGSZ}, ${IMGSZ}]`);
  assert.equal(meta.stride, '32');
  assert.equal(meta.task, 'detect');
  assert.equal(meta.batch, '1');
  assert.ok(meta.author && meta.version && meta.description && meta.edgefleet_trainer);
});

test('the same seed reproduces the same losses and mAP, whatever the loader worker count', async () => {
  assert.equal(scratch.code, 0, describeRun(scratch));
  const out = tempDir(temps, 'ef-trainer-seed-');
  const fast = FAST.map((v, i) => (FAST[i - 1] === '--workers' ? '2' : v));
  const again = await runTrainer(['train', '--data', dataset, '--out', out, '--epochs', '2', ...fast]);
  assert.equal(again.code, 0, describeRun(again));
  assert.equal(eventsOf(again, 'start')[0]!.workers, 2);
  const summary = (r: TrainerRun) => eventsOf(r, 'epoch').map((e) => [e.loss, e.val]);
  assert.deepEqual(summary(again), summary(scratch));
});

test('fine-tuning from best.pt uses the fine-tune defaults and exports a new model', async () => {
  assert.equal(scratch.code, 0, describeRun(scratch));
  const out = tempDir(temps, 'ef-trainer-ft-');
  const run = await runTrainer(
    fastTrainArgs({ data: dataset, out, epochs: 1, flags: ['--weights', join(scratchOut, 'best.pt')] }),
  );
  assert.equal(run.code, 0, describeRun(run));
  const start = eventsOf(run, 'start')[0]!;
  assert.equal(start.mode, 'finetune');
  assert.equal(start.lr0, 0.001);
  assert.equal(start.lrf, 0.01);
  assert.ok(statSync(join(out, 'model.onnx')).size > 0);
  assert.match(run.stderr, /transferred \d+\/\d+ tensors/);
});

test('val evaluates a checkpoint on the test split; export writes ONNX at another size', async () => {
  assert.equal(scratch.code, 0, describeRun(scratch));
  const best = join(scratchOut, 'best.pt');
  const val = await runTrainer(['val', '--weights', best, '--data', dataset, '--split', 'test', '--threads', '2']);
  assert.equal(val.code, 0, describeRun(val));
  const m = val.events.at(-1)!.metrics as { images: number; per_class: unknown[] };
  assert.equal(m.images, 4);
  assert.equal(m.per_class.length, 3);

  const onnx = join(tempDir(temps, 'ef-trainer-exp-'), 'm.onnx');
  const exp = await runTrainer(['export', '--weights', best, '--out', onnx, '--imgsz', '224', '--opset', '12']);
  assert.equal(exp.code, 0, describeRun(exp));
  const n224 = 28 * 28 + 14 * 14 + 7 * 7;
  assert.deepEqual(exp.events.at(-1)!.output_shape, [1, 7, n224]);
  const session = await ort.InferenceSession.create(onnx);
  const y = await session.run({ images: new ort.Tensor('float32', new Float32Array(3 * 224 * 224), [1, 3, 224, 224]) });
  assert.deepEqual(y.output0!.dims, [1, 7, n224]);
  await session.release();
  assert.equal(onnxMetadata(readFileSync(onnx)).imgsz, '[224, 224]');
});

/** Runs training on a broken copy of the dataset and checks the documented failure. */
async function expectDatasetFailure(mutate: (dir: string) => void, code: string, message: RegExp): Promise<void> {
  const dir = copyDataset(dataset);
  mutate(dir);
  const run = await runTrainer(fastTrainArgs({ data: dir, out: tempDir(temps, 'ef-trainer-bad-out-'), epochs: 1 }));
  assert.equal(run.code, 3, describeRun(run));
  const err = run.events.at(-1)!;
  assert.equal(err.event, 'error');
  assert.equal(err.code, code);
  assert.equal(err.exit_code, 3);
  assert.match(String(err.message), message);
  // Fail fast: nothing was trained.
  assert.equal(eventsOf(run, 'start').length, 0);
  assert.equal(eventsOf(run, 'iter').length, 0);
}

test('a missing labels directory fails with exit 3 TRAINER_ERR_LABELS_DIR', async () => {
  await expectDatasetFailure(
    (d) => rmSync(join(d, 'labels', 'train'), { recursive: true }),
    'TRAINER_ERR_LABELS_DIR',
    /labels[/\\]train.*does not exist/,
  );
});

test('a class id out of range fails with exit 3 TRAINER_ERR_LABEL_CLASS naming file and line', async () => {
  await expectDatasetFailure(
    (d) => writeFileSync(join(d, 'labels', 'val', '00003.txt'), '0 0.5 0.5 0.2 0.2\n3 0.3 0.3 0.1 0.1\n'),
    'TRAINER_ERR_LABEL_CLASS',
    /00003\.txt:2: class id 3 out of range \[0, 3\)/,
  );
});

test('a malformed label line fails with exit 3 TRAINER_ERR_LABEL_FORMAT', async () => {
  await expectDatasetFailure(
    (d) => writeFileSync(join(d, 'labels', 'train', '00001.txt'), '1 0.5 0.5 0.2\n'),
    'TRAINER_ERR_LABEL_FORMAT',
    /00001\.txt:1: expected 5 values/,
  );
});

test('non-normalised coordinates fail with exit 3 TRAINER_ERR_LABEL_FORMAT', async () => {
  await expectDatasetFailure(
    (d) => writeFileSync(join(d, 'labels', 'train', '00002.txt'), '1 80 80 20 20\n'),
    'TRAINER_ERR_LABEL_FORMAT',
    /normalised/,
  );
});

test('an empty split fails with exit 3 TRAINER_ERR_EMPTY_SPLIT', async () => {
  await expectDatasetFailure(
    (d) => {
      const imgs = join(d, 'images', 'val');
      for (const f of readdirSync(imgs)) unlinkSync(join(imgs, f));
    },
    'TRAINER_ERR_EMPTY_SPLIT',
    /split 'val' has no images/,
  );
});

test('a missing data.yaml fails with exit 3 TRAINER_ERR_DATA_YAML', async () => {
  await expectDatasetFailure((d) => unlinkSync(join(d, 'data.yaml')), 'TRAINER_ERR_DATA_YAML', /data\.yaml not found/);
});

test('an image without a label file counts as background, as in Ultralytics', async () => {
  const dir = copyDataset(dataset);
  unlinkSync(join(dir, 'labels', 'train', '00000.txt'));
  writeFileSync(join(dir, 'labels', 'train', '00001.txt'), '');
  const run = await runTrainer(fastTrainArgs({ data: dir, out: tempDir(temps, 'ef-trainer-bg-'), epochs: 1 }));
  assert.equal(run.code, 0, describeRun(run));
  const start = eventsOf(run, 'start')[0]!;
  assert.deepEqual(start.background, { train: 2, val: 0, test: 0 });
  assert.deepEqual(start.images, { train: 16, val: 8, test: 4 });
});

test('bad arguments exit 2 with TRAINER_ERR_ARGS listing every problem; an absent device exits 2 with TRAINER_ERR_DEVICE', async () => {
  const run = await runTrainer([
    'train',
    '--data',
    dataset,
    '--out',
    tempDir(temps, 'ef-trainer-args-'),
    '--imgsz',
    '100',
    '--epochs',
    '0',
  ]);
  assert.equal(run.code, 2, describeRun(run));
  const err = run.events.at(-1)!;
  assert.equal(err.code, 'TRAINER_ERR_ARGS');
  assert.match(String(err.message), /--imgsz must be a multiple of 32/);
  assert.match(String(err.message), /--epochs must be >= 1/);

  // No machine has 100 GPUs: unavailable with or without CUDA.
  const device = await runTrainer([
    'train',
    '--data',
    dataset,
    '--out',
    tempDir(temps, 'ef-trainer-dev-'),
    '--device',
    'cuda:99',
  ]);
  assert.equal(device.code, 2, describeRun(device));
  assert.equal(device.events.at(-1)!.code, 'TRAINER_ERR_DEVICE');

  const unknown = await runTrainer(['train', '--data', dataset, '--bogus']);
  assert.equal(unknown.code, 2, describeRun(unknown));
  assert.equal(unknown.events.at(-1)!.code, 'TRAINER_ERR_ARGS');
});

test('an unreadable checkpoint exits 4 with TRAINER_ERR_CHECKPOINT', async () => {
  const bad = join(tempDir(temps, 'ef-trainer-ckpt-'), 'bad.pt');
  writeFileSync(bad, 'not a checkpoint');
  for (const weights of [bad, join(tmpdir(), 'ef-trainer-no-such.pt')]) {
    const run = await runTrainer([
      'train',
      '--data',
      dataset,
      '--out',
      tempDir(temps, 'ef-trainer-ckpt-out-'),
      '--weights',
      weights,
      ...FAST,
    ]);
    assert.equal(run.code, 4, describeRun(run));
    assert.equal(run.events.at(-1)!.code, 'TRAINER_ERR_CHECKPOINT');
    assert.equal(eventsOf(run, 'iter').length, 0);
  }
});

test('SIGTERM finishes the iteration, saves last.pt and exits 5; --resume continues from it', async () => {
  const out = tempDir(temps, 'ef-trainer-term-');
  let sent = false;
  const run = await runTrainer(fastTrainArgs({ data: dataset, out, epochs: 50 }), (e, kill) => {
    if (e.event === 'iter' && !sent) {
      sent = true;
      kill('SIGTERM');
    }
  });
  assert.ok(sent, 'no iter event arrived');
  assert.equal(run.code, 5, describeRun(run));
  const err = run.events.at(-1)!;
  assert.equal(err.event, 'error');
  assert.equal(err.code, 'TRAINER_ERR_INTERRUPTED');
  assert.equal(err.last, join(out, 'last.pt'));
  assert.ok(statSync(join(out, 'last.pt')).size > 0);
  assert.equal(existsSync(join(out, 'model.onnx')), false);
  assert.equal(eventsOf(run, 'done').length, 0);

  const resumed = await runTrainer(
    fastTrainArgs({ data: dataset, out, epochs: 1, flags: ['--resume', join(out, 'last.pt')] }),
  );
  assert.equal(resumed.code, 0, describeRun(resumed));
  const start = eventsOf(resumed, 'start')[0]!;
  assert.equal(start.mode, 'resume');
  assert.equal(start.start_epoch, 0);
  assert.ok(statSync(join(out, 'model.onnx')).size > 0);
});

test('SIGTERM to the whole process group, loader workers included, also exits 5 with last.pt', async () => {
  const out = tempDir(temps, 'ef-trainer-group-');
  const fast = FAST.map((v, i) => (FAST[i - 1] === '--workers' ? '2' : v));
  let sent = false;
  const run = await runTrainer(
    ['train', '--data', dataset, '--out', out, '--epochs', '50', ...fast],
    (e, kill) => {
      if (e.event === 'iter' && !sent) {
        sent = true;
        kill('SIGTERM');
      }
    },
    { processGroup: true },
  );
  assert.ok(sent, 'no iter event arrived');
  assert.equal(run.code, 5, describeRun(run));
  assert.equal(run.events.at(-1)!.code, 'TRAINER_ERR_INTERRUPTED');
  assert.ok(statSync(join(out, 'last.pt')).size > 0);
});

test('CONTRACT.md documents every error code with its exit code', () => {
  const r = spawnSync(
    PYTHON,
    ['-c', 'import json; from edgefleet_trainer.errors import CATALOGUE; print(json.dumps(CATALOGUE))'],
    {
      cwd: TRAINER_DIR,
      env: trainerEnv(),
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const catalogue = JSON.parse(r.stdout) as Record<string, [number, string]>;
  const contract = readFileSync(join(TRAINER_DIR, 'CONTRACT.md'), 'utf8');
  assert.ok(Object.keys(catalogue).length >= 10);
  for (const [code, [exit]] of Object.entries(catalogue)) {
    assert.match(
      contract,
      new RegExp(`\\| \`${code}\` \\| ${exit} \\|`),
      `${code} (exit ${exit}) missing from CONTRACT.md`,
    );
  }
});

/**
 * Runs `unittest discover` on `startDir` (relative to the trainer) and asserts that it passed and ran tests:
 * Python before 3.12 exits 0 when discovery finds nothing, so the summary line must report at least one.
 */
function assertPythonUnitTestsPass(startDir: string): void {
  const r = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', startDir, '-t', '.'], {
    cwd: TRAINER_DIR,
    env: trainerEnv(),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr.slice(-4000));
  const ran = /^Ran (\d+) tests? in /m.exec(r.stderr);
  assert.ok(ran, `no unittest summary on stderr: ${r.stderr.slice(-2000)}`);
  assert.ok(Number(ran[1]) > 0, `unittest discovered no tests in ${startDir}`);
}

test('Python unit tests (options, run steps, assigner, loss, metrics, data.yaml parser, augmentation) pass', () => {
  assertPythonUnitTestsPass('tests');
});
