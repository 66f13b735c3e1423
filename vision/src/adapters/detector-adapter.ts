/**
 * The seam between the generic detector and one model family's input/output contract.
 */
import type { LetterboxAlign, TensorLayout } from '../letterbox.js';
import type { CandidateSet } from '../nms.js';

/** One output tensor as returned by ONNX Runtime. */
export interface OutputTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface DetectorAdapter {
  /** Adapter name, e.g. 'yolov8'. */
  readonly name: string;
  readonly inputName: string;
  readonly outputName: string;
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly layout: TensorLayout;
  readonly align: LetterboxAlign;
  readonly classNames: readonly string[];
  /**
   * Turns the raw output into candidates with score > `conf`, boxes `[x1,y1,x2,y2]` in model input
   * pixels. The returned set may reuse the adapter's buffers: read it before the next decode.
   */
  decode(output: OutputTensor, conf: number): CandidateSet;
}

/** Grows-only candidate storage reused across frames. */
export class CandidateBuffers {
  boxes = new Float32Array(0);
  scores = new Float32Array(0);
  classIds = new Int32Array(0);

  ensure(capacity: number): void {
    if (this.scores.length >= capacity) return;
    this.boxes = new Float32Array(capacity * 4);
    this.scores = new Float32Array(capacity);
    this.classIds = new Int32Array(capacity);
  }
}
