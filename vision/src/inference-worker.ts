/**
 * Entry point of an inference worker thread (see WorkerThreadRunner): loads one ONNX Runtime session,
 * then runs requests one at a time in arrival order until told to release.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { env, Tensor, type InferenceSession } from 'onnxruntime-node';
import { signatureOf } from './adapters/tensor-layout.js';
import { VisionError } from './errors.js';
import type { FromWorker, ToWorker, WireError, WorkerStart } from './inference-worker-protocol.js';
import { readOnnxMetadata } from './onnx-metadata.js';
import { createOnnxSession, type OnnxRuntimeLogLevel } from './onnx-session.js';

if (!parentPort) throw new Error('inference-worker runs only as a worker thread');
const port = parentPort;
const start = workerData as WorkerStart;

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function toWire(err: unknown): WireError {
  if (err instanceof VisionError)
    return { message: err.message, code: err.code, ...(err.detail === undefined ? {} : { detail: err.detail }) };
  return { message: err instanceof Error ? err.message : String(err) };
}

/** Output buffers the caller handed back, reused when ONNX Runtime is given a pre-allocated output. */
const spareOutputs: Float32Array[] = [];

function outputBuffer(length: number): Float32Array {
  const i = spareOutputs.findIndex((b) => b.length === length);
  return i >= 0 ? spareOutputs.splice(i, 1)[0]! : new Float32Array(length);
}

async function runOne(
  session: InferenceSession,
  staticOutputDims: Map<string, number[]>,
  m: Extract<ToWorker, { type: 'run' }>,
): Promise<void> {
  if (m.recycle && spareOutputs.length < 4) spareOutputs.push(m.recycle);
  const dims = staticOutputDims.get(m.outputName);
  // ONNX Runtime writes straight into a buffer this thread's JavaScript owns, so it can be moved to the
  // caller; a runtime-allocated output is copied instead (its memory may belong to the native side).
  const preallocated = dims ? new Tensor('float32', outputBuffer(dims.reduce((a, b) => a * b, 1)), dims) : null;
  try {
    const t0 = performance.now();
    const outputs = await session.run(
      { [m.inputName]: new Tensor('float32', m.input, [...m.dims]) },
      preallocated ? { [m.outputName]: preallocated } : [m.outputName],
    );
    const runMs = performance.now() - t0;
    const out = outputs[m.outputName];
    if (!(out instanceof Tensor)) {
      send({ type: 'ran', id: m.id, input: m.input, output: { type: 'non-tensor', data: null, dims: [] }, runMs }, [
        m.input.buffer as ArrayBuffer,
      ]);
      return;
    }
    const data = preallocated
      ? (preallocated.data as Float32Array)
      : ArrayBuffer.isView(out.data)
        ? (out.data as Float32Array).slice()
        : out.data;
    const transfer = [m.input.buffer as ArrayBuffer];
    if (ArrayBuffer.isView(data)) transfer.push(data.buffer as ArrayBuffer);
    send({ type: 'ran', id: m.id, input: m.input, output: { type: out.type, data, dims: out.dims }, runMs }, transfer);
  } catch (err) {
    if (preallocated) spareOutputs.push(preallocated.data as Float32Array);
    send({ type: 'run-failed', id: m.id, input: m.input, error: toWire(err) }, [m.input.buffer as ArrayBuffer]);
  }
}

async function main(): Promise<void> {
  if (start.logLevel !== undefined) env.logLevel = start.logLevel as OnnxRuntimeLogLevel;
  let session: InferenceSession;
  const staticOutputDims = new Map<string, number[]>();
  try {
    const loaded = await createOnnxSession(start.path, {
      ...start.options,
      logger: { warn: (msg, fields) => send({ type: 'warn', msg, fields }) },
    });
    session = loaded.session;
    try {
      const signature = signatureOf(session, readOnnxMetadata(loaded.bytes));
      for (const o of signature.outputs) {
        if (o.type === 'float32' && o.dims.length > 0 && o.dims.every((d) => d !== null))
          staticOutputDims.set(o.name, o.dims as number[]);
      }
      send({ type: 'loaded', provider: loaded.provider, sha256: loaded.sha256, signature });
    } catch (err) {
      await session.release();
      throw err;
    }
  } catch (err) {
    send({ type: 'load-failed', error: toWire(err) });
    port.close();
    return;
  }

  // One run at a time, in arrival order; a release waits for the runs queued before it.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (m: ToWorker) => {
    if (m.type === 'run') {
      queue = queue.then(() => runOne(session, staticOutputDims, m));
      return;
    }
    queue = queue.then(async () => {
      await session.release();
      send({ type: 'released' });
      port.close();
    });
  });
}

await main();
