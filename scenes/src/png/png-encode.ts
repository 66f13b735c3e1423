/**
 * PNG encoder for 8-bit RGB (colour type 2), non-interlaced, zlib from node:zlib.
 * Output is deterministic for the same pixels (fixed filter heuristic, fixed zlib level).
 */

import { deflateSync } from 'node:zlib';
import { ScenesError } from '../errors.js';
import { crc32 } from './crc32.js';

export const PNG_SIGNATURE = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Filters each row with the filter type (0–4) whose output has the smallest sum of absolute
 * signed bytes, the heuristic the PNG specification recommends for truecolour images.
 */
function filterRows(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const stride = width * 3;
  const out = new Uint8Array(height * (stride + 1));
  const candidates = [0, 1, 2, 3, 4].map(() => new Uint8Array(stride));
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    const prev = y > 0 ? row - stride : -1;
    let best = 0;
    let bestSum = Infinity;
    for (let f = 0; f < 5; f++) {
      const line = candidates[f] as Uint8Array;
      let sum = 0;
      for (let i = 0; i < stride; i++) {
        const x = rgb[row + i] as number;
        const a = i >= 3 ? (rgb[row + i - 3] as number) : 0;
        const b = prev >= 0 ? (rgb[prev + i] as number) : 0;
        const c = prev >= 0 && i >= 3 ? (rgb[prev + i - 3] as number) : 0;
        let v: number;
        switch (f) {
          case 0:
            v = x;
            break;
          case 1:
            v = x - a;
            break;
          case 2:
            v = x - b;
            break;
          case 3:
            v = x - ((a + b) >> 1);
            break;
          default:
            v = x - paeth(a, b, c);
        }
        v &= 0xff;
        line[i] = v;
        sum += v < 128 ? v : 256 - v;
      }
      if (sum < bestSum) {
        bestSum = sum;
        best = f;
      }
    }
    const o = y * (stride + 1);
    out[o] = best;
    out.set(candidates[best] as Uint8Array, o + 1);
  }
  return out;
}

/** Encodes packed RGB pixels (`width * height * 3` bytes) as a PNG file. */
export function encodePng(rgb: Uint8Array, width: number, height: number): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ScenesError('SCENES_ERR_PNG_ENCODE', `image size must be positive integers, got ${width}x${height}`);
  }
  if (rgb.length !== width * height * 3) {
    throw new ScenesError(
      'SCENES_ERR_PNG_ENCODE',
      `expected ${width * height * 3} bytes of RGB for ${width}x${height}, got ${rgb.length}`,
    );
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace
  const idat = deflateSync(filterRows(rgb, width, height), { level: 6 });
  return Buffer.concat([
    Buffer.from(PNG_SIGNATURE),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
