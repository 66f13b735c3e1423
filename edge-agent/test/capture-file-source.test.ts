process.env.UV_THREADPOOL_SIZE ??= '16';

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createGstFrameSource, type GstFrameSource } from '../src/capture/gst-frame-source.js';
import type { SourceOptions } from '../src/capture/source-spec.js';
import { sharedImage } from '@edgefleet/service-kit/testing';
import { fitInto, makeMjpegAvi, sleep, waitFor } from './capture-fixtures.js';

let dir = '';
let video = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgefleet-capture-file-'));
  video = join(dir, 'clip.avi');
  await makeMjpegAvi(video, 60, 320, 240, 30);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

// A failed assertion must not leave a pipeline running (it would keep the test process alive).
const started: GstFrameSource[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

function fileSource(uri: string, source: SourceOptions = {}, side = 160): GstFrameSource {
  const created = createGstFrameSource({
    cameraId: 'file',
    uri,
    source,
    output: { format: 'BGR', fit: fitInto(side) },
    backoff: { initialMs: 50, jitter: 0 },
    stallTimeoutMs: 20_000,
  });
  started.push(created);
  return created;
}

describe('video file source', () => {
  it('delivers all 60 frames on demand with no drops, scaled after the first ones', async () => {
    const source = fileSource(`file://${video}`);
    await source.start(new AbortController().signal);
    const sizes: string[] = [];
    let last = -1;
    for (;;) {
      const f = await source.next();
      if (f === null) break;
      assert.equal(f.frameId, last + 1, 'frame ids are consecutive');
      last = f.frameId;
      assert.equal(f.frame.format, 'BGR');
      assert.deepEqual([f.frame.sourceWidth, f.frame.sourceHeight], [320, 240]);
      assert.equal(f.frame.data.length, f.frame.width * f.frame.height * 3);
      sizes.push(`${f.frame.width}x${f.frame.height}`);
      // A slow consumer: on-demand decoding waits instead of dropping.
      if (f.frameId % 20 === 0) await sleep(50);
    }
    const s = source.status();
    assert.equal(sizes.length, 60);
    assert.equal(s.framesCaptured, 60);
    assert.equal(s.framesDropped, 0);
    assert.equal(s.state, 'stopped', 'a finished file stops without error');
    assert.equal(s.lastError, null);
    // Native-size frames only before the caps change has propagated, then the letterbox size for good.
    const firstScaled = sizes.indexOf('160x120');
    assert.ok(firstScaled >= 1 && firstScaled <= 3, `scaled from frame ${firstScaled}`);
    assert.ok(sizes.slice(0, firstScaled).every((x) => x === '320x240'));
    assert.ok(sizes.slice(firstScaled).every((x) => x === '160x120'));
    assert.equal(await source.next(), null, 'next() stays null after the end');
    await source.stop();
  });

  it('drops exactly what a slow consumer misses when played in real time', async () => {
    const source = fileSource(`file://${video}`, { realtime: true });
    await source.start(new AbortController().signal);
    let consumed = 0;
    for (;;) {
      const f = await source.next();
      if (f === null) break;
      consumed += 1;
      await sleep(100); // 10 fps consumer, 30 fps file
    }
    const s = source.status();
    assert.equal(s.framesCaptured, 60, 'realtime playback blocks the decoder, never the count');
    assert.ok(s.framesDropped > 0, 'the slow consumer missed frames');
    assert.equal(s.framesCaptured, consumed + s.framesDropped, 'captured = consumed + dropped (the slot was drained)');
    assert.equal(s.framesDelivered, consumed);
    await source.stop();
  });

  it('keeps producing past the end of a looping file', async () => {
    const source = fileSource(`file://${video}`, { loop: true });
    await source.start(new AbortController().signal);
    for (let i = 0; i < 150; i++) {
      const f = await source.next();
      assert.ok(f !== null, `frame ${i} of a looping file`);
      assert.equal(f.frameId, i);
    }
    const s = source.status();
    assert.equal(s.state, 'running');
    assert.equal(s.restarts, 0, 'looping seeks instead of restarting');
    await source.stop();
    assert.equal(source.status().state, 'stopped');
    assert.equal(await source.next(), null);
  });

  it('delivers a still image once, at the letterbox size from its header', async () => {
    const image = join(sharedImage(), 'horses.jpg');
    const source = fileSource(`file://${image}`, {}, 320);
    await source.start(new AbortController().signal);
    const f = await source.next();
    assert.ok(f !== null);
    assert.deepEqual([f.frame.width, f.frame.height, f.frame.sourceWidth, f.frame.sourceHeight], [320, 212, 773, 512]);
    assert.equal(await source.next(), null);
    await source.stop();
  });

  it('reports a file GStreamer cannot decode as EDGE_ERR_PIPELINE with its message, and retries', async () => {
    const junk = join(dir, 'junk.avi');
    await writeFile(junk, Buffer.alloc(4096, 7));
    const source = fileSource(`file://${junk}`);
    await source.start(new AbortController().signal);
    const pending = source.next();
    await waitFor('two restarts', () => source.status().restarts >= 2);
    const s = source.status();
    assert.equal(s.lastErrorCode, 'EDGE_ERR_PIPELINE');
    assert.match(s.lastError!, /^EDGE_ERR_PIPELINE: GStreamer pipeline failed: .+ \(from .+\)/);
    assert.equal(s.threadsNotReleased, 0);
    await source.stop();
    assert.equal(await pending, null, 'a waiting next() resolves null on stop()');
  });

  it('reports a missing file as unavailable without building a pipeline', async () => {
    const source = fileSource(`file://${join(dir, 'missing.mp4')}`);
    const failures: string[] = [];
    source.on('failure', (e) => failures.push(e.code));
    await source.start(new AbortController().signal);
    const s = source.status();
    assert.equal(s.state, 'reconnecting');
    assert.match(s.lastError!, /^EDGE_ERR_SOURCE_UNAVAILABLE: .*missing\.mp4 cannot be opened \(ENOENT\)/);
    assert.deepEqual(failures, ['EDGE_ERR_SOURCE_UNAVAILABLE']);
    await source.stop();
  });
});
