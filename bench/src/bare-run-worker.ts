/**
 * One bare ONNX Runtime session in a worker thread, for the edge benchmark's same-layout baseline: loads
 * the model as the agent's replicated sessions do (one intra-op thread), says `ready`, and on `go` runs
 * `runs` inferences back to back on the prepared tensor it was given, then reports how long they took.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { createOnnxSession } from '@edgefleet/vision/testing';

interface Start {
  readonly modelPath: string;
  readonly input: Float32Array;
  readonly runs: number;
}

const port = parentPort!;
const start = workerData as Start;
const { session } = await createOnnxSession(start.modelPath, { providers: ['cpu'], intraOpNumThreads: 1 });
const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', start.input, [1, 3, 640, 640]) };
for (let i = 0; i < 3; i++) await session.run(feeds);
port.postMessage({ type: 'ready' });
port.once('message', async () => {
  const t0 = performance.now();
  for (let i = 0; i < start.runs; i++) await session.run(feeds);
  const ms = performance.now() - t0;
  await session.release();
  port.postMessage({ type: 'done', ms });
});
