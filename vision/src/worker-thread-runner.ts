/**
 * Runs ONNX Runtime in a worker thread of its own, so a long `session.run` no longer holds the event
 * loop: capture, decode + NMS of the previous frame and the outbox proceed while the model runs.
 * Requests queue in the worker and run one at a time in submission order. The worker is unref'd while
 * idle, so a detector nobody closed does not keep a process alive.
 */
import { Worker } from 'node:worker_threads';
import { env } from 'onnxruntime-node';
import type { ModelSignature } from './adapters/tensor-layout.js';
import { VISION_ERRORS, VisionError, type VisionErrorCode } from './errors.js';
import type { InferenceRunner, RunRequest, RunResult } from './inference-runner.js';
import type { FromWorker, ToWorker, WireError, WorkerStart } from './inference-worker-protocol.js';
import { consoleWarnLogger, type OnnxSessionOptions, type VisionLogger } from './onnx-session.js';
import type { ExecutionProviderName } from './types.js';

const WORKER_URL = new URL('./inference-worker.js', import.meta.url);
const RELEASE_TIMEOUT_MS = 10_000;

function fromWire(e: WireError): Error {
  if (e.code !== undefined && e.code in VISION_ERRORS) return new VisionError(e.code as VisionErrorCode, e.detail);
  return new Error(e.message);
}

interface Pending {
  readonly resolve: (r: RunResult) => void;
  readonly reject: (err: Error) => void;
}

export class WorkerThreadRunner implements InferenceRunner {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** Set once the worker is gone (crashed, exited or released): every later run fails with it. */
  private gone: Error | null = null;
  private releasing: Promise<void> | null = null;
  /** The last output buffer the caller finished with, handed back to the worker with the next request. */
  private recycle: Float32Array | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly logger: VisionLogger,
    readonly provider: ExecutionProviderName,
    readonly sha256: string,
    readonly signature: ModelSignature,
  ) {
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => this.fail(new VisionError('VISION_ERR_WORKER', err.message, { cause: err })));
    worker.on('exit', (code) =>
      this.fail(new VisionError('VISION_ERR_WORKER', `inference thread exited (code ${code})`)),
    );
    worker.unref();
  }

  static load(path: string, options: OnnxSessionOptions): Promise<WorkerThreadRunner> {
    const { logger = consoleWarnLogger, ...rest } = options;
    const start: WorkerStart = { path, options: rest, logLevel: env.logLevel };
    // A worker inherits the process's Node options; `--input-type` (a `node -e` script) would make it refuse its own entry file.
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
    const worker = new Worker(WORKER_URL, { workerData: start, execArgv });
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (m: FromWorker): void => {
        if (m.type === 'warn') {
          logger.warn(m.msg, m.fields);
        } else if (m.type === 'loaded') {
          settle();
          resolve(new WorkerThreadRunner(worker, logger, m.provider, m.sha256, m.signature));
        } else if (m.type === 'load-failed') {
          settle();
          void worker.terminate();
          reject(fromWire(m.error));
        }
      };
      const onError = (err: Error): void => {
        settle();
        void worker.terminate();
        reject(new VisionError('VISION_ERR_WORKER', `${path}: ${err.message}`, { cause: err }));
      };
      const onExit = (code: number): void => {
        settle();
        reject(new VisionError('VISION_ERR_WORKER', `${path}: inference thread exited (code ${code}) while loading`));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  run(request: RunRequest): Promise<RunResult> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.nextId++;
    const recycle = this.recycle;
    this.recycle = null;
    const message: ToWorker = {
      type: 'run',
      id,
      inputName: request.inputName,
      outputName: request.outputName,
      input: request.input,
      dims: request.dims,
      recycle,
    };
    const transfer = [request.input.buffer as ArrayBuffer];
    if (recycle) transfer.push(recycle.buffer as ArrayBuffer);
    return new Promise<RunResult>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(message, transfer);
    });
  }

  /** Hands an output buffer from an earlier result back for reuse (optional; saves an allocation per run). */
  recycleOutput(data: Float32Array): void {
    this.recycle = data;
  }

  release(): Promise<void> {
    this.releasing ??= new Promise<void>((resolve) => {
      if (this.gone) return resolve();
      const timer = setTimeout(() => void this.worker.terminate(), RELEASE_TIMEOUT_MS);
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.worker.ref();
      this.worker.postMessage({ type: 'release' } satisfies ToWorker);
    });
    return this.releasing;
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'warn':
        this.logger.warn(m.msg, m.fields);
        return;
      case 'ran':
      case 'run-failed': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (this.pending.size === 0) this.worker.unref();
        if (m.type === 'ran') p.resolve({ input: m.input, output: m.output, runMs: m.runMs });
        else p.reject(fromWire(m.error));
        return;
      }
      case 'released':
        this.gone = new VisionError('VISION_ERR_CLOSED', 'inference thread released');
        return;
      default:
        return;
    }
  }

  private fail(err: Error): void {
    this.gone ??= err;
    for (const p of this.pending.values()) p.reject(this.gone);
    this.pending.clear();
  }
}
