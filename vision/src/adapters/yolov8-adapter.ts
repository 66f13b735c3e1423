/**
 * Ultralytics YOLOv8 / YOLO11 detect exports: input RGB 0..1 letterboxed centred with pad 114,
 * output `[1, 4 + nc, N]`: cx, cy, w, h in input pixels, then nc class scores (already sigmoid,
 * no objectness). Class names and input size come from the export metadata (`names`, `imgsz`).
 */
import { VisionError } from '../errors.js';
import type { CandidateSet } from '../nms.js';
import { parseImgsz } from '../ultralytics-metadata.js';
import { fallbackClassNames, metadataClassNames } from './class-names.js';
import { CandidateBuffers, type DetectorAdapter, type OutputTensor } from './detector-adapter.js';
import { imageInputOf, singleOutputOf, type ModelSignature } from './tensor-layout.js';

const DEFAULT_SIZE = 640;

export class Yolov8Adapter implements DetectorAdapter {
  readonly name = 'yolov8';
  readonly layout = { pixelFormat: 'RGB', valueScale: 1 / 255, padValue: 114 } as const;
  readonly align = 'center' as const;
  private readonly candidates = new CandidateBuffers();
  private maxScore = new Float32Array(0);
  private bestClass = new Int32Array(0);

  constructor(
    readonly inputName: string,
    readonly outputName: string,
    readonly inputWidth: number,
    readonly inputHeight: number,
    readonly classNames: readonly string[],
  ) {}

  /** The adapter for `signature`, or the reason it does not fit. */
  static fromSignature(signature: ModelSignature): Yolov8Adapter | string {
    const { metadata } = signature;
    if (metadata.task !== undefined && metadata.task !== 'detect') {
      return `metadata task is '${metadata.task}', only 'detect' is supported`;
    }
    const input = imageInputOf(signature);
    if (typeof input === 'string') return input;
    const output = singleOutputOf(signature);
    if (typeof output === 'string') return output;
    const [, channels, anchors] = output.dims;

    const names = metadataClassNames(metadata);
    let classCount: number;
    if (names !== null) {
      classCount = names.length;
      if (channels !== null && channels !== 4 + classCount) {
        return `output '${output.name}' has ${channels} channels but metadata names lists ${classCount} classes (expected 4 + ${classCount})`;
      }
    } else {
      if (channels === null || channels === undefined)
        return `output '${output.name}' has a dynamic channel dimension and no names metadata`;
      if (channels < 5)
        return `output '${output.name}' has ${channels} channels, expected 4 box values plus at least one class`;
      // Without metadata the layout is recognised by shape: [1, 4+nc, N] has far more anchors than channels.
      if (anchors === null || anchors === undefined || anchors <= channels) {
        return `output '${output.name}' is not [1, 4+nc, N] with N > 4+nc`;
      }
      classCount = channels - 4;
    }
    if (classCount < 1) return 'metadata names is empty';

    let height = input.height;
    let width = input.width;
    if (height === null || width === null) {
      const imgsz =
        metadata.imgsz !== undefined ? parseImgsz(metadata.imgsz) : { height: DEFAULT_SIZE, width: DEFAULT_SIZE };
      height ??= imgsz.height;
      width ??= imgsz.width;
    }
    return new Yolov8Adapter(input.name, output.name, width, height, names ?? fallbackClassNames(classCount));
  }

  decode(output: OutputTensor, conf: number): CandidateSet {
    const { data, dims } = output;
    const channels = dims[1] ?? 0;
    const n = dims[2] ?? 0;
    const nc = this.classNames.length;
    if (dims.length !== 3 || channels !== 4 + nc || data.length < channels * n) {
      throw new VisionError(
        'VISION_ERR_INFERENCE',
        `yolov8 output dims [${dims.join(',')}] do not match [1, ${4 + nc}, N]`,
      );
    }
    if (this.maxScore.length < n) {
      this.maxScore = new Float32Array(n);
      this.bestClass = new Int32Array(n);
    }
    const maxScore = this.maxScore;
    const bestClass = this.bestClass;
    // Starting the running max at the threshold makes the `>` test the confidence prefilter too.
    maxScore.fill(conf, 0, n);
    bestClass.fill(-1, 0, n);
    // Class-major over the [4+nc, N] layout: contiguous reads. Four class rows per pass, so the running
    // max is loaded and stored once per four scores (2× faster than one row per pass); the `>` chain in
    // class order keeps the lowest class id on ties, as one row at a time would.
    let c = 0;
    for (; c + 4 <= nc; c += 4) {
      const r0 = (4 + c) * n;
      const r1 = r0 + n;
      const r2 = r1 + n;
      const r3 = r2 + n;
      for (let a = 0; a < n; a++) {
        const s0 = data[r0 + a]!;
        const s1 = data[r1 + a]!;
        const s2 = data[r2 + a]!;
        const s3 = data[r3 + a]!;
        let m = maxScore[a]!;
        if (s0 > m || s1 > m || s2 > m || s3 > m) {
          let b = bestClass[a]!;
          if (s0 > m) {
            m = s0;
            b = c;
          }
          if (s1 > m) {
            m = s1;
            b = c + 1;
          }
          if (s2 > m) {
            m = s2;
            b = c + 2;
          }
          if (s3 > m) {
            m = s3;
            b = c + 3;
          }
          maxScore[a] = m;
          bestClass[a] = b;
        }
      }
    }
    for (; c < nc; c++) {
      const row = (4 + c) * n;
      for (let a = 0; a < n; a++) {
        const s = data[row + a]!;
        if (s > maxScore[a]!) {
          maxScore[a] = s;
          bestClass[a] = c;
        }
      }
    }

    const out = this.candidates;
    out.ensure(n);
    let count = 0;
    for (let a = 0; a < n; a++) {
      const c = bestClass[a]!;
      if (c < 0) continue;
      const cx = data[a]!;
      const cy = data[n + a]!;
      const hw = data[2 * n + a]! / 2;
      const hh = data[3 * n + a]! / 2;
      const b = count * 4;
      out.boxes[b] = cx - hw;
      out.boxes[b + 1] = cy - hh;
      out.boxes[b + 2] = cx + hw;
      out.boxes[b + 3] = cy + hh;
      out.scores[count] = maxScore[a]!;
      out.classIds[count] = c;
      count++;
    }
    return { boxes: out.boxes, scores: out.scores, classIds: out.classIds, count };
  }
}
