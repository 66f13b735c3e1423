/**
 * Edge agent benchmark (`npm run bench:edge`). Prints progress on stderr and, as its last line,
 * one JSON object with the figures. Every ratio compares against a baseline measured in this run.
 *
 * 1. Throughput: frames/s of the real agent on one image-sequence camera (GStreamer decode + scale,
 *    pre-processing, ONNX Runtime CPU, decode + NMS, one outbox transaction per frame) divided by
 *    frames/s of a bare `session.run` loop on an already prepared tensor, same model (the issue's
 *    ratio). The agent runs its defaults: inference in worker threads, one single-threaded session per
 *    core. A second baseline runs bare loops in that same layout (one single-threaded session per
 *    worker thread, all at once), so `ratioSameLayout` is the agent's own overhead alone. Rounds are
 *    interleaved (bare, bare same layout, agent, …) so machine noise hits every side alike.
 * 2. Pre/post-processing ms per frame, from the detector's own timings on a GStreamer-scaled frame.
 * 3. Peak RSS of the `edge-agent run` process with two cameras.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { OnnxDetector } from '@edgefleet/vision';
import { MAX_AUTO_REPLICAS, createOnnxSession, writeLetterboxTensor } from '@edgefleet/vision/testing';
import { Agent, loadConfig } from '@edgefleet/edge-agent';
import { decodeStillImage } from '@edgefleet/edge-agent/testing';
import { timeImageStatistics } from './image-stats-cost.js';
import { mean, median, percentile, progress, repoRoot, requireShared, round } from './bench-util.js';
import { silentLogger } from '@edgefleet/service-kit';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FRAMES = Number(process.env.BENCH_FRAMES ?? 40);
const WARMUP = 5;

const modelPath = requireShared('models/yolov8n_int8.onnx');
const imagePath = requireShared('images/dog.jpg');
const work = mkdtempSync(join(tmpdir(), 'edge-bench-'));

function makeSequence(dir: string, count: number): void {
  for (let i = 0; i < count; i++) symlinkSync(imagePath, join(dir, `img-${String(i).padStart(4, '0')}.jpg`));
}

async function bareFps(session: ort.InferenceSession, tensor: ort.Tensor): Promise<number> {
  const feeds = { [session.inputNames[0]!]: tensor };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  const t0 = performance.now();
  for (let i = 0; i < FRAMES; i++) await session.run(feeds);
  return (FRAMES * 1000) / (performance.now() - t0);
}

/** Bare loops on `sessions` single-threaded sessions in worker threads at once: frames/s of them all. */
async function bareSameLayoutFps(input: Float32Array, sessions: number): Promise<number> {
  const runs = Math.ceil(FRAMES / sessions);
  const workers = Array.from(
    { length: sessions },
    () => new Worker(new URL('./bare-run-worker.js', import.meta.url), { workerData: { modelPath, input, runs } }),
  );
  const next = (w: Worker) =>
    new Promise<{ type: string; ms: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  await Promise.all(workers.map(next));
  const t0 = performance.now();
  const done = workers.map(next);
  for (const w of workers) w.postMessage('go');
  await Promise.all(done);
  const fps = (runs * sessions * 1000) / (performance.now() - t0);
  await Promise.all(workers.map((w) => w.terminate()));
  return fps;
}

function writeConfig(name: string, cameras: unknown[]): string {
  const path = join(work, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      deviceId: 'bench',
      dataDir: join(work, `${name}-data`),
      model: { path: modelPath, providers: ['cpu'] },
      cameras,
      metrics: { enabled: false },
      log: { level: 'warn' },
    }),
  );
  return path;
}

async function agentFps(seqDir: string, round: number): Promise<number> {
  const config = loadConfig(
    writeConfig(`agent-${round}`, [{ id: 'cam1', uri: `dir://${seqDir}`, loop: true, realtime: false }]),
    {},
  );
  const stamps: number[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const agent = new Agent({
    config,
    logger: silentLogger,
    onDetections: () => {
      stamps.push(performance.now());
      if (stamps.length === WARMUP + FRAMES + 1) resolveDone();
    },
  });
  await agent.start();
  await done;
  await agent.stop();
  const window = stamps.slice(WARMUP);
  return (FRAMES * 1000) / (window[window.length - 1]! - window[0]!);
}

async function prePost(): Promise<{ pre: number[]; post: number[]; infer: number[]; imageStats: number[] }> {
  const detector = await OnnxDetector.load(modelPath, { providers: ['cpu'] });
  const frame = await decodeStillImage(imagePath, {
    fit: (w, h) => detector.letterboxFor(w, h),
    format: detector.info.pixelFormat,
  });
  const pre: number[] = [];
  const post: number[] = [];
  const infer: number[] = [];
  for (let i = 0; i < WARMUP + FRAMES; i++) {
    const { timings } = await detector.detect(frame, { conf: 0.25, iou: 0.45 });
    if (i < WARMUP) continue;
    pre.push(timings.preMs);
    post.push(timings.postMs);
    infer.push(timings.inferMs);
  }
  await detector.close();
  // On the frame the detector was just timed on, as the camera worker holds it before detection.
  const imageStats = timeImageStatistics(frame, WARMUP + FRAMES).slice(WARMUP);
  return { pre, post, infer, imageStats };
}

function vmHwmMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function peakRssTwoCameras(
  seqDir: string,
): Promise<{ peakRssMb: number; frames: number; exitCode: number | null }> {
  const config = writeConfig('two-cameras', [
    { id: 'seq', uri: `dir://${seqDir}`, loop: true, realtime: false },
    { id: 'pattern', uri: 'testsrc://?pattern=ball&width=1280&height=720&fps=15' },
  ]);
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'edge-agent/bin/edge-agent.js'), 'run', '--config', config, '--print-detections'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let frames = 0;
  child.stdout.on('data', (b: Buffer) => (frames += b.toString().split('\n').length - 1));
  let peak = 0;
  const seconds = Number(process.env.BENCH_RSS_SECONDS ?? 15);
  for (let s = 0; s < seconds * 4; s++) {
    await new Promise((r) => setTimeout(r, 250));
    try {
      peak = Math.max(peak, vmHwmMb(child.pid!));
    } catch {
      break; // exited early: the exit code below says why
    }
  }
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return { peakRssMb: peak, frames, exitCode: await exit };
}

async function main(): Promise<void> {
  const seqDir = join(work, 'seq');
  (await import('node:fs')).mkdirSync(seqDir);
  makeSequence(seqDir, 50);

  // Same session options as the agent's detector, so the ratio isolates the agent's own overhead.
  const { session } = await createOnnxSession(modelPath, { providers: ['cpu'] });
  // The bare loop runs on the same picture the agent sees, prepared once up front (activations, and so
  // the speed of some kernels, depend on the input values).
  const detector = await OnnxDetector.load(modelPath, { providers: ['cpu'] });
  const frame = await decodeStillImage(imagePath, {
    fit: (w, h) => detector.letterboxFor(w, h),
    format: detector.info.pixelFormat,
  });
  const data = new Float32Array(3 * 640 * 640);
  writeLetterboxTensor(
    frame,
    detector.letterboxFor(frame.sourceWidth, frame.sourceHeight),
    { pixelFormat: 'RGB', valueScale: 1 / 255, padValue: 114 },
    data,
  );
  await detector.close();
  const tensor = new ort.Tensor('float32', data, [1, 3, 640, 640]);

  // The agent's `sessions: auto` on the CPU.
  const sessions = Math.min(MAX_AUTO_REPLICAS, availableParallelism());
  const bare: number[] = [];
  const sameLayout: number[] = [];
  const agent: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    bare.push(await bareFps(session, tensor));
    progress(`round ${r + 1}/${ROUNDS}: bare session.run ${bare[r]!.toFixed(2)} fps`);
    sameLayout.push(await bareSameLayoutFps(data, sessions));
    progress(
      `round ${r + 1}/${ROUNDS}: bare, ${sessions} single-threaded sessions at once ${sameLayout[r]!.toFixed(2)} fps`,
    );
    agent.push(await agentFps(seqDir, r));
    progress(`round ${r + 1}/${ROUNDS}: agent ${agent[r]!.toFixed(2)} fps`);
  }
  await session.release();

  progress('pre/post-processing timings');
  const t = await prePost();
  progress('peak RSS with two cameras');
  const rss = await peakRssTwoCameras(seqDir);

  const ratios = agent.map((a, i) => a / bare[i]!);
  const sameLayoutRatios = agent.map((a, i) => a / sameLayout[i]!);
  const preMs = median(t.pre);
  const postMs = median(t.post);
  const inferMs = median(t.infer);
  const result = {
    bench: 'edge',
    model: 'yolov8n_int8.onnx',
    provider: 'cpu',
    bareFps: round(median(bare), 2),
    agentFps: round(median(agent), 2),
    ratio: round(median(ratios), 3),
    ratioTarget: 0.9,
    agentSessions: sessions,
    bareSameLayoutFps: round(median(sameLayout), 2),
    ratioSameLayout: round(median(sameLayoutRatios), 3),
    preMsMedian: round(preMs),
    postMsMedian: round(postMs),
    postMsP95: round(percentile(t.post, 95)),
    postTargetMs: 1.5,
    inferMsMedian: round(inferMs, 2),
    prePostPctOfInfer: round((100 * (preMs + postMs)) / inferMs, 2),
    prePostTargetPct: 10,
    preMsMean: round(mean(t.pre)),
    imageStatsMsMedian: round(median(t.imageStats)),
    imageStatsPctOfInfer: round((100 * median(t.imageStats)) / inferMs, 2),
    imageStatsTargetPct: 2,
    twoCameraPeakRssMb: round(rss.peakRssMb, 1),
    twoCameraFrames: rss.frames,
    twoCameraExitCode: rss.exitCode,
  };
  rmSync(work, { recursive: true, force: true });
  console.log(JSON.stringify(result));
}

await main();
