/**
 * The seam between a detector and ONNX Runtime: one `session.run` on a prepared input tensor.
 *
 * onnxruntime-node's `session.run` is synchronous on the calling thread (the promise only defers it to
 * `setImmediate`), so a detector that runs on the event loop's thread blocks capture, decode, NMS and the
 * outbox for the whole inference. The worker-thread runner moves the run off that thread; callers that
 * keep more than one frame in flight then overlap that work with the next inference.
 */
import type { ModelSignature } from './adapters/tensor-layout.js';
import type { ExecutionProviderName } from './types.js';

/** Which thread runs ONNX Runtime: the caller's (event loop) or a worker thread of its own. */
export type InferenceThread = 'caller' | 'worker';

export const INFERENCE_THREADS: readonly InferenceThread[] = ['caller', 'worker'];

export interface RunRequest {
  readonly inputName: string;
  readonly outputName: string;
  /** NCHW float32 input; a worker runner takes it over until the run settles and returns it in `input`. */
  readonly input: Float32Array;
  readonly dims: readonly number[];
}

export interface RunResult {
  /** The request's input buffer, usable again (a worker runner hands it back). */
  readonly input: Float32Array;
  readonly output: { readonly type: string; readonly data: unknown; readonly dims: readonly number[] };
  /** Time inside `session.run`, measured on the thread that ran it. */
  readonly runMs: number;
}

export interface InferenceRunner {
  readonly provider: ExecutionProviderName;
  readonly sha256: string;
  readonly signature: ModelSignature;
  /** Runs in submission order on one session (replicas may finish out of order); rejects with the runtime's message on a failed run. */
  run(request: RunRequest): Promise<RunResult>;
  /** Hands back an output buffer of an earlier result the caller is done with, for reuse (optional). */
  recycleOutput?(data: Float32Array): void;
  /** Frees the session (and the thread) once the runs already submitted have settled. */
  release(): Promise<void>;
}
