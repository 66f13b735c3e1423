/**
 * Messages between a WorkerThreadRunner and its inference worker thread. Buffers travel as transfers
 * (moved, not copied): the input goes to the worker and comes back with the result; the output is
 * written by ONNX Runtime into a buffer the worker owns, moved to the caller, and handed back with a
 * later request for reuse.
 */
import type { ModelSignature } from './adapters/tensor-layout.js';
import type { OnnxSessionOptions } from './onnx-session.js';
import type { ExecutionProviderName } from './types.js';

/** What the worker is started with (`workerData`). */
export interface WorkerStart {
  readonly path: string;
  readonly options: Omit<OnnxSessionOptions, 'logger'>;
  /** ONNX Runtime's native log level in the caller's thread, applied in the worker too. */
  readonly logLevel: string | undefined;
}

/** A failure as it crosses the thread boundary; VisionErrors keep their code. */
export interface WireError {
  readonly message: string;
  readonly code?: string;
  readonly detail?: string;
}

export type ToWorker =
  | {
      readonly type: 'run';
      readonly id: number;
      readonly inputName: string;
      readonly outputName: string;
      readonly input: Float32Array;
      readonly dims: readonly number[];
      /** An output buffer the caller is done with. */
      readonly recycle: Float32Array | null;
    }
  | { readonly type: 'release' };

export type FromWorker =
  | {
      readonly type: 'loaded';
      readonly provider: ExecutionProviderName;
      readonly sha256: string;
      readonly signature: ModelSignature;
    }
  | { readonly type: 'load-failed'; readonly error: WireError }
  | { readonly type: 'warn'; readonly msg: string; readonly fields: Record<string, unknown> | undefined }
  | {
      readonly type: 'ran';
      readonly id: number;
      readonly input: Float32Array;
      readonly output: { readonly type: string; readonly data: unknown; readonly dims: readonly number[] };
      readonly runMs: number;
    }
  | { readonly type: 'run-failed'; readonly id: number; readonly input: Float32Array; readonly error: WireError }
  | { readonly type: 'released' };
