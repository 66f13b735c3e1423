/**
 * Several worker-thread sessions of one model behind one runner: each run goes to the replica with the
 * fewest runs in flight. On a CPU, single-threaded sessions side by side use the cores far better than
 * one session splitting each run across them (ONNX Runtime's intra-op threads wait on each other at
 * every layer): measured 1.3-1.4× the frames/s of one two-threaded session on 2 cores with YOLOv8n.
 * Each run takes longer that way, so it pays when frames are kept in flight (as the edge agent does).
 */
import { availableParallelism } from 'node:os';
import type { ModelSignature } from './adapters/tensor-layout.js';
import { VisionError } from './errors.js';
import type { InferenceRunner, RunRequest, RunResult } from './inference-runner.js';
import type { OnnxSessionOptions } from './onnx-session.js';
import type { ExecutionProviderName } from './types.js';
import { WorkerThreadRunner } from './worker-thread-runner.js';

/** `auto` is at most this many sessions, one per core. */
export const MAX_AUTO_REPLICAS = 4;

/**
 * Sessions of one model: a count, or `auto` (one single-threaded session per core, at most
 * MAX_AUTO_REPLICAS, when the model ends up on the CPU; one session on a GPU provider).
 */
export type ReplicaCount = number | 'auto';

export class ReplicatedRunner implements InferenceRunner {
  private readonly inFlight: number[];

  private constructor(private readonly replicas: readonly WorkerThreadRunner[]) {
    this.inFlight = replicas.map(() => 0);
  }

  /** Loads the replicas in worker threads; a single one is returned as is. */
  static async load(path: string, options: OnnxSessionOptions, count: ReplicaCount): Promise<InferenceRunner> {
    if (count !== 'auto' && (!Number.isInteger(count) || count < 1)) {
      throw new VisionError(
        'VISION_ERR_BAD_OPTION',
        `replicas must be a positive integer or 'auto', got ${String(count)}`,
      );
    }
    // More than one session: each gets one intra-op thread unless told otherwise (the sessions are the parallelism).
    const single = count === 'auto' || count > 1;
    const each: OnnxSessionOptions =
      single && options.intraOpNumThreads === undefined ? { ...options, intraOpNumThreads: 1 } : options;
    const first = await WorkerThreadRunner.load(path, each);
    const total =
      count === 'auto' ? (first.provider === 'cpu' ? Math.min(MAX_AUTO_REPLICAS, availableParallelism()) : 1) : count;
    if (total === 1) return first;
    const rest = await Promise.allSettled(
      Array.from({ length: total - 1 }, () => WorkerThreadRunner.load(path, { ...each, providers: [first.provider] })),
    );
    const loaded = rest.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all([first, ...loaded].map((r) => r.release()));
      throw failed.reason;
    }
    return new ReplicatedRunner([first, ...loaded]);
  }

  get provider(): ExecutionProviderName {
    return this.replicas[0]!.provider;
  }

  get sha256(): string {
    return this.replicas[0]!.sha256;
  }

  get signature(): ModelSignature {
    return this.replicas[0]!.signature;
  }

  /** Sessions serving this model. */
  get size(): number {
    return this.replicas.length;
  }

  async run(request: RunRequest): Promise<RunResult> {
    let best = 0;
    for (let i = 1; i < this.replicas.length; i++) if (this.inFlight[i]! < this.inFlight[best]!) best = i;
    this.inFlight[best]!++;
    try {
      return await this.replicas[best]!.run(request);
    } finally {
      this.inFlight[best]!--;
    }
  }

  recycleOutput(data: Float32Array): void {
    // Any replica can reuse it: the one that will run next takes it.
    let best = 0;
    for (let i = 1; i < this.replicas.length; i++) if (this.inFlight[i]! < this.inFlight[best]!) best = i;
    this.replicas[best]!.recycleOutput(data);
  }

  async release(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.release()));
  }
}
