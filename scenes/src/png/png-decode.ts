/**
 * PNG decoder for 8-bit, non-interlaced images: greyscale, RGB, palette, grey+alpha and RGBA
 * (alpha is dropped; palettes are expanded). Output is always packed RGB. Anything else fails
 * with SCENES_ERR_PNG_DECODE and says why.
 */

import { inflateSync } from 'node:zlib';
import { ScenesError } from '../errors.js';
import { crc32 } from './crc32.js';
import { PNG_SIGNATURE } from './png-encode.js';

export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  /** Packed RGB, `width * height * 3` bytes. */
  readonly data: Uint8Array;
}

const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const MAX_PIXELS = 200_000_000;

function fail(detail: string, cause?: unknown): never {
  throw new ScenesError('SCENES_ERR_PNG_DECODE', detail, cause === undefined ? undefined : { cause });
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

function unfilter(raw: Uint8Array, width: number, height: number, bpp: number): Uint8Array {
  const stride = width * bpp;
  if (raw.length < height * (stride + 1)) fail(`image data too short: ${raw.length} bytes for ${width}x${height}`);
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)] as number;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let i = 0; i < stride; i++) {
      const x = raw[src + i] as number;
      const a = i >= bpp ? (out[row + i - bpp] as number) : 0;
      const b = y > 0 ? (out[prev + i] as number) : 0;
      const c = y > 0 && i >= bpp ? (out[prev + i - bpp] as number) : 0;
      let v: number;
      switch (f) {
        case 0:
          v = x;
          break;
        case 1:
          v = x + a;
          break;
        case 2:
          v = x + b;
          break;
        case 3:
          v = x + ((a + b) >> 1);
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default:
          fail(`row ${y} has unknown filter type ${f}`);
      }
      out[row + i] = v & 0xff;
    }
  }
  return out;
}

export function decodePng(bytes: Uint8Array): DecodedImage {
  if (!isPng(bytes)) fail('not a PNG file (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0;
  let height = 0;
  let colorType = -1;
  let palette: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let sawEnd = false;
  while (pos < bytes.length) {
    if (pos + 12 > bytes.length) fail(`truncated chunk header at byte ${pos}`);
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (pos + 12 + length > bytes.length) fail(`chunk ${type} runs past the end of the file`);
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    const crc = view.getUint32(pos + 8 + length);
    if (crc32(bytes.subarray(pos + 4, pos + 8 + length)) !== crc) fail(`chunk ${type} has a bad CRC`);
    pos += 12 + length;
    if (type !== 'IHDR' && colorType < 0) fail(`first chunk must be IHDR, got ${type}`);
    if (type === 'IHDR') {
      if (length !== 13) fail('IHDR has the wrong length');
      const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
      width = dv.getUint32(0);
      height = dv.getUint32(4);
      const depth = data[8] as number;
      colorType = data[9] as number;
      if (width === 0 || height === 0 || width * height > MAX_PIXELS) fail(`unsupported image size ${width}x${height}`);
      if (depth !== 8) fail(`unsupported bit depth ${depth} (only 8-bit PNGs are supported)`);
      if (CHANNELS[colorType] === undefined) fail(`invalid colour type ${colorType}`);
      if (data[10] !== 0 || data[11] !== 0) fail('unknown compression or filter method');
      if (data[12] !== 0) fail('interlaced PNGs are not supported');
    } else if (type === 'PLTE') {
      palette = data;
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      sawEnd = true;
      break;
    } else if (((type.charCodeAt(0) >> 5) & 1) === 0) {
      // Upper-case first letter: a critical chunk we do not know (PNG spec 5.4).
      fail(`unknown critical chunk ${type}`);
    }
  }
  if (!sawEnd) fail('missing IEND (truncated file)');
  if (idat.length === 0) fail('no image data (IDAT)');
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (err) {
    fail('image data is not valid zlib', err);
  }
  const bpp = CHANNELS[colorType] as number;
  const px = unfilter(raw, width, height, bpp);
  const n = width * height;
  if (colorType === 2) return { width, height, data: px };
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    let r: number;
    let g: number;
    let b: number;
    switch (colorType) {
      case 0:
      case 4:
        r = g = b = px[i * bpp] as number;
        break;
      case 3: {
        if (!palette) fail('palette image without PLTE');
        const k = px[i] as number;
        if (k * 3 + 2 >= palette.length) fail(`palette index ${k} out of range`);
        r = palette[k * 3] as number;
        g = palette[k * 3 + 1] as number;
        b = palette[k * 3 + 2] as number;
        break;
      }
      default:
        r = px[i * 4] as number;
        g = px[i * 4 + 1] as number;
        b = px[i * 4 + 2] as number;
    }
    out[i * 3] = r;
    out[i * 3 + 1] = g;
    out[i * 3 + 2] = b;
  }
  return { width, height, data: out };
}
