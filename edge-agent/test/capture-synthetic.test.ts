process.env.UV_THREADPOOL_SIZE ??= '16';

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createSceneStream } from '@edgefleet/scenes';
import type { PixelFormat, RgbFrame } from '@edgefleet/vision';
import { createFrameSource, frameOutputFor } from '../src/capture/create-frame-source.js';
import { gst } from '../src/capture/gst-binding.js';
import {
  createGstFrameSource as create,
  type CreateGstFrameSourceOptions,
  type GstFrameSource,
} from '../src/capture/gst-frame-source.js';
import { buildPipelineDescription, type FitFn, type PipelineSource } from '../src/capture/pipeline-description.js';
import { isLiveSpec, parseSourceSpec, type SourceSpec, type SyntheticSpec } from '../src/capture/source-spec.js';
import { parseConfig } from '../src/config/load-config.js';
import { EdgeError } from '../src/errors.js';
import { silentLogger } from '@edgefleet/service-kit';
import { sleep, waitFor } from './capture-fixtures.js';

// A failed assertion must not leave a pipeline (or a render worker) running.
const started: GstFrameSource[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

function createGstFrameSource(options: CreateGstFrameSourceOptions): GstFrameSource {
  const source = create(options);
  started.push(source);
  return source;
}

/** What a 640x640 model asks for: letterbox content size, RGB. */
const MODEL_640 = frameOutputFor({ inputWidth: 640, inputHeight: 640, pixelFormat: 'RGB' });
/** Frames at their native size: GStreamer passes pixels through untouched (exact comparisons). */
const NATIVE: FitFn = (width, height) => ({ width, height });

function synthetic(uri: string, options?: Parameters<typeof parseSourceSpec>[1]): SyntheticSpec {
  const spec: SourceSpec = parseSourceSpec(uri, options);
  assert.equal(spec.kind, 'synthetic');
  return spec as SyntheticSpec;
}

function uriError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EdgeError, `expected an EdgeError, got ${String(err)}`);
    assert.equal(err.code, 'EDGE_ERR_SOURCE_URI');
    assert.match(err.message, message);
    return true;
  });
}

function meanBrightness(frame: RgbFrame): number {
  let sum = 0;
  for (const v of frame.data) sum += v;
  return sum / frame.data.length;
}

async function nextFrame(source: GstFrameSource) {
  const captured = await source.next();
  assert.ok(captured !== null, 'source ended unexpectedly');
  const truth = source.groundTruth(captured.frameId);
  assert.ok(truth !== undefined, `no ground truth for frame ${captured.frameId}`);
  return { ...captured, truth };
}

function activeCount(kind: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === kind).length;
}

describe('synthetic:// source spec', () => {
  it('parses the schedule, seed, size and rate from the query, with defaults, and lets options win', () => {
    const s = synthetic('synthetic://?schedule=day:300,fog:300~30&seed=7&width=320&height=240&fps=5');
    assert.deepEqual(
      { schedule: s.schedule, seed: s.seed, width: s.width, height: s.height, fps: s.fps, loop: s.loop },
      { schedule: 'day:300,fog:300~30', seed: 7, width: 320, height: 240, fps: 5, loop: false },
    );
    assert.equal(s.displayUri, 'synthetic://?schedule=day:300,fog:300~30&seed=7&width=320&height=240&fps=5');
    assert.ok(isLiveSpec(s));
    const d = synthetic('synthetic://');
    assert.deepEqual([d.seed, d.width, d.height, d.fps, d.loop], [0, 640, 480, 10, false]);
    assert.match(d.schedule, /^day:\d+$/);
    const o = synthetic('synthetic://?seed=1&fps=10', { seed: 9, fps: 2, schedule: 'night:5', loop: true });
    assert.deepEqual([o.seed, o.fps, o.schedule, o.loop], [9, 2, 'night:5', true]);
  });

  it('keeps a + in the query as a domain mix instead of reading it as a space', () => {
    assert.equal(synthetic('synthetic://?schedule=night@0.5+fog@0.5:60').schedule, 'night@0.5+fog@0.5:60');
  });

  it('rejects bad schedules with EDGE_ERR_SOURCE_URI naming the problem', () => {
    uriError(
      () => parseSourceSpec('synthetic://?schedule=day:300,fgo:300'),
      /bad schedule 'day:300,fgo:300'.*unknown domain "fgo"/,
    );
    uriError(() => parseSourceSpec('synthetic://?schedule=day'), /segment 1 "day" needs DOMAIN:DURATION_S/);
    uriError(() => parseSourceSpec('synthetic://?schedule=day:abc'), /duration must be a positive number/);
    uriError(
      () => parseSourceSpec('synthetic://', { schedule: 'day:10,fog:10~20' }),
      /transition must be within 0\.\.duration/,
    );
    uriError(() => parseSourceSpec('synthetic://?schedule='), /empty schedule/);
    uriError(() => parseSourceSpec('synthetic://?schedule=night@2:10'), /intensity of night must be within 0\.\.1/);
  });

  it('rejects sizes, rates, seeds and options the renderer cannot take', () => {
    uriError(() => parseSourceSpec('synthetic://?width=4'), /width must be an integer in 8\.\.8192/);
    uriError(() => parseSourceSpec('synthetic://?fps=500'), /at most 240/);
    uriError(() => parseSourceSpec('synthetic://?seed=-1'), /seed must be an integer in 0\.\.4294967295/);
    uriError(() => parseSourceSpec('synthetic://?seed=x'), /parameter seed must be a number/);
    uriError(
      () => parseSourceSpec('synthetic://?pattern=ball'),
      /option 'pattern' does not apply to synthetic sources/,
    );
    uriError(() => parseSourceSpec('synthetic://street?seed=1'), /expected synthetic:\/\/\?schedule=/);
    uriError(() => parseSourceSpec('testsrc://?seed=1'), /option 'seed' does not apply to testsrc sources/);
  });

  it('is built as a live appsrc with fixed caps and fit caps from the start, and GStreamer parses it', () => {
    const spec = synthetic('synthetic://?width=322&height=240&fps=7.5');
    const desc = buildPipelineDescription(spec as PipelineSource, { format: 'BGR', size: { width: 640, height: 477 } });
    assert.equal(
      desc,
      'appsrc name=src is-live=true format=time do-timestamp=true caps="video/x-raw,format=RGB,width=322,height=240,framerate=15/2,pixel-aspect-ratio=1/1" ! ' +
        'videoscale add-borders=false ! videoconvert ! capsfilter name=fit caps="video/x-raw,format=BGR,pixel-aspect-ratio=1/1,width=640,height=477" ! ' +
        'appsink name=sink max-buffers=1 drop=true sync=false enable-last-sample=false',
    );
    const pipeline = new (gst().Pipeline)(desc);
    assert.equal(typeof pipeline.findChild('src')?.push, 'function');
  });

  it('config: the schema takes schedule and seed, and a bad schedule fails with EDGE_ERR_SOURCE_URI when the camera is built', () => {
    const config = parseConfig({
      deviceId: 'd',
      model: { path: '/m.onnx' },
      cameras: [
        { id: 'ok', uri: 'synthetic://', schedule: 'day:60,rain:60~10', seed: 3, width: 320, height: 240 },
        { id: 'typo', uri: 'synthetic://?schedule=day:60,nigth:60' },
      ],
    });
    const fit = async () => ({ inputWidth: 640, inputHeight: 640, pixelFormat: 'RGB' as const });
    const ok = createFrameSource(config.cameras[0]!, { logger: silentLogger, fit });
    assert.equal(ok.status().state, 'stopped');
    uriError(() => createFrameSource(config.cameras[1]!, { logger: silentLogger, fit }), /unknown domain "nigth"/);
    assert.throws(
      () =>
        parseConfig({
          deviceId: 'd',
          model: { path: '/m.onnx' },
          cameras: [{ id: 'c', uri: 'synthetic://', seed: -1, schedule: '' }],
        }),
      (err: unknown) => {
        assert.ok(err instanceof EdgeError);
        assert.equal(err.code, 'EDGE_ERR_CONFIG_INVALID');
        const problems = (err.details as string[]).join('\n');
        assert.match(problems, /\/cameras\/0\/seed/);
        assert.match(problems, /\/cameras\/0\/schedule/);
        return true;
      },
    );
  });
});

describe('synthetic:// source (real GStreamer)', () => {
  it('delivers frames at the letterbox size of a 640x640 model and follows the schedule from day through a transition to night', async () => {
    const source = createGstFrameSource({
      cameraId: 'street',
      uri: 'synthetic://?schedule=day:1,night:2~1&seed=7&width=640&height=480&fps=10',
      output: MODEL_640,
    });
    await source.start(new AbortController().signal);
    const day: number[] = [];
    const night: number[] = [];
    const transitions: string[] = [];
    let lastIndex = -1;
    for (;;) {
      const { frame, truth } = await nextFrame(source);
      assert.deepEqual(
        [frame.width, frame.height, frame.sourceWidth, frame.sourceHeight, frame.format],
        [640, 480, 640, 480, 'RGB'],
      );
      assert.ok(truth.index > lastIndex, 'stream indices increase');
      lastIndex = truth.index;
      if (truth.domain === 'day') day.push(meanBrightness(frame));
      else if (truth.domain === 'night') night.push(meanBrightness(frame));
      else transitions.push(truth.domain);
      // Night starts at 1 s and is complete at 2 s (index 20 at 10 fps).
      if (night.length >= 2) break;
      assert.ok(truth.index < 100, `no night frame by stream index ${truth.index}`);
    }
    assert.ok(day.length > 0, 'the first second is day');
    for (const label of transitions) assert.match(label, /^day->night \d+%$/);
    assert.ok(transitions.length > 0, 'frames of the fade from day to night are labelled as such');
    const dayMean = day.reduce((a, b) => a + b) / day.length;
    const nightMean = night.reduce((a, b) => a + b) / night.length;
    assert.ok(
      nightMean < dayMean * 0.4,
      `night frames (mean ${nightMean.toFixed(1)}) should be much darker than day frames (${dayMean.toFixed(1)})`,
    );
    const status = source.status();
    assert.equal(status.domain, 'night');
    assert.equal(status.state, 'running');
    assert.equal(status.source, 'synthetic://?schedule=day:1,night:2~1&seed=7&width=640&height=480&fps=10');
  });

  for (const format of ['RGB', 'BGR'] as const satisfies readonly PixelFormat[]) {
    it(`passes the rendered pixels and labels through exactly at a width whose rows GStreamer pads (322 px, ${format})`, async () => {
      const options = { schedule: 'day:60', seed: 11, width: 322, height: 98, fps: 10 };
      const source = createGstFrameSource({
        cameraId: `exact-${format}`,
        uri: `synthetic://?schedule=${options.schedule}&seed=${options.seed}&width=${options.width}&height=${options.height}&fps=${options.fps}`,
        output: { format, fit: NATIVE },
      });
      await source.start(new AbortController().signal);
      const { schedule, ...size } = options;
      const reference = createSceneStream({ domainSchedule: schedule, ...size });
      for (let i = 0; i < 3; i++) {
        const { frame, truth } = await nextFrame(source);
        assert.deepEqual([frame.width, frame.height], [322, 98]);
        const expected = reference.frameAt(truth.index);
        const rgb = Buffer.from(expected.data);
        if (format === 'BGR') for (let p = 0; p < rgb.length; p += 3) [rgb[p], rgb[p + 2]] = [rgb[p + 2]!, rgb[p]!];
        assert.ok(
          Buffer.from(frame.data).equals(rgb),
          `frame ${truth.index}: pixels differ from the scene generator's`,
        );
        assert.deepEqual(truth.labels, expected.labels);
        assert.equal(truth.streamTimeMs, expected.timestampMs);
      }
    });
  }

  it('is deterministic for a seed: two cameras with the same seed deliver identical first frames, another seed differs', async () => {
    const uri = (seed: number) => `synthetic://?schedule=day:60&seed=${seed}&width=160&height=120&fps=10`;
    const sources = [1, 1, 2].map((seed, i) =>
      createGstFrameSource({ cameraId: `seed-${i}`, uri: uri(seed), output: MODEL_640 }),
    );
    await Promise.all(sources.map((s) => s.start(new AbortController().signal)));
    const [a, b, c] = await Promise.all(sources.map((s) => nextFrame(s)));
    assert.deepEqual([a!.truth.index, b!.truth.index, c!.truth.index], [0, 0, 0]);
    assert.deepEqual([a!.frame.width, a!.frame.height], [640, 480]);
    assert.ok(Buffer.from(a!.frame.data).equals(Buffer.from(b!.frame.data)), 'same seed, same pixels');
    assert.deepEqual(a!.truth.labels, b!.truth.labels);
    assert.ok(!Buffer.from(a!.frame.data).equals(Buffer.from(c!.frame.data)), 'another seed, another street');
  });

  it('keeps one frame for a slow consumer and counts the drops', async () => {
    const source = createGstFrameSource({
      cameraId: 'slow',
      uri: 'synthetic://?width=160&height=120&fps=30',
      output: MODEL_640,
    });
    await source.start(new AbortController().signal);
    let consumed = 0;
    for (let i = 0; i < 8; i++) {
      await nextFrame(source);
      consumed += 1;
      await sleep(150); // ~6.7 fps consumer of a 30 fps camera
    }
    const s = source.status();
    const pending = s.framesCaptured - consumed - s.framesDropped;
    assert.ok(s.framesDropped > 0, `dropped ${s.framesDropped}`);
    assert.ok(
      pending === 0 || pending === 1,
      `captured ${s.framesCaptured} = consumed ${consumed} + dropped ${s.framesDropped} + pending 0 or 1`,
    );
    assert.equal(s.framesDelivered, consumed);
    assert.equal(typeof s.ticksSkipped, 'number');
  });

  it('restarts a stalled run through the supervisor and continues the stream clock', async () => {
    // 2 fps against a 300 ms stall timeout: every gap between frames is a stall.
    const source = createGstFrameSource({
      cameraId: 'stall',
      uri: 'synthetic://?width=64&height=48&fps=2',
      output: MODEL_640,
      stallTimeoutMs: 300,
      backoff: { initialMs: 50, maxMs: 50, jitter: 0 },
    });
    await source.start(new AbortController().signal);
    const first = await nextFrame(source);
    await waitFor('a restart', () => source.status().restarts >= 1);
    const after = await nextFrame(source);
    const s = source.status();
    assert.equal(s.lastErrorCode, 'EDGE_ERR_SOURCE_STALLED');
    assert.ok(
      after.truth.index > first.truth.index,
      `stream index ${after.truth.index} after the restart continues past ${first.truth.index}`,
    );
    assert.equal(s.threadsNotReleased, 0);
  });

  it('stop() leaves no timer and no render worker behind, and next() then resolves null', async () => {
    const timers = activeCount('Timeout');
    const ports = activeCount('MessagePort');
    const source = createGstFrameSource({
      cameraId: 'stop',
      uri: 'synthetic://?width=64&height=48&fps=20',
      output: MODEL_640,
    });
    await source.start(new AbortController().signal);
    await nextFrame(source);
    assert.ok(activeCount('MessagePort') > ports, 'the render worker runs');
    const pending = source.next();
    await source.stop();
    assert.equal(await pending, null);
    assert.equal(await source.next(), null);
    assert.equal(activeCount('Timeout'), timers);
    assert.equal(activeCount('MessagePort'), ports);
    assert.equal(source.status().threadsNotReleased, 0);
    assert.equal(source.status().state, 'stopped');
  });
});
