/**
 * Trainer and evaluator benchmark (`npm run bench:train`). Last line: one JSON object.
 *
 * 1. Training images/s of the PyTorch trainer on this machine's CPU (one epoch on a generated day
 *    dataset, the trainer's own per-epoch figure). CUDA speed is measured on a lent GPU machine with
 *    `BENCH_TRAIN_DEVICE=cuda` (see README) and compared with this CPU figure.
 * 2. Evaluation images/s (`evaluateModel`: PNG decode, letterbox, inference, decode+NMS, matching)
 *    divided by bare `session.run` images/s on the same images, prepared up front, in the same run.
 */
import { mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as ort from 'onnxruntime-node';
import { OnnxDetector } from '@edgefleet/vision';
import { createOnnxSession, writeLetterboxTensor } from '@edgefleet/vision/testing';
import { generateDataset } from '@edgefleet/scenes';
import { evaluateModel } from '@edgefleet/control-plane';
import { loadImage } from '@edgefleet/control-plane/testing';
import { progress, repoRoot, round } from './bench-util.js';

const IMGSZ = Number(process.env.BENCH_TRAIN_IMGSZ ?? 320);
const COUNT = Number(process.env.BENCH_TRAIN_COUNT ?? 200);
const DEVICE = process.env.BENCH_TRAIN_DEVICE ?? 'cpu';
const work = mkdtempSync(join(tmpdir(), 'train-bench-'));

async function trainOneEpoch(data: string, out: string): Promise<{ imgsPerS: number; device: string }> {
  const child = spawn(
    process.env.TRAINER_PYTHON ?? '/usr/bin/python3',
    [
      '-m',
      'edgefleet_trainer',
      'train',
      '--data',
      data,
      '--out',
      out,
      '--epochs',
      '1',
      '--batch',
      '16',
      '--imgsz',
      String(IMGSZ),
      '--device',
      DEVICE,
      '--val-every',
      '1',
      '--seed',
      '1',
    ],
    {
      env: { ...process.env, PYTHONPATH: join(repoRoot, 'control-plane', 'trainer'), PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let imgsPerS = NaN;
  let device = DEVICE;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const ev = JSON.parse(line) as { event: string; imgs_per_s?: number; device?: string };
    if (ev.event === 'start' && ev.device) device = ev.device;
    if (ev.event === 'epoch' && ev.imgs_per_s) imgsPerS = ev.imgs_per_s;
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`trainer exited with ${code}`);
  return { imgsPerS, device };
}

async function bareImagesPerSecond(model: string, images: string[]): Promise<number> {
  const detector = await OnnxDetector.load(model, { providers: ['cpu'] });
  const { inputWidth: w, inputHeight: h, pixelFormat } = detector.info;
  const tensors = images.map((path) => {
    const img = loadImage(path);
    const frame = {
      data: img.data,
      width: img.width,
      height: img.height,
      format: 'RGB' as const,
      sourceWidth: img.width,
      sourceHeight: img.height,
    };
    const data = new Float32Array(3 * w * h);
    writeLetterboxTensor(
      frame,
      detector.letterboxFor(img.width, img.height),
      { pixelFormat, valueScale: 1 / 255, padValue: 114 },
      data,
    );
    return new ort.Tensor('float32', data, [1, 3, h, w]);
  });
  await detector.close();
  const { session } = await createOnnxSession(model, { providers: ['cpu'] });
  const name = session.inputNames[0]!;
  for (const t of tensors.slice(0, 3)) await session.run({ [name]: t });
  const t0 = performance.now();
  for (const t of tensors) await session.run({ [name]: t });
  const ips = (tensors.length * 1000) / (performance.now() - t0);
  await session.release();
  return ips;
}

async function main(): Promise<void> {
  const data = join(work, 'day');
  progress(`generating ${COUNT} day scenes at ${IMGSZ}px`);
  await generateDataset({
    domain: 'day',
    count: COUNT,
    seed: 5,
    outDir: data,
    width: IMGSZ,
    height: IMGSZ,
    split: [0.6, 0.1, 0.3],
  });
  progress(`training one epoch on ${DEVICE}`);
  const train = await trainOneEpoch(data, join(work, 'run'));
  progress(`train: ${train.imgsPerS.toFixed(1)} img/s on ${train.device}`);

  const base = join(repoRoot, 'models', 'base', 'edgefleet-base.onnx');
  const model = existsSync(base) ? base : join(work, 'run', 'model.onnx');
  const testDir = join(data, 'images', 'test');
  const images = readdirSync(testDir)
    .sort()
    .map((f) => join(testDir, f));
  const evalRates: number[] = [];
  const bareRates: number[] = [];
  for (let r = 0; r < 3; r++) {
    const result = await evaluateModel({ model, data, split: 'test', providers: ['cpu'] });
    evalRates.push(result.imagesPerSecond);
    bareRates.push(await bareImagesPerSecond(model, images));
    progress(
      `round ${r + 1}: eval ${evalRates[r]!.toFixed(1)} img/s, bare inference ${bareRates[r]!.toFixed(1)} img/s`,
    );
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  rmSync(work, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      bench: 'train',
      trainDevice: train.device,
      trainImagesPerSecond: round(train.imgsPerS, 2),
      trainImgsz: IMGSZ,
      evalModel: model === base ? 'models/base/edgefleet-base.onnx' : 'one-epoch model',
      evalImages: images.length,
      evalImagesPerSecond: round(med(evalRates), 2),
      bareInferenceImagesPerSecond: round(med(bareRates), 2),
      evalToBareRatio: round(med(evalRates) / med(bareRates), 3),
    }),
  );
}

await main();
