import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { OnnxDetector } from '../src/onnx-detector.js';
import { setOnnxRuntimeLogLevel, type VisionLogger } from '../src/onnx-session.js';
import { MAX_AUTO_REPLICAS } from '../src/replicated-runner.js';
import type { RgbFrame } from '../src/types.js';
import { constantDetector, identityImageModel, runtimeFailingDetector } from './onnx-builder.js';
import { YOLOV8_MODEL, YOLOX_MODEL } from './shared-data.js';
import { tempDir } from '@edgefleet/service-kit/testing';

setOnnxRuntimeLogLevel('fatal');

const cpu = { providers: ['cpu'] } as const;

/** Seeded noise at the model's letterbox size for a 640x480 source: each seed gives other low-score boxes. */
function noiseFrame(detector: OnnxDetector, seed: number): RgbFrame {
  const g = detector.letterboxFor(640, 480);
  let s = seed;
  const data = new Uint8Array(g.width * g.height * 3).map(() => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s >> 23;
  });
  return {
    data,
    width: g.width,
    height: g.height,
    format: detector.info.pixelFormat,
    sourceWidth: 640,
    sourceHeight: 480,
  };
}

function greyFrame(size: number, value: number): RgbFrame {
  return {
    data: new Uint8Array(size * size * 3).fill(value),
    width: size,
    height: size,
    format: 'RGB',
    sourceWidth: size,
    sourceHeight: size,
  };
}

async function writeModel(t: Parameters<typeof tempDir>[0], bytes: Uint8Array, name = 'model.onnx'): Promise<string> {
  const path = join(await tempDir(t), name);
  await writeFile(path, bytes);
  return path;
}

describe('OnnxDetector with inference in worker threads', () => {
  for (const [name, model] of [
    ['yolov8', YOLOV8_MODEL],
    ['yolox', YOLOX_MODEL],
  ] as const) {
    it(`finds exactly what the caller-thread detector finds (${name}), frames in flight at once`, async (t) => {
      const caller = await OnnxDetector.load(model(), cpu);
      t.after(() => caller.close());
      const worker = await OnnxDetector.load(model(), { ...cpu, thread: 'worker' });
      t.after(() => worker.close());
      assert.deepEqual([worker.info.thread, worker.info.sessions, worker.info.provider], ['worker', 1, 'cpu']);
      assert.equal(worker.info.sha256, caller.info.sha256);
      assert.deepEqual(worker.info.classNames, caller.info.classNames);
      const frames = [1, 2, 3].map((seed) => noiseFrame(caller, seed));
      const expected = [];
      for (const f of frames) expected.push((await caller.detect(f, { conf: 0.001 })).detections);
      assert.notDeepEqual(expected[0], expected[1]);
      const got = await Promise.all(frames.map((f) => worker.detect(f, { conf: 0.001 })));
      assert.deepEqual(
        got.map((r) => r.detections),
        expected,
      );
      for (const { timings } of got) assert.ok(timings.inferMs > 0 && timings.preMs >= 0 && timings.postMs >= 0);
    });
  }

  it('spreads frames over replicated sessions and still returns each frame its own detections', async (t) => {
    const caller = await OnnxDetector.load(YOLOX_MODEL(), cpu);
    t.after(() => caller.close());
    const replicated = await OnnxDetector.load(YOLOX_MODEL(), { ...cpu, thread: 'worker', replicas: 2 });
    t.after(() => replicated.close());
    assert.equal(replicated.info.sessions, 2);
    const frames = [1, 2, 3, 4, 5].map((seed) => noiseFrame(caller, seed));
    const expected = [];
    for (const f of frames) expected.push((await caller.detect(f, { conf: 0.001 })).detections);
    const got = await Promise.all(frames.map((f) => replicated.detect(f, { conf: 0.001 })));
    assert.deepEqual(
      got.map((r) => r.detections),
      expected,
    );
  });

  it('replicas "auto" on the CPU: one session per core, at most MAX_AUTO_REPLICAS', async (t) => {
    const detector = await OnnxDetector.load(await writeModel(t, constantDetector()), {
      ...cpu,
      thread: 'worker',
      replicas: 'auto',
    });
    t.after(() => detector.close());
    assert.equal(detector.info.sessions, Math.min(MAX_AUTO_REPLICAS, availableParallelism()));
  });

  it('keeps the load error codes of the caller-thread path (missing, corrupt, not a detector), with replicas too', async (t) => {
    const dir = await tempDir(t);
    const corrupt = join(dir, 'corrupt.onnx');
    await writeFile(corrupt, Buffer.from('not an onnx model at all'));
    const identity = await writeModel(t, identityImageModel(), 'identity.onnx');
    for (const replicas of [1, 2]) {
      const o = { ...cpu, thread: 'worker', replicas } as const;
      await assert.rejects(OnnxDetector.load(join(dir, 'missing.onnx'), o), { code: 'VISION_ERR_MODEL_NOT_FOUND' });
      await assert.rejects(OnnxDetector.load(corrupt, o), { code: 'VISION_ERR_MODEL_CORRUPT' });
      await assert.rejects(OnnxDetector.load(identity, o), {
        code: 'VISION_ERR_MODEL_NOT_DETECTOR',
        message: /outputs: y float32\[1,3,64,64\]/,
      });
    }
  });

  it('forwards the worker thread’s provider fallback warnings to the caller’s logger', async (t) => {
    const warnings: string[] = [];
    const logger: VisionLogger = { warn: (msg) => warnings.push(msg) };
    const detector = await OnnxDetector.load(await writeModel(t, constantDetector()), {
      providers: ['cuda', 'cpu'],
      thread: 'worker',
      logger,
    });
    t.after(() => detector.close());
    assert.equal(detector.info.provider, 'cpu');
    assert.deepEqual(warnings, ["execution provider 'cuda' could not be used, falling back to 'cpu'"]);
  });

  it('reports a run that fails in the worker as VISION_ERR_INFERENCE and keeps serving the next frames', async (t) => {
    const detector = await OnnxDetector.load(await writeModel(t, runtimeFailingDetector()), {
      ...cpu,
      thread: 'worker',
    });
    t.after(() => detector.close());
    const size = detector.info.inputWidth;
    await assert.rejects(detector.detect(greyFrame(size, 250)), {
      code: 'VISION_ERR_INFERENCE',
      message: /out of data bounds|indices/,
    });
    assert.equal((await detector.detect(greyFrame(size, 128))).detections.length, 1);
  });

  it('lets runs in flight finish on close(), then refuses to detect', async (t) => {
    const detector = await OnnxDetector.load(YOLOV8_MODEL(), { ...cpu, thread: 'worker' });
    const running = [1, 2].map((seed) => detector.detect(noiseFrame(detector, seed)));
    await detector.close();
    assert.equal((await Promise.all(running)).length, 2);
    await assert.rejects(detector.detect(noiseFrame(detector, 3)), { code: 'VISION_ERR_CLOSED' });
    await detector.close(); // idempotent
    t.diagnostic('closed with runs in flight');
  });

  it('rejects replicas without worker threads, and bad counts or thread names', async (t) => {
    const path = await writeModel(t, constantDetector());
    await assert.rejects(OnnxDetector.load(path, { ...cpu, replicas: 2 }), {
      code: 'VISION_ERR_BAD_OPTION',
      message: /replicas need thread 'worker'/,
    });
    await assert.rejects(OnnxDetector.load(path, { ...cpu, thread: 'worker', replicas: 0 }), {
      code: 'VISION_ERR_BAD_OPTION',
    });
    await assert.rejects(OnnxDetector.load(path, { ...cpu, thread: 'gpu' as never }), {
      code: 'VISION_ERR_BAD_OPTION',
    });
  });

  it('does not keep a process alive when a worker-thread detector is never closed', async (t) => {
    const path = await writeModel(t, constantDetector());
    const module = fileURLToPath(new URL('../src/onnx-detector.js', import.meta.url));
    const script = `const { OnnxDetector } = await import(${JSON.stringify(module)});
const d = await OnnxDetector.load(${JSON.stringify(path)}, { providers: ['cpu'], thread: 'worker' });
await d.detect({ data: new Uint8Array(64 * 64 * 3).fill(90), width: 64, height: 64, format: 'RGB', sourceWidth: 64, sourceHeight: 64 });
console.log('detected');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    clearTimeout(timer);
    assert.equal(out.trim(), 'detected');
    assert.equal(code, 0, 'the process exited by itself');
  });
});
