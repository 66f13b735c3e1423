/**
 * Detector backed by ONNX Runtime: letterbox → session.run → adapter decode → class-wise NMS →
 * boxes mapped back to source pixels.
 */
import { performance } from 'node:perf_hooks';
import type { DetectorAdapter } from './adapters/detector-adapter.js';
import { ADAPTER_NAMES, selectAdapter } from './adapters/select-adapter.js';
import { CallerThreadRunner } from './caller-thread-runner.js';
import { resolveDetectOptions } from './detect-options.js';
import { VisionError } from './errors.js';
import { INFERENCE_THREADS, type InferenceRunner, type InferenceThread } from './inference-runner.js';
import {
  checkFrame,
  computeLetterbox,
  writeLetterboxTensor,
  type LetterboxAlign,
  type LetterboxGeometry,
} from './letterbox.js';
import { nmsClasswise } from './nms.js';
import { ReplicatedRunner, type ReplicaCount } from './replicated-runner.js';
import type { OnnxSessionOptions } from './onnx-session.js';
import type { Box, DetectOptions, DetectResult, Detection, Detector, ModelInfo, RgbFrame } from './types.js';

export interface OnnxDetectorOptions extends OnnxSessionOptions {
  /**
   * Adapter name instead of automatic choice from the model's shapes and metadata.
   * @example 'yolox'
   */
  readonly adapter?: string;
  /**
   * Where the picture sits inside the model input. Default: the adapter's own (`center` for
   * Ultralytics exports, as Ultralytics predicts; `top-left` for YOLOX). Scores of small objects
   * move by a few hundredths between placements, so match the pipeline a reference was made with.
   */
  readonly letterbox?: LetterboxAlign;
  /**
   * Where ONNX Runtime runs. `caller` (default): on the calling thread, which `session.run` blocks for
   * the whole inference. `worker`: in a worker thread of the detector's own, so the caller's thread
   * stays free and callers with two frames in flight overlap pre/post-processing with inference
   * (the edge agent's cameras do).
   * @example 'worker'
   */
  readonly thread?: InferenceThread;
  /**
   * With `thread: 'worker'`: sessions of the model, each in a thread of its own, runs going to the least
   * busy. More than one trades per-frame latency for frames/s on a CPU (see ReplicatedRunner); `auto`
   * picks one single-threaded session per core (at most 4) when the model runs on the CPU, one otherwise.
   * Default 1.
   * @example 'auto'
   */
  readonly replicas?: ReplicaCount;
}

export class OnnxDetector implements Detector {
  /** Input buffers not in use: a run owns its buffer until it settles (a worker runner moves it away). */
  private readonly freeInputs: Float32Array[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(
    readonly info: ModelInfo,
    private readonly runner: InferenceRunner,
    private readonly adapter: DetectorAdapter,
    private readonly align: LetterboxAlign,
  ) {}

  static async load(path: string, options: OnnxDetectorOptions = {}): Promise<OnnxDetector> {
    if (options.adapter !== undefined && !ADAPTER_NAMES.includes(options.adapter)) {
      throw new VisionError(
        'VISION_ERR_BAD_OPTION',
        `unknown adapter '${options.adapter}' (known: ${ADAPTER_NAMES.join(', ')})`,
      );
    }
    if (options.letterbox !== undefined && options.letterbox !== 'center' && options.letterbox !== 'top-left') {
      throw new VisionError(
        'VISION_ERR_BAD_OPTION',
        `letterbox must be 'center' or 'top-left', got '${String(options.letterbox)}'`,
      );
    }
    if (options.thread !== undefined && !INFERENCE_THREADS.includes(options.thread)) {
      throw new VisionError(
        'VISION_ERR_BAD_OPTION',
        `thread must be one of ${INFERENCE_THREADS.join(', ')}, got '${String(options.thread)}'`,
      );
    }
    if (options.replicas !== undefined && options.replicas !== 1 && options.thread !== 'worker') {
      throw new VisionError(
        'VISION_ERR_BAD_OPTION',
        `replicas need thread 'worker' (got replicas ${String(options.replicas)} with thread '${options.thread ?? 'caller'}')`,
      );
    }
    const runner =
      options.thread === 'worker'
        ? await ReplicatedRunner.load(path, options, options.replicas ?? 1)
        : await CallerThreadRunner.load(path, options);
    try {
      const metadata = runner.signature.metadata;
      const adapter = selectAdapter(runner.signature, options.adapter);
      const info: ModelInfo = Object.freeze({
        path,
        adapter: adapter.name,
        inputWidth: adapter.inputWidth,
        inputHeight: adapter.inputHeight,
        pixelFormat: adapter.layout.pixelFormat,
        classNames: Object.freeze([...adapter.classNames]),
        provider: runner.provider,
        sessions: runner instanceof ReplicatedRunner ? runner.size : 1,
        thread: options.thread ?? 'caller',
        sha256: runner.sha256,
        metadata: Object.freeze({ ...metadata }),
      });
      return new OnnxDetector(info, runner, adapter, options.letterbox ?? adapter.align);
    } catch (err) {
      await runner.release();
      throw err;
    }
  }

  /** Letterbox for a source of this size; capture scales frames to `width` × `height` of the result. */
  letterboxFor(sourceWidth: number, sourceHeight: number): LetterboxGeometry {
    return computeLetterbox(sourceWidth, sourceHeight, this.adapter.inputWidth, this.adapter.inputHeight, this.align);
  }

  async detect(frame: RgbFrame, options?: DetectOptions): Promise<DetectResult> {
    if (this.closed) throw new VisionError('VISION_ERR_CLOSED', this.info.path);
    const { conf, iou, maxDetections } = resolveDetectOptions(options);
    checkFrame(frame);
    const t0 = performance.now();
    const g = this.letterboxFor(frame.sourceWidth, frame.sourceHeight);
    const { inputWidth: w, inputHeight: h } = this.adapter;
    const input = this.freeInputs.pop() ?? new Float32Array(3 * w * h);
    writeLetterboxTensor(frame, g, this.adapter.layout, input);
    const t1 = performance.now();
    const run = this.runner.run({
      inputName: this.adapter.inputName,
      outputName: this.adapter.outputName,
      input,
      dims: [1, 3, h, w],
    });
    this.running.add(run);
    let result: Awaited<typeof run>;
    try {
      result = await run;
    } catch (err) {
      if (err instanceof VisionError && err.code === 'VISION_ERR_WORKER') throw err;
      throw new VisionError(
        'VISION_ERR_INFERENCE',
        `${this.info.path}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    } finally {
      this.running.delete(run);
    }
    this.freeInputs.push(result.input);
    const t2 = performance.now();
    const output = result.output;
    if (output.type !== 'float32' || !(output.data instanceof Float32Array)) {
      throw new VisionError('VISION_ERR_INFERENCE', `output '${this.adapter.outputName}' is not a float32 tensor`);
    }
    const candidates = this.adapter.decode({ data: output.data, dims: output.dims }, conf);
    const kept = nmsClasswise(candidates, iou, maxDetections);
    const detections = kept.map((i) =>
      this.toDetection(g, candidates.boxes, i, candidates.scores[i]!, candidates.classIds[i]!),
    );
    this.runner.recycleOutput?.(output.data);
    const t3 = performance.now();
    // inferMs is the time inside session.run; time queued behind another frame is not the model's.
    return { detections, timings: { preMs: t1 - t0, inferMs: result.runMs, postMs: t3 - t2 } };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Let runs in flight finish before the native session goes away.
    await Promise.allSettled([...this.running]);
    await this.runner.release();
  }

  private toDetection(g: LetterboxGeometry, boxes: Float32Array, i: number, score: number, classId: number): Detection {
    // Per-axis factors undo the rounding of the content size exactly.
    const sx = g.sourceWidth / g.width;
    const sy = g.sourceHeight / g.height;
    const clip = (v: number, max: number): number => Math.min(Math.max(v, 0), max);
    const box: Box = [
      clip((boxes[i * 4]! - g.padX) * sx, g.sourceWidth),
      clip((boxes[i * 4 + 1]! - g.padY) * sy, g.sourceHeight),
      clip((boxes[i * 4 + 2]! - g.padX) * sx, g.sourceWidth),
      clip((boxes[i * 4 + 3]! - g.padY) * sy, g.sourceHeight),
    ];
    const boxNorm: Box = [
      box[0] / g.sourceWidth,
      box[1] / g.sourceHeight,
      box[2] / g.sourceWidth,
      box[3] / g.sourceHeight,
    ];
    return { classId, label: this.info.classNames[classId] ?? `class${classId}`, score, box, boxNorm };
  }
}
