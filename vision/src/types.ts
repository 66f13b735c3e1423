/**
 * Core types shared by every detection path (edge capture, one-shot CLI, control-plane evaluation).
 */

/** Pixel layout of a frame buffer: packed 8-bit, 3 channels. */
export type PixelFormat = 'RGB' | 'BGR';

/**
 * A decoded frame as delivered by a frame source, usually already scaled by GStreamer
 * to the model's letterbox size (`width`×`height` ≤ model input), while `sourceWidth`×`sourceHeight`
 * are the camera's native pixels that boxes are mapped back to.
 */
export interface RgbFrame {
  /** Packed pixels, `width * height * 3` bytes, row stride = width*3. */
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly format: PixelFormat;
  readonly sourceWidth: number;
  readonly sourceHeight: number;
}

/** Axis-aligned box `[x1, y1, x2, y2]`. */
export type Box = [number, number, number, number];

export interface Detection {
  readonly classId: number;
  readonly label: string;
  readonly score: number;
  /** Source pixels. */
  readonly box: Box;
  /** Normalized to 0..1 by source width/height. */
  readonly boxNorm: Box;
}

export interface DetectOptions {
  /** Confidence threshold, default 0.25. */
  readonly conf?: number;
  /** Class-wise NMS IoU threshold, default 0.45. */
  readonly iou?: number;
  /** Max detections kept after NMS, default 300. */
  readonly maxDetections?: number;
}

export interface DetectTimings {
  readonly preMs: number;
  readonly inferMs: number;
  readonly postMs: number;
}

export interface DetectResult {
  readonly detections: Detection[];
  readonly timings: DetectTimings;
}

/** Execution providers we know how to ask ONNX Runtime for, in preference order. */
export type ExecutionProviderName = 'tensorrt' | 'cuda' | 'cpu';

/** What a loaded model looks like to callers (and to status/metrics). */
export interface ModelInfo {
  readonly path: string;
  /** Adapter that decodes its outputs, e.g. 'yolov8' or 'yolox'. */
  readonly adapter: string;
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** Channel order and scale the model expects. */
  readonly pixelFormat: PixelFormat;
  readonly classNames: readonly string[];
  /** Provider actually in use after fallback. */
  readonly provider: ExecutionProviderName;
  /** Where ONNX Runtime runs: the caller's thread or worker threads of the model's own. */
  readonly thread: 'caller' | 'worker';
  /** ONNX Runtime sessions serving the model (worker threads with replicas). */
  readonly sessions: number;
  readonly sha256: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The seam between capture and inference. */
export interface Detector {
  readonly info: ModelInfo;
  detect(frame: RgbFrame, options?: DetectOptions): Promise<DetectResult>;
  close(): Promise<void>;
}
