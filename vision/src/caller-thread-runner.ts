/**
 * Runs ONNX Runtime on the caller's thread: no start-up cost, no copies; right for one-shot work
 * (the `detect` CLI, model validation, evaluation loops that wait on every result anyway).
 */
import { performance } from 'node:perf_hooks';
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import { signatureOf, type ModelSignature } from './adapters/tensor-layout.js';
import type { InferenceRunner, RunRequest, RunResult } from './inference-runner.js';
import { readOnnxMetadata } from './onnx-metadata.js';
import { createOnnxSession, type OnnxSessionOptions } from './onnx-session.js';
import type { ExecutionProviderName } from './types.js';

export class CallerThreadRunner implements InferenceRunner {
  private constructor(
    private readonly session: InferenceSession,
    readonly provider: ExecutionProviderName,
    readonly sha256: string,
    readonly signature: ModelSignature,
  ) {}

  static async load(path: string, options: OnnxSessionOptions): Promise<CallerThreadRunner> {
    const loaded = await createOnnxSession(path, options);
    try {
      const signature = signatureOf(loaded.session, readOnnxMetadata(loaded.bytes));
      return new CallerThreadRunner(loaded.session, loaded.provider, loaded.sha256, signature);
    } catch (err) {
      await loaded.session.release();
      throw err;
    }
  }

  async run(request: RunRequest): Promise<RunResult> {
    const tensor = new Tensor('float32', request.input, [...request.dims]);
    const t0 = performance.now();
    const outputs = await this.session.run({ [request.inputName]: tensor }, [request.outputName]);
    const runMs = performance.now() - t0;
    const output = outputs[request.outputName];
    if (!(output instanceof Tensor))
      return { input: request.input, output: { type: 'non-tensor', data: null, dims: [] }, runMs };
    return { input: request.input, output: { type: output.type, data: output.data, dims: output.dims }, runMs };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
