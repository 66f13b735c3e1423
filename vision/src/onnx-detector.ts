/**
 * Detector backed by ONNX Runtime: letterbox → session.run → adapter decode → class-wise NMS →
 * boxes mapped back to source pixels.
 */
import { performance } from 'node:perf_hooks';
import { Tensor, type InferenceSession } from 'onnxruntime-node';
import type { DetectorAdapter } from './adapters/detector-adapter.js';
import { signatureOf } from './adapters/model-signature.js';
import { ADAPTER_NAMES, selectAdapter } from './adapters/select-adapter.js';
import { resolveDetectOptions } from './detect-options.js';
import { VisionError } from './errors.js';
import { checkFrame, computeLetterbox, writeLetterboxTensor, type LetterboxAlign, type LetterboxGeometry } from './letterbox.js';
import { nmsClasswise } from './nms.js';
import { readOnnxMetadata } from './onnx-metadata.js';
import { createOnnxSession, type OnnxSessionOptions } from './onnx-session.js';
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
}

/** A reusable input tensor; `busy` while ONNX Runtime may still read it. */
interface InputSlot {
  readonly data: Float32Array;
  readonly tensor: Tensor;
  busy: boolean;
}

export class OnnxDetector implements Detector {
  private readonly slots: InputSlot[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(
    readonly info: ModelInfo,
    private readonly session: InferenceSession,
    private readonly adapter: DetectorAdapter,
    private readonly align: LetterboxAlign,
  ) {}

  static async load(path: string, options: OnnxDetectorOptions = {}): Promise<OnnxDetector> {
    if (options.adapter !== undefined && !ADAPTER_NAMES.includes(options.adapter)) {
      throw new VisionError('VISION_ERR_BAD_OPTION', `unknown adapter '${options.adapter}' (known: ${ADAPTER_NAMES.join(', ')})`);
    }
    if (options.letterbox !== undefined && options.letterbox !== 'center' && options.letterbox !== 'top-left') {
      throw new VisionError('VISION_ERR_BAD_OPTION', `letterbox must be 'center' or 'top-left', got '${String(options.letterbox)}'`);
    }
    const loaded = await createOnnxSession(path, options);
    try {
      const metadata = readOnnxMetadata(loaded.bytes);
      const adapter = selectAdapter(signatureOf(loaded.session, metadata), options.adapter);
      const info: ModelInfo = Object.freeze({
        path,
        adapter: adapter.name,
        inputWidth: adapter.inputWidth,
        inputHeight: adapter.inputHeight,
        pixelFormat: adapter.layout.pixelFormat,
        classNames: Object.freeze([...adapter.classNames]),
        provider: loaded.provider,
        sha256: loaded.sha256,
        metadata: Object.freeze({ ...metadata }),
      });
      return new OnnxDetector(info, loaded.session, adapter, options.letterbox ?? adapter.align);
    } catch (err) {
      await loaded.session.release();
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
    const slot = this.acquireSlot();
    let output: InferenceSession.OnnxValueMapType[string] | undefined;
    let t1: number;
    try {
      writeLetterboxTensor(frame, g, this.adapter.layout, slot.data);
      t1 = performance.now();
      const run = this.session.run({ [this.adapter.inputName]: slot.tensor }, [this.adapter.outputName]);
      this.running.add(run);
      try {
        output = (await run)[this.adapter.outputName];
      } catch (err) {
        throw new VisionError('VISION_ERR_INFERENCE', `${this.info.path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      } finally {
        this.running.delete(run);
      }
    } finally {
      slot.busy = false;
    }
    const t2 = performance.now();
    if (!(output instanceof Tensor) || !(output.data instanceof Float32Array)) {
      throw new VisionError('VISION_ERR_INFERENCE', `output '${this.adapter.outputName}' is not a float32 tensor`);
    }
    const candidates = this.adapter.decode({ data: output.data, dims: output.dims }, conf);
    const kept = nmsClasswise(candidates, iou, maxDetections);
    const detections = kept.map((i) => this.toDetection(g, candidates.boxes, i, candidates.scores[i]!, candidates.classIds[i]!));
    const t3 = performance.now();
    return { detections, timings: { preMs: t1 - t0, inferMs: t2 - t1, postMs: t3 - t2 } };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Let runs in flight finish before the native session goes away.
    await Promise.allSettled([...this.running]);
    await this.session.release();
  }

  private acquireSlot(): InputSlot {
    // A second concurrent detect() gets its own buffer instead of overwriting one ONNX Runtime is reading.
    let slot = this.slots.find((s) => !s.busy);
    if (!slot) {
      const { inputWidth: w, inputHeight: h } = this.adapter;
      const data = new Float32Array(3 * w * h);
      slot = { data, tensor: new Tensor('float32', data, [1, 3, h, w]), busy: false };
      this.slots.push(slot);
    }
    slot.busy = true;
    return slot;
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
    const boxNorm: Box = [box[0] / g.sourceWidth, box[1] / g.sourceHeight, box[2] / g.sourceWidth, box[3] / g.sourceHeight];
    return { classId, label: this.info.classNames[classId] ?? `class${classId}`, score, box, boxNorm };
  }
}
