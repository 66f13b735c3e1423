import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeLetterbox, writeLetterboxTensor, type TensorLayout } from '../src/letterbox.js';
import type { PixelFormat, RgbFrame } from '../src/types.js';

describe('computeLetterbox', () => {
  it('scales a landscape source to the input width and centres it vertically', () => {
    const g = computeLetterbox(768, 576, 640, 640, 'center');
    assert.equal(g.scale, 640 / 768);
    assert.deepEqual([g.width, g.height, g.padX, g.padY], [640, 480, 0, 80]);
  });

  it('scales a portrait source to the input height and centres it horizontally', () => {
    const g = computeLetterbox(480, 640, 640, 640, 'center');
    assert.deepEqual([g.width, g.height, g.padX, g.padY], [480, 640, 80, 0]);
  });

  it('upscales small sources', () => {
    const g = computeLetterbox(500, 500, 640, 640, 'center');
    assert.deepEqual([g.scale, g.width, g.height, g.padX, g.padY], [1.28, 640, 640, 0, 0]);
  });

  it('rounds the content size and puts the odd pad pixel at the bottom (Ultralytics round(dh - 0.1))', () => {
    // 100x95 into 64x64: r = 0.64, height round(60.8) = 61, pad 3 → 1 on top, 2 below.
    const g = computeLetterbox(100, 95, 64, 64, 'center');
    assert.deepEqual([g.width, g.height, g.padX, g.padY], [64, 61, 0, 1]);
  });

  it('puts the content in the top-left corner for top-left alignment', () => {
    const g = computeLetterbox(768, 576, 416, 416, 'top-left');
    assert.deepEqual([g.width, g.height, g.padX, g.padY], [416, 312, 0, 0]);
  });

  it('rejects sizes that are not positive integers', () => {
    assert.throws(() => computeLetterbox(0, 10, 640, 640, 'center'), { code: 'VISION_ERR_BAD_OPTION' });
    assert.throws(() => computeLetterbox(10.5, 10, 640, 640, 'center'), { code: 'VISION_ERR_BAD_OPTION' });
  });
});

/** A frame whose pixel (x, y) is [r, g, b] = [10 + x, 100 + y, 200] in the given byte order. */
function gradientFrame(width: number, height: number, format: PixelFormat, source = { w: width, h: height }): RgbFrame {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const rgb = [10 + x, 100 + y, 200];
      const px = format === 'RGB' ? rgb : [rgb[2]!, rgb[1]!, rgb[0]!];
      data.set(px, (y * width + x) * 3);
    }
  }
  return { data, width, height, format, sourceWidth: source.w, sourceHeight: source.h };
}

const at = (t: Float32Array, c: number, y: number, x: number, w = 8, h = 8): number => t[c * w * h + y * w + x]!;

describe('writeLetterboxTensor', () => {
  const rgb01: TensorLayout = { pixelFormat: 'RGB', valueScale: 1 / 255, padValue: 114 };
  const bgr255: TensorLayout = { pixelFormat: 'BGR', valueScale: 1, padValue: 114 };

  it('fills the pad with the pad value in every channel and copies content scaled 0..1 in RGB order', () => {
    const g = computeLetterbox(8, 4, 8, 8, 'center'); // content 8x4 at padY 2
    const t = new Float32Array(3 * 64).fill(-1);
    writeLetterboxTensor(gradientFrame(8, 4, 'RGB'), g, rgb01, t);
    for (const c of [0, 1, 2]) {
      for (const y of [0, 1, 6, 7]) for (let x = 0; x < 8; x++) assert.equal(at(t, c, y, x), Math.fround(114 / 255));
    }
    assert.equal(at(t, 0, 2, 0), Math.fround(10 / 255)); // R of pixel (0,0)
    assert.equal(at(t, 1, 5, 7), Math.fround(103 / 255)); // G of pixel (7,3)
    assert.equal(at(t, 2, 3, 4), Math.fround(200 / 255)); // B
  });

  it('reorders channels when the frame is RGB and the model wants BGR, without scaling for 0..255 models', () => {
    const g = computeLetterbox(8, 4, 8, 8, 'top-left'); // content at the top, pad below
    const t = new Float32Array(3 * 64);
    writeLetterboxTensor(gradientFrame(8, 4, 'RGB'), g, bgr255, t);
    assert.equal(at(t, 0, 0, 3), 200); // plane 0 = B
    assert.equal(at(t, 1, 1, 3), 101); // plane 1 = G
    assert.equal(at(t, 2, 2, 3), 13); // plane 2 = R
    assert.equal(at(t, 0, 4, 0), 114); // pad rows below the content
    assert.equal(at(t, 2, 7, 7), 114);
  });

  it('takes BGR frames into an RGB model in the right order', () => {
    const g = computeLetterbox(8, 8, 8, 8, 'center');
    const t = new Float32Array(3 * 64);
    writeLetterboxTensor(gradientFrame(8, 8, 'BGR'), g, { ...rgb01, valueScale: 1 }, t);
    assert.deepEqual([at(t, 0, 5, 2), at(t, 1, 5, 2), at(t, 2, 5, 2)], [12, 105, 200]);
  });

  it('pads left and right for portrait content', () => {
    const g = computeLetterbox(4, 8, 8, 8, 'center'); // content 4x8 at padX 2
    const t = new Float32Array(3 * 64);
    writeLetterboxTensor(gradientFrame(4, 8, 'RGB'), g, { ...rgb01, valueScale: 1 }, t);
    assert.deepEqual(
      [at(t, 0, 0, 0), at(t, 0, 0, 1), at(t, 0, 0, 2), at(t, 0, 0, 5), at(t, 0, 0, 6)],
      [114, 114, 10, 13, 114],
    );
  });

  it('resizes frames of another size in JS (bilinear): 2x2 blocks halve to their own values', () => {
    // Native 16x8 frame made of 2x2 blocks; letterbox content for 16x8 in 8x8 is 8x4.
    const native = new Uint8Array(16 * 8 * 3);
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 16; x++) native.set([Math.floor(x / 2) * 20, Math.floor(y / 2) * 30, 7], (y * 16 + x) * 3);
    }
    const frame: RgbFrame = { data: native, width: 16, height: 8, format: 'RGB', sourceWidth: 16, sourceHeight: 8 };
    const g = computeLetterbox(16, 8, 8, 8, 'center');
    const t = new Float32Array(3 * 64);
    writeLetterboxTensor(frame, g, { ...rgb01, valueScale: 1 }, t);
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 8; x++) {
        assert.equal(at(t, 0, y + 2, x), x * 20);
        assert.equal(at(t, 1, y + 2, x), y * 30);
        assert.equal(at(t, 2, y + 2, x), 7);
      }
    }
    assert.equal(at(t, 0, 0, 0), 114);
  });

  it('rejects frames whose buffer is too short, and tensors of the wrong size', () => {
    const g = computeLetterbox(8, 8, 8, 8, 'center');
    const short: RgbFrame = { ...gradientFrame(8, 8, 'RGB'), data: new Uint8Array(10) };
    assert.throws(() => writeLetterboxTensor(short, g, rgb01, new Float32Array(192)), { code: 'VISION_ERR_BAD_FRAME' });
    assert.throws(() => writeLetterboxTensor(gradientFrame(8, 8, 'RGB'), g, rgb01, new Float32Array(10)), {
      code: 'VISION_ERR_BAD_OPTION',
    });
  });
});
