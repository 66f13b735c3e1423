/**
 * YOLOX exports (decode_in_inference off): input BGR 0..255 letterboxed top-left with pad 114,
 * output `[1, N, 5 + nc]` per anchor: grid-relative tx, ty, tw, th, objectness, nc class scores,
 * anchors ordered stride 8 grid, then 16, then 32 (row-major within a grid). Decoding:
 * x = (tx + gx) * s, y = (ty + gy) * s, w = exp(tw) * s, h = exp(th) * s, score = obj × cls.
 */
import { VisionError } from '../errors.js';
import type { CandidateSet } from '../nms.js';
import { fallbackClassNames, metadataClassNames } from './class-names.js';
import { CandidateBuffers, type DetectorAdapter, type OutputTensor } from './detector-adapter.js';
import { imageInputOf, singleOutputOf, type ModelSignature } from './tensor-layout.js';

export const YOLOX_STRIDES: readonly number[] = [8, 16, 32];
const DEFAULT_SIZE = 640;

export function yoloxAnchorCount(width: number, height: number): number {
  return YOLOX_STRIDES.reduce((sum, s) => sum + Math.floor(height / s) * Math.floor(width / s), 0);
}

export class YoloxAdapter implements DetectorAdapter {
  readonly name = 'yolox';
  readonly layout = { pixelFormat: 'BGR', valueScale: 1, padValue: 114 } as const;
  readonly align = 'top-left' as const;
  private readonly candidates = new CandidateBuffers();
  /** Per anchor: grid x, grid y, stride. */
  private readonly gridX: Float32Array;
  private readonly gridY: Float32Array;
  private readonly gridStride: Float32Array;

  constructor(
    readonly inputName: string,
    readonly outputName: string,
    readonly inputWidth: number,
    readonly inputHeight: number,
    readonly classNames: readonly string[],
  ) {
    const n = yoloxAnchorCount(inputWidth, inputHeight);
    this.gridX = new Float32Array(n);
    this.gridY = new Float32Array(n);
    this.gridStride = new Float32Array(n);
    let i = 0;
    for (const s of YOLOX_STRIDES) {
      const gh = Math.floor(inputHeight / s);
      const gw = Math.floor(inputWidth / s);
      for (let y = 0; y < gh; y++) {
        for (let x = 0; x < gw; x++, i++) {
          this.gridX[i] = x;
          this.gridY[i] = y;
          this.gridStride[i] = s;
        }
      }
    }
  }

  /** The adapter for `signature`, or the reason it does not fit. */
  static fromSignature(signature: ModelSignature): YoloxAdapter | string {
    const input = imageInputOf(signature);
    if (typeof input === 'string') return input;
    const output = singleOutputOf(signature);
    if (typeof output === 'string') return output;
    const [, anchors, channels] = output.dims;
    if (channels === null || channels === undefined) return `output '${output.name}' has a dynamic last dimension`;
    if (channels < 6)
      return `output '${output.name}' has ${channels} values per anchor, expected 5 + at least one class`;
    const width = input.width ?? DEFAULT_SIZE;
    const height = input.height ?? DEFAULT_SIZE;
    const expected = yoloxAnchorCount(width, height);
    if (anchors !== null && anchors !== expected) {
      return `output '${output.name}' has ${anchors} anchors, a ${width}x${height} input with strides 8/16/32 gives ${expected}`;
    }
    const classCount = channels - 5;
    const names = metadataClassNames(signature.metadata);
    if (names !== null && names.length !== classCount) {
      return `output '${output.name}' has ${classCount} classes but metadata names lists ${names.length}`;
    }
    return new YoloxAdapter(input.name, output.name, width, height, names ?? fallbackClassNames(classCount));
  }

  decode(output: OutputTensor, conf: number): CandidateSet {
    const { data, dims } = output;
    const n = dims[1] ?? 0;
    const stride = dims[2] ?? 0;
    const nc = this.classNames.length;
    if (dims.length !== 3 || stride !== 5 + nc || n !== this.gridX.length || data.length < n * stride) {
      throw new VisionError(
        'VISION_ERR_INFERENCE',
        `yolox output dims [${dims.join(',')}] do not match [1, ${this.gridX.length}, ${5 + nc}]`,
      );
    }
    const out = this.candidates;
    out.ensure(n);
    let count = 0;
    for (let a = 0; a < n; a++) {
      const base = a * stride;
      const obj = data[base + 4]!;
      // Class scores are ≤ 1, so obj ≤ conf means no class can pass.
      if (obj <= conf) continue;
      let best = -1;
      let bestScore = conf;
      for (let c = 0; c < nc; c++) {
        const s = obj * data[base + 5 + c]!;
        if (s > bestScore) {
          bestScore = s;
          best = c;
        }
      }
      if (best < 0) continue;
      const s = this.gridStride[a]!;
      const cx = (data[base]! + this.gridX[a]!) * s;
      const cy = (data[base + 1]! + this.gridY[a]!) * s;
      const hw = (Math.exp(data[base + 2]!) * s) / 2;
      const hh = (Math.exp(data[base + 3]!) * s) / 2;
      const b = count * 4;
      out.boxes[b] = cx - hw;
      out.boxes[b + 1] = cy - hh;
      out.boxes[b + 2] = cx + hw;
      out.boxes[b + 3] = cy + hh;
      out.scores[count] = bestScore;
      out.classIds[count] = best;
      count++;
    }
    return { boxes: out.boxes, scores: out.scores, classIds: out.classIds, count };
  }
}
