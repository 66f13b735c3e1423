// GStreamer pulls and bus polls park libuv threadpool threads: size the pool before anything async.
process.env.UV_THREADPOOL_SIZE ??= '16';

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { sharedPath, tempDir } from '@edgefleet/service-kit/testing';
import { readImageHeader, parseImageHeader } from '../src/capture/image-header.js';
import { decodeStillImage, StillImageDecoder } from '../src/capture/still-image.js';
import { EdgeError } from '../src/errors.js';

const here = dirname(fileURLToPath(import.meta.url));

function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** An 8-bit RGB PNG (PNG spec: IHDR, one zlib IDAT with filter byte 0 per row, IEND). */
function encodePng(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // depth 8, colour type 2 (RGB), deflate, filter 0, no interlace
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), y * (1 + width * 3) + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

const pattern = (x: number, y: number): [number, number, number] => [x * 40, y * 60, 255 - x * 10];

/** A PNG with one byte of its compressed data flipped: the IDAT CRC no longer matches. */
function corruptPng(): Buffer {
  const png = encodePng(16, 16, pattern);
  const at = png.indexOf('IDAT', 0, 'latin1') + 6;
  png[at] = png[at]! ^ 0xff;
  return png;
}

/** dog.jpg cut right before its scan data: a valid header with nothing to decode. */
async function headerOnlyJpeg(): Promise<Buffer> {
  const bytes = await readFile(sharedPath('images', 'dog.jpg'));
  let i = 2;
  while (!(bytes[i] === 0xff && bytes[i + 1] === 0xda)) i += 2 + bytes.readUInt16BE(i + 2);
  return bytes.subarray(0, i);
}

const identityFit = (w: number, h: number): { width: number; height: number } => ({ width: w, height: h });

function isDecodeError(pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof EdgeError, `expected EdgeError, got ${String(err)}`);
    assert.equal(err.code, 'EDGE_ERR_IMAGE_DECODE');
    assert.match(err.message, pattern);
    return true;
  };
}

describe('readImageHeader', () => {
  it('reads the size of every shared JPEG from its SOF segment', async () => {
    const expected: Record<string, [number, number]> = {
      'dog.jpg': [768, 576],
      'horses.jpg': [773, 512],
      'person.jpg': [640, 424],
      'kite.jpg': [1352, 900],
      'giraffe.jpg': [500, 500],
      'eagle.jpg': [773, 512],
    };
    for (const [name, [width, height]] of Object.entries(expected)) {
      assert.deepEqual(await readImageHeader(sharedPath('images', name)), { codec: 'jpeg', width, height }, name);
    }
  });

  it('reads a PNG size from IHDR', async (t) => {
    const path = join(await tempDir(t), 'p.png');
    await writeFile(path, encodePng(5, 3, pattern));
    assert.deepEqual(await readImageHeader(path), { codec: 'png', width: 5, height: 3 });
  });

  it('finds the SOF behind application segments larger than the first read', async (t) => {
    const dog = await readFile(sharedPath('images', 'dog.jpg'));
    const app = Buffer.alloc(65_537);
    app.set([0xff, 0xe9, 0xff, 0xff], 0); // APP9 with the maximum length 65535
    const path = join(await tempDir(t), 'big-exif.jpg');
    await writeFile(path, Buffer.concat([dog.subarray(0, 2), app, app, dog.subarray(2)]));
    assert.deepEqual(await readImageHeader(path), { codec: 'jpeg', width: 768, height: 576 });
  });

  it('explains what is wrong with files that are not readable JPEG/PNG', async (t) => {
    const dir = await tempDir(t);
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['text.jpg', Buffer.from('hello, this is not an image'), /not a JPEG or PNG file/],
      ['empty.jpg', new Uint8Array(0), /file ends inside the image header/],
      ['no-sof.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02]), /scan data starts before any frame header/],
      [
        'cut.jpg',
        (await readFile(sharedPath('images', 'dog.jpg'))).subarray(0, 300),
        /file ends inside the image header/,
      ],
      [
        'bad-marker.jpg',
        Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0x12, 0x34]),
        /JPEG marker expected at offset 8/,
      ],
      [
        'no-ihdr.png',
        Buffer.concat([encodePng(2, 2, pattern).subarray(0, 8), pngChunk('tEXt', Buffer.from('a=b'))]),
        /first chunk is 'tEXt'/,
      ],
    ];
    for (const [name, bytes, message] of cases) {
      const path = join(dir, name);
      await writeFile(path, bytes);
      await assert.rejects(readImageHeader(path), isDecodeError(message), name);
    }
    await assert.rejects(readImageHeader(join(dir, 'missing.jpg')), isDecodeError(/missing\.jpg: file not found/));
  });

  it('asks for more data when a prefix ends inside the header', () => {
    assert.equal(parseImageHeader(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x01])), 'need-more');
  });
});

describe('decodeStillImage', () => {
  it('decodes a JPEG with GStreamer to exactly the size fit() asks for, keeping the native size', async () => {
    const frame = await decodeStillImage(sharedPath('images', 'dog.jpg'), {
      fit: () => ({ width: 320, height: 240 }),
      format: 'RGB',
    });
    assert.deepEqual(
      [frame.width, frame.height, frame.sourceWidth, frame.sourceHeight, frame.format],
      [320, 240, 768, 576, 'RGB'],
    );
    assert.equal(frame.data.length, 320 * 240 * 3);
    assert.ok(new Set(frame.data.subarray(0, 3000)).size > 20, 'decoded pixels vary');
  });

  it('passes the native size to fit()', async () => {
    const seen: Array<[number, number]> = [];
    await decodeStillImage(sharedPath('images', 'person.jpg'), {
      fit: (w, h) => {
        seen.push([w, h]);
        return { width: 64, height: 42 };
      },
      format: 'BGR',
    });
    assert.deepEqual(seen, [[640, 424]]);
  });

  it('delivers exact pixels in RGB and BGR order, with odd widths packed to width*3 rows', async (t) => {
    const path = join(await tempDir(t), 'pattern.png');
    await writeFile(path, encodePng(5, 3, pattern));
    const rgb = await decodeStillImage(path, { fit: identityFit, format: 'RGB' });
    const bgr = await decodeStillImage(path, { fit: identityFit, format: 'BGR' });
    const expected: number[] = [];
    for (let y = 0; y < 3; y++) for (let x = 0; x < 5; x++) expected.push(...pattern(x, y));
    assert.deepEqual([...rgb.data], expected);
    const swapped: number[] = [];
    for (let i = 0; i < expected.length; i += 3) swapped.push(expected[i + 2]!, expected[i + 1]!, expected[i]!);
    assert.deepEqual([...bgr.data], swapped);
  });

  it('decodes files whose path has spaces, quotes, ! and backslashes', async (t) => {
    const dir = join(await tempDir(t), 'dir with "quotes" ! and \\ backslash');
    await mkdir(dir);
    const path = join(dir, "it's a dog.jpg");
    await copyFile(sharedPath('images', 'dog.jpg'), path);
    const frame = await decodeStillImage(path, { fit: () => ({ width: 64, height: 48 }), format: 'RGB' });
    assert.equal(frame.sourceWidth, 768);
  });

  it('reports a header-only JPEG as EDGE_ERR_IMAGE_DECODE: no frame', async (t) => {
    const path = join(await tempDir(t), 'header-only.jpg');
    await writeFile(path, await headerOnlyJpeg());
    await assert.rejects(
      decodeStillImage(path, { fit: identityFit, format: 'RGB' }),
      isDecodeError(/produced no frame/),
    );
  });

  it('reports a PNG with a corrupt data chunk with the GStreamer error message', async (t) => {
    const path = join(await tempDir(t), 'bad-crc.png');
    await writeFile(path, corruptPng());
    await assert.rejects(
      decodeStillImage(path, { fit: identityFit, format: 'RGB' }),
      isDecodeError(/bad-crc\.png: .+ \(from \w+\)/),
    );
  });

  it('reports files that are not images before building a pipeline', async (t) => {
    const path = join(await tempDir(t), 'notes.jpg');
    await writeFile(path, 'not an image');
    await assert.rejects(
      decodeStillImage(path, { fit: identityFit, format: 'RGB' }),
      isDecodeError(/not a JPEG or PNG/),
    );
  });

  it('rejects a fit() result that is not a positive integer size', async () => {
    await assert.rejects(
      decodeStillImage(sharedPath('images', 'dog.jpg'), { fit: () => ({ width: 0, height: 10 }), format: 'RGB' }),
      RangeError,
    );
  });

  it('decodes a mix of JPEG and PNG files of different sizes with one decoder, before and after bad files', async (t) => {
    const dir = await tempDir(t);
    const small = join(dir, 'small.png');
    const wide = join(dir, 'wide.png');
    await writeFile(small, encodePng(5, 3, pattern));
    await writeFile(wide, encodePng(7, 2, pattern));
    await writeFile(join(dir, 'bad.png'), corruptPng());
    const decoder = new StillImageDecoder({ format: 'RGB' });
    t.after(() => decoder.close());
    // A failed decode leaves messages behind (the decoder's own error after the source's); they must not
    // reach the next decode on the same pipeline.
    await assert.rejects(decoder.decode(join(dir, 'bad.png'), identityFit), isDecodeError(/bad\.png/));
    const sizes: Array<[number, number, number, number]> = [];
    for (const path of [small, sharedPath('images', 'dog.jpg'), wide, sharedPath('images', 'person.jpg'), small]) {
      const frame = await decoder.decode(path, (w, h) => ({ width: Math.min(w, 64), height: Math.min(h, 48) }));
      sizes.push([frame.width, frame.height, frame.sourceWidth, frame.sourceHeight]);
      if (path === wide) {
        const expected: number[] = [];
        for (let y = 0; y < 2; y++) for (let x = 0; x < 7; x++) expected.push(...pattern(x, y));
        assert.deepEqual([...frame.data], expected);
      }
    }
    assert.deepEqual(sizes, [
      [5, 3, 5, 3],
      [64, 48, 768, 576],
      [7, 2, 7, 2],
      [64, 48, 640, 424],
      [5, 3, 5, 3],
    ]);
    await assert.rejects(decoder.decode(join(dir, 'bad.png'), identityFit), isDecodeError(/bad\.png/));
    const again = await decoder.decode(small, identityFit);
    assert.equal(again.data[3], pattern(1, 0)[0]);
  });

  it('queues concurrent decodes and refuses new ones after close()', async () => {
    const decoder = new StillImageDecoder({ format: 'BGR' });
    const fit = (): { width: number; height: number } => ({ width: 32, height: 24 });
    const frames = await Promise.all([
      decoder.decode(sharedPath('images', 'dog.jpg'), fit),
      decoder.decode(sharedPath('images', 'eagle.jpg'), fit),
      decoder.decode(sharedPath('images', 'giraffe.jpg'), fit),
    ]);
    assert.deepEqual(
      frames.map((f) => f.sourceWidth),
      [768, 773, 500],
    );
    await decoder.close();
    await assert.rejects(decoder.decode(sharedPath('images', 'dog.jpg'), fit), {
      code: 'EDGE_ERR_PIPELINE',
      message: /closed/,
    });
  });

  it('leaves no threadpool thread blocked: decodes, errors and timeouts under CPU contention on a 2-thread pool still exit', async (t) => {
    const dir = await tempDir(t);
    const bad = join(dir, 'bad.png');
    const empty = join(dir, 'empty.jpg');
    await writeFile(bad, corruptPng());
    await writeFile(empty, await headerOnlyJpeg());
    const module = pathToFileURL(join(here, '..', 'src', 'capture', 'still-image.js')).href;
    // Spinning workers starve the bus-poll thread: that is when a stop() could strand it (the race
    // this guards against left the process unable to exit in about half of such runs).
    const script = `
      import { Worker } from 'node:worker_threads';
      const { StillImageDecoder, decodeStillImage } = await import(${JSON.stringify(module)});
      const spinners = [0, 1, 2].map(() => new Worker('for (;;) {}', { eval: true }));
      const half = (w, h) => ({ width: Math.round(w / 2), height: Math.round(h / 2) });
      const decoder = new StillImageDecoder({ format: 'RGB' });
      const outcomes = [];
      const attempt = async (decode) => {
        try { await decode(); outcomes.push('ok'); } catch (err) { outcomes.push(err.code); }
      };
      const dog = ${JSON.stringify(sharedPath('images', 'dog.jpg'))};
      // Success path first: stop() from the pull callback while the bus poll is parked is the risky case.
      for (let i = 0; i < 50; i++) await attempt(() => decoder.decode(dog, half));
      for (let i = 0; i < 10; i++) await attempt(() => decodeStillImage(dog, { fit: half, format: 'RGB' }));
      for (let i = 0; i < 10; i++) {
        await attempt(() => decoder.decode(${JSON.stringify(bad)}, half));
        await attempt(() => decoder.decode(${JSON.stringify(empty)}, half));
        // A tiny timeout: either outcome is fine, the pipeline must be torn down either way.
        await attempt(() => decodeStillImage(${JSON.stringify(sharedPath('images', 'kite.jpg'))}, { fit: half, format: 'RGB', timeoutMs: 1 }));
      }
      // The reused pipelines still work after errors.
      await attempt(() => decoder.decode(dog, half));
      await decoder.close();
      await Promise.all(spinners.map((w) => w.terminate()));
      console.log(JSON.stringify(outcomes));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, UV_THREADPOOL_SIZE: '2' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.resume();
    // Bounded: a blocked thread keeps the child's event loop alive (or starves the pool) and it never exits.
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    clearTimeout(killer);
    assert.equal(code, 0, `child exited on its own (output: ${stdout.trim() || 'none'})`);
    const outcomes = JSON.parse(stdout) as string[];
    assert.equal(outcomes.length, 91);
    assert.deepEqual(new Set(outcomes.slice(0, 60)), new Set(['ok']));
    for (let i = 60; i < 90; i += 3) {
      assert.equal(outcomes[i], 'EDGE_ERR_IMAGE_DECODE');
      assert.equal(outcomes[i + 1], 'EDGE_ERR_IMAGE_DECODE');
      assert.ok(outcomes[i + 2] === 'ok' || outcomes[i + 2] === 'EDGE_ERR_IMAGE_DECODE');
    }
    assert.equal(outcomes[90], 'ok');
  });
});
