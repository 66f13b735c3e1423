/**
 * Letterbox: scale the source to fit the model input keeping its aspect ratio, pad the rest.
 * Geometry follows the exporters' own preprocessing: Ultralytics centres the content
 * (`LetterBox(center=True)`, pad 114), YOLOX puts it top-left (`preproc`, pad 114).
 */
import { VisionError } from './errors.js';
import type { PixelFormat, RgbFrame } from './types.js';

export type LetterboxAlign = 'center' | 'top-left';

export interface LetterboxGeometry {
  readonly sourceWidth: number;
  readonly sourceHeight: number;
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** r = min(inputWidth / sourceWidth, inputHeight / sourceHeight). */
  readonly scale: number;
  /** Content size inside the input: the size capture should scale frames to. */
  readonly width: number;
  readonly height: number;
  /** Offset of the content inside the input. */
  readonly padX: number;
  readonly padY: number;
}

/** How an adapter wants pixels laid out in its float32 NCHW input. */
export interface TensorLayout {
  /** Channel order of the tensor planes. */
  readonly pixelFormat: PixelFormat;
  /** Multiplier from 0..255 to tensor values (1/255 for 0..1 models, 1 for 0..255 models). */
  readonly valueScale: number;
  /** Pad colour in 0..255 units, same for every channel. */
  readonly padValue: number;
}

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0)
    throw new VisionError('VISION_ERR_BAD_OPTION', `${name} must be a positive integer, got ${v}`);
}

export function computeLetterbox(
  sourceWidth: number,
  sourceHeight: number,
  inputWidth: number,
  inputHeight: number,
  align: LetterboxAlign,
): LetterboxGeometry {
  positiveInt('source width', sourceWidth);
  positiveInt('source height', sourceHeight);
  positiveInt('input width', inputWidth);
  positiveInt('input height', inputHeight);
  const scale = Math.min(inputWidth / sourceWidth, inputHeight / sourceHeight);
  const width = Math.min(inputWidth, Math.max(1, Math.round(sourceWidth * scale)));
  const height = Math.min(inputHeight, Math.max(1, Math.round(sourceHeight * scale)));
  // Ultralytics: left = round(dw - 0.1) with dw = (inW - w) / 2, i.e. the odd pixel goes right/bottom.
  const padX = align === 'center' ? Math.floor((inputWidth - width) / 2) : 0;
  const padY = align === 'center' ? Math.floor((inputHeight - height) / 2) : 0;
  return { sourceWidth, sourceHeight, inputWidth, inputHeight, scale, width, height, padX, padY };
}

const lutCache = new Map<number, Float32Array>();

function valueLut(valueScale: number): Float32Array {
  let lut = lutCache.get(valueScale);
  if (!lut) {
    lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = v * valueScale;
    lutCache.set(valueScale, lut);
  }
  return lut;
}

export function checkFrame(frame: RgbFrame): void {
  const { width, height, data } = frame;
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new VisionError('VISION_ERR_BAD_FRAME', `frame size ${width}x${height} is not positive`);
  }
  if (
    !Number.isInteger(frame.sourceWidth) ||
    frame.sourceWidth <= 0 ||
    !Number.isInteger(frame.sourceHeight) ||
    frame.sourceHeight <= 0
  ) {
    throw new VisionError(
      'VISION_ERR_BAD_FRAME',
      `source size ${frame.sourceWidth}x${frame.sourceHeight} is not positive`,
    );
  }
  if (frame.format !== 'RGB' && frame.format !== 'BGR') {
    throw new VisionError('VISION_ERR_BAD_FRAME', `pixel format '${String(frame.format)}' is not RGB or BGR`);
  }
  if (data.length < width * height * 3) {
    throw new VisionError(
      'VISION_ERR_BAD_FRAME',
      `frame ${width}x${height} needs ${width * height * 3} bytes, got ${data.length}`,
    );
  }
}

function fillPad(dst: Float32Array, g: LetterboxGeometry, pad: number): void {
  const { inputWidth: inW, inputHeight: inH, width, height, padX, padY } = g;
  const plane = inW * inH;
  const right = padX + width;
  for (let c = 0; c < 3; c++) {
    const base = c * plane;
    dst.fill(pad, base, base + padY * inW);
    dst.fill(pad, base + (padY + height) * inW, base + plane);
    if (width === inW) continue;
    for (let y = padY; y < padY + height; y++) {
      const row = base + y * inW;
      dst.fill(pad, row, row + padX);
      dst.fill(pad, row + right, row + inW);
    }
  }
}

/** Frame already at the content size: one pass, channel reorder and scaling through a lookup table. */
function copyContent(frame: RgbFrame, dst: Float32Array, g: LetterboxGeometry, layout: TensorLayout): void {
  const src = frame.data;
  const lut = valueLut(layout.valueScale);
  const plane = g.inputWidth * g.inputHeight;
  const plane2 = plane * 2;
  const swap = frame.format !== layout.pixelFormat;
  const first = swap ? 2 : 0;
  const third = swap ? 0 : 2;
  const w = g.width;
  for (let y = 0; y < g.height; y++) {
    let s = y * w * 3;
    let d = (y + g.padY) * g.inputWidth + g.padX;
    const end = d + w;
    for (; d < end; d++, s += 3) {
      dst[d] = lut[src[s + first]!]!;
      dst[d + plane] = lut[src[s + 1]!]!;
      dst[d + plane2] = lut[src[s + third]!]!;
    }
  }
}

/** Any other frame size: bilinear resize in JS (pixel-centre aligned, like cv2.INTER_LINEAR). Correct, slower. */
function resizeContent(frame: RgbFrame, dst: Float32Array, g: LetterboxGeometry, layout: TensorLayout): void {
  const src = frame.data;
  const sw = frame.width;
  const sh = frame.height;
  const plane = g.inputWidth * g.inputHeight;
  const swap = frame.format !== layout.pixelFormat;
  const chan = swap ? [2, 1, 0] : [0, 1, 2];
  const k = layout.valueScale;
  const x0s = new Int32Array(g.width);
  const x1s = new Int32Array(g.width);
  const fxs = new Float32Array(g.width);
  const rx = sw / g.width;
  for (let x = 0; x < g.width; x++) {
    const sx = Math.min(Math.max((x + 0.5) * rx - 0.5, 0), sw - 1);
    const x0 = Math.floor(sx);
    x0s[x] = x0 * 3;
    x1s[x] = Math.min(x0 + 1, sw - 1) * 3;
    fxs[x] = sx - x0;
  }
  const ry = sh / g.height;
  for (let y = 0; y < g.height; y++) {
    const sy = Math.min(Math.max((y + 0.5) * ry - 0.5, 0), sh - 1);
    const y0 = Math.floor(sy);
    const fy = sy - y0;
    const row0 = y0 * sw * 3;
    const row1 = Math.min(y0 + 1, sh - 1) * sw * 3;
    const dRow = (y + g.padY) * g.inputWidth + g.padX;
    for (let x = 0; x < g.width; x++) {
      const xa = x0s[x]!;
      const xb = x1s[x]!;
      const fx = fxs[x]!;
      for (let c = 0; c < 3; c++) {
        const sc = chan[c]!;
        const top = src[row0 + xa + sc]! + (src[row0 + xb + sc]! - src[row0 + xa + sc]!) * fx;
        const bottom = src[row1 + xa + sc]! + (src[row1 + xb + sc]! - src[row1 + xa + sc]!) * fx;
        dst[c * plane + dRow + x] = (top + (bottom - top) * fy) * k;
      }
    }
  }
}

/**
 * Writes `frame` letterboxed into `dst` (float32 NCHW, 3 × inputHeight × inputWidth).
 * Frames already scaled to the content size (`g.width` × `g.height`, what capture asks GStreamer for)
 * take the fast path; other sizes are resized here.
 */
export function writeLetterboxTensor(
  frame: RgbFrame,
  g: LetterboxGeometry,
  layout: TensorLayout,
  dst: Float32Array,
): void {
  checkFrame(frame);
  const needed = 3 * g.inputWidth * g.inputHeight;
  if (dst.length !== needed) {
    throw new VisionError('VISION_ERR_BAD_OPTION', `tensor buffer has ${dst.length} floats, letterbox needs ${needed}`);
  }
  fillPad(dst, g, layout.padValue * layout.valueScale);
  if (frame.width === g.width && frame.height === g.height) copyContent(frame, dst, g, layout);
  else resizeContent(frame, dst, g, layout);
}
