import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { decodePng, isPng } from '../src/png/png-decode.js';
import { encodePng } from '../src/png/png-encode.js';
import { Rng } from '../src/prng.js';
import { crc32 } from '../src/png/crc32.js';

function randomImage(w: number, h: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(w * h * 3);
  // Smooth gradients plus noise exercise every filter type.
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      out[o] = (x * 4 + rng.int(0, 3)) & 255;
      out[o + 1] = (y * 3) & 255;
      out[o + 2] = rng.int(0, 255);
    }
  }
  return out;
}

/** Builds a PNG from raw chunks, for decoder cases our encoder never writes. */
function pngOf(
  ihdr: { w: number; h: number; depth?: number; colorType: number; interlace?: number },
  rows: Uint8Array,
  extra: [string, Uint8Array][] = [],
): Buffer {
  const chunk = (type: string, data: Uint8Array) => {
    const b = Buffer.alloc(12 + data.length);
    b.writeUInt32BE(data.length, 0);
    b.write(type, 4, 'latin1');
    b.set(data, 8);
    b.writeUInt32BE(crc32(b.subarray(4, 8 + data.length)), 8 + data.length);
    return b;
  };
  const h = Buffer.alloc(13);
  h.writeUInt32BE(ihdr.w, 0);
  h.writeUInt32BE(ihdr.h, 4);
  h[8] = ihdr.depth ?? 8;
  h[9] = ihdr.colorType;
  h[12] = ihdr.interlace ?? 0;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', h),
    ...extra.map(([t, d]) => chunk(t, d)),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

test('encode then decode returns the same pixels', () => {
  for (const [w, h] of [
    [1, 1],
    [7, 5],
    [64, 48],
    [333, 17],
  ] as const) {
    const img = randomImage(w, h, w * 31 + h);
    const png = encodePng(img, w, h);
    assert.ok(isPng(png));
    const back = decodePng(png);
    assert.equal(back.width, w);
    assert.equal(back.height, h);
    assert.deepEqual(Buffer.from(back.data), Buffer.from(img));
  }
});

test('encoding is deterministic', () => {
  const img = randomImage(50, 40, 3);
  assert.deepEqual(encodePng(img, 50, 40), encodePng(img, 50, 40));
});

test('GStreamer pngdec reads our PNGs to the same pixels', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'scenes-png-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // 64 px wide: RGB rows are 192 bytes, already 4-byte aligned, so raw output has no padding.
  const img = randomImage(64, 48, 9);
  writeFileSync(join(dir, 'a.png'), encodePng(img, 64, 48));
  execFileSync(
    'gst-launch-1.0',
    [
      '-q',
      'filesrc',
      `location=${join(dir, 'a.png')}`,
      '!',
      'pngdec',
      '!',
      'videoconvert',
      '!',
      'video/x-raw,format=RGB',
      '!',
      'filesink',
      `location=${join(dir, 'a.raw')}`,
    ],
    { timeout: 30_000 },
  );
  assert.deepEqual(readFileSync(join(dir, 'a.raw')), Buffer.from(img));
});

test('greyscale, palette and RGBA PNGs decode to RGB', () => {
  // 2x1 greyscale, filter 0.
  const grey = decodePng(pngOf({ w: 2, h: 1, colorType: 0 }, Uint8Array.from([0, 10, 200])));
  assert.deepEqual([...grey.data], [10, 10, 10, 200, 200, 200]);
  // 2x1 palette.
  const pal = decodePng(
    pngOf({ w: 2, h: 1, colorType: 3 }, Uint8Array.from([0, 1, 0]), [['PLTE', Uint8Array.from([1, 2, 3, 4, 5, 6])]]),
  );
  assert.deepEqual([...pal.data], [4, 5, 6, 1, 2, 3]);
  // 1x2 RGBA with the Up filter on row 2: alpha is dropped.
  const rgba = decodePng(pngOf({ w: 1, h: 2, colorType: 6 }, Uint8Array.from([0, 10, 20, 30, 255, 2, 1, 1, 1, 0])));
  assert.deepEqual([...rgba.data], [10, 20, 30, 11, 21, 31]);
});

test('broken or unsupported PNGs fail with SCENES_ERR_PNG_DECODE and a reason', () => {
  const good = encodePng(randomImage(8, 8, 1), 8, 8);
  assert.throws(() => decodePng(Buffer.from('not a png at all')), {
    code: 'SCENES_ERR_PNG_DECODE',
    message: /signature/,
  });
  const badCrc = Buffer.from(good);
  badCrc[40] = (badCrc[40] as number) ^ 0xff;
  assert.throws(() => decodePng(badCrc), { code: 'SCENES_ERR_PNG_DECODE', message: /CRC|zlib/ });
  assert.throws(() => decodePng(good.subarray(0, good.length - 20)), { code: 'SCENES_ERR_PNG_DECODE' });
  assert.throws(() => decodePng(pngOf({ w: 1, h: 1, colorType: 2, depth: 16 }, new Uint8Array(7))), {
    message: /bit depth 16/,
  });
  assert.throws(() => decodePng(pngOf({ w: 1, h: 1, colorType: 2, interlace: 1 }, new Uint8Array(4))), {
    message: /interlaced/,
  });
  assert.throws(() => decodePng(pngOf({ w: 1, h: 1, colorType: 2 }, Uint8Array.from([9, 1, 2, 3]))), {
    message: /filter type 9/,
  });
  assert.throws(() => decodePng(pngOf({ w: 4, h: 4, colorType: 2 }, new Uint8Array(5))), { message: /too short/ });
});

test('the encoder rejects mismatched buffers with SCENES_ERR_PNG_ENCODE', () => {
  assert.throws(() => encodePng(new Uint8Array(10), 2, 2), { code: 'SCENES_ERR_PNG_ENCODE' });
  assert.throws(() => encodePng(new Uint8Array(0), 0, 0), { code: 'SCENES_ERR_PNG_ENCODE' });
});
