process.env.UV_THREADPOOL_SIZE ??= '16';

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EdgeError } from '../src/errors.js';
import { createGstFrameSource } from '../src/capture/gst-frame-source.js';
import { spawnSync } from 'node:child_process';
import {
  globToRegExp,
  listSequenceFiles,
  materializeSequence,
  naturalCompare,
  sweepStaleLinkDirs,
} from '../src/capture/image-sequence.js';
import { parseSourceSpec, type ImageSequenceSpec } from '../src/capture/source-spec.js';
import type { CapturedFrame } from '../src/capture/frame-source.js';
import { sharedImage } from '@edgefleet/service-kit/testing';
import { fitInto, makeJpegs, withTempDir } from './capture-fixtures.js';

const seqSpec = (uri: string): ImageSequenceSpec => parseSourceSpec(uri) as ImageSequenceSpec;

async function drain(uri: string, side: number, limit = 100): Promise<CapturedFrame[]> {
  const source = createGstFrameSource({
    cameraId: 'seq',
    uri,
    output: { format: 'RGB', fit: fitInto(side) },
    stallTimeoutMs: 20_000,
  });
  await source.start(new AbortController().signal);
  const frames: CapturedFrame[] = [];
  try {
    for (let i = 0; i < limit; i++) {
      const f = await source.next();
      if (f === null) break;
      frames.push(f);
    }
    assert.equal(source.status().lastError, null);
  } finally {
    await source.stop();
  }
  return frames;
}

/** Where the bright ball is, as a fraction of the frame: tells the pattern's frames apart at any scale. */
function ballAt(f: CapturedFrame): [number, number] {
  const { data, width, height } = f.frame;
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      if (data[i]! + data[i + 1]! + data[i + 2]! > 600) {
        sx += x;
        sy += y;
        n += 1;
      }
    }
  }
  assert.ok(n > 0, 'the ball is visible');
  return [sx / n / width, sy / n / height];
}

const digest = (f: CapturedFrame): string => createHash('sha1').update(f.frame.data).digest('hex');

describe('image sequence listing', () => {
  it('sorts in natural order and matches * globs within names', async () => {
    assert.deepEqual(['img-10.jpg', 'img-2.jpg', 'img-1.jpg'].sort(naturalCompare), [
      'img-1.jpg',
      'img-2.jpg',
      'img-10.jpg',
    ]);
    assert.ok(globToRegExp('cam1-*.jpg').test('cam1-0001.jpg'));
    assert.ok(!globToRegExp('cam1-*.jpg').test('cam2-0001.jpg'));
    assert.ok(!globToRegExp('a.b*').test('axb1'), 'dots are literal');
    await withTempDir(async (dir) => {
      for (const n of ['f10.jpg', 'f2.jpg', 'f1.JPG', 'notes.txt', 'g1.jpg']) await writeFile(join(dir, n), 'x');
      await mkdir(join(dir, 'sub.jpg'));
      const all = await listSequenceFiles(seqSpec(`dir://${dir}`));
      assert.deepEqual(
        all.files.map((f) => f.slice(dir.length + 1)),
        ['f1.JPG', 'f2.jpg', 'f10.jpg', 'g1.jpg'],
      );
      const some = await listSequenceFiles(seqSpec(`file://${dir}/f*.jpg`));
      assert.deepEqual(
        some.files.map((f) => f.slice(dir.length + 1)),
        ['f2.jpg', 'f10.jpg'],
      );
    });
  });

  it('fails clearly on a missing or empty directory and on mixed JPEG/PNG', async () => {
    await withTempDir(async (dir) => {
      await assert.rejects(
        listSequenceFiles(seqSpec(`dir://${dir}/nope`)),
        (e: unknown) =>
          e instanceof EdgeError && e.code === 'EDGE_ERR_SOURCE_UNAVAILABLE' && /cannot be read/.test(e.message),
      );
      await assert.rejects(listSequenceFiles(seqSpec(`dir://${dir}`)), /has no \.jpg\/\.jpeg\/\.png files/);
      await writeFile(join(dir, 'a.jpg'), 'x');
      await writeFile(join(dir, 'b.png'), 'x');
      await assert.rejects(
        listSequenceFiles(seqSpec(`dir://${dir}`)),
        (e: unknown) =>
          e instanceof EdgeError && e.code === 'EDGE_ERR_SOURCE_URI' && /mixes JPEG and PNG/.test(e.message),
      );
    });
  });

  it('lays the files out as numbered links and removes them on dispose()', async () => {
    await withTempDir(async (dir) => {
      await makeJpegs(dir, 3, 160, 120);
      const seq = await materializeSequence(seqSpec(`dir://${dir}`));
      try {
        assert.equal(seq.count, 3);
        assert.equal(seq.codec, 'jpeg');
        assert.deepEqual(seq.size, { width: 160, height: 120 });
        assert.match(seq.location, new RegExp(`edgefleet-seq-${process.pid}-[^/]+/frame-%06d\\.jpg$`));
        const linkDir = seq.location.slice(0, seq.location.lastIndexOf('/'));
        assert.deepEqual(await readdir(linkDir), ['frame-000000.jpg', 'frame-000001.jpg', 'frame-000002.jpg']);
        await seq.dispose();
        await assert.rejects(readdir(linkDir), /ENOENT/);
      } finally {
        await seq.dispose();
      }
    });
  });

  it('sweeps link directories left behind by dead processes only', async () => {
    await withTempDir(async (root) => {
      const dead = spawnSync(process.execPath, ['-e', '']).pid!;
      for (const name of [
        `edgefleet-seq-${dead}-aaa`,
        `edgefleet-seq-${process.pid}-bbb`,
        `edgefleet-seq-${process.ppid}-ccc`,
        'other-dir',
      ]) {
        await mkdir(join(root, name));
      }
      assert.deepEqual(await sweepStaleLinkDirs(root), [`edgefleet-seq-${dead}-aaa`]);
      assert.deepEqual(
        (await readdir(root)).sort(),
        [`edgefleet-seq-${process.pid}-bbb`, `edgefleet-seq-${process.ppid}-ccc`, 'other-dir'].sort(),
      );
    });
  });
});

describe('image sequence source', () => {
  it('delivers every image in order, scaled by GStreamer to the letterbox size', async () => {
    await withTempDir(async (dir) => {
      await makeJpegs(dir, 5, 320, 240);
      // The same sequence at native size (fit = identity) gives the reference order of the images.
      const native = await drain(`dir://${dir}`, 320);
      const frames = await drain(`file://${dir}/img-*.jpg`, 160);
      assert.equal(frames.length, 5);
      assert.deepEqual(
        frames.map((f) => f.frameId),
        [0, 1, 2, 3, 4],
      );
      for (const f of frames) {
        assert.deepEqual(
          [f.frame.width, f.frame.height, f.frame.sourceWidth, f.frame.sourceHeight],
          [160, 120, 320, 240],
        );
        assert.equal(f.frame.data.length, 160 * 120 * 3);
        assert.equal(f.frame.format, 'RGB');
      }
      assert.equal(native.length, 5);
      assert.equal(
        new Set(
          native.map((f) =>
            ballAt(f)
              .map((v) => v.toFixed(2))
              .join(),
          ),
        ).size,
        5,
        'five distinct images',
      );
      // The ball sits at the same relative place in each scaled frame as in the native one: same order.
      native.forEach((n, i) => {
        const [nx, ny] = ballAt(n);
        const [sx, sy] = ballAt(frames[i]!);
        assert.ok(Math.abs(nx - sx) < 0.03 && Math.abs(ny - sy) < 0.03, `frame ${i} out of order`);
      });
    });
  });

  it('keeps each frame at its native size when the images differ in size', async () => {
    const shared = sharedImage();
    await withTempDir(async (dir) => {
      // horses.jpg is 773 px wide: rows of 2319 bytes that GStreamer pads to 2320.
      for (const n of ['dog.jpg', 'horses.jpg', 'person.jpg']) await copyFile(join(shared, n), join(dir, n));
      const frames = await drain(`dir://${dir}`, 320);
      assert.deepEqual(
        frames.map((f) => [
          f.frame.width,
          f.frame.height,
          f.frame.sourceWidth,
          f.frame.sourceHeight,
          f.frame.data.length,
        ]),
        [
          [768, 576, 768, 576, 768 * 576 * 3],
          [773, 512, 773, 512, 773 * 512 * 3],
          [640, 424, 640, 424, 640 * 424 * 3],
        ],
      );
    });
  });

  it('loops over the sequence when asked to', async () => {
    await withTempDir(async (dir) => {
      await makeJpegs(dir, 3, 64, 48);
      const frames = await drain(`dir://${dir}?loop=true`, 32, 10);
      assert.equal(frames.length, 10);
      assert.equal(new Set(frames.slice(0, 3).map(digest)).size, 3);
      assert.deepEqual(frames.slice(3, 6).map(digest), frames.slice(0, 3).map(digest), 'second pass = first pass');
      assert.equal(digest(frames[9]!), digest(frames[0]!));
    });
  });
});
