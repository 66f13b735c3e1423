/**
 * One run of one GStreamer pipeline: build, play, watch the bus, pull samples, learn the native
 * size, loop files, and tear down without leaving libuv threads blocked. Restart policy lives in
 * camera-supervisor.ts; the thread-hygiene findings this relies on are written up at the top of
 * gst-frame-source.ts.
 *
 * Two pull modes:
 * - continuous (live sources): the pull callback immediately issues the next pull, so the appsink
 *   is always drained and frames flow at the source's pace;
 * - on demand (files as fast as possible): one pull per `requestFrame()`; with appsink
 *   max-buffers=1 drop=false the decoder waits for the consumer and no decode is wasted.
 *
 * Sources rendered in JS (synthetic://) end in an appsrc: a feeder is attached after play() and
 * detached before the pipeline goes to NULL, so no timer or push outlives the run; each sample
 * that comes out is matched with what the feeder pushed (it keeps at most one frame in flight).
 */
import { redactUrl } from '@edgefleet/service-kit';
import type { PixelFormat, RgbFrame } from '@edgefleet/vision';
import { describeError, EdgeError } from '../errors.js';
import type { Clock } from '@edgefleet/service-kit';
import {
  asAppSink,
  gst,
  SEEK_FLAG_FLUSH,
  type GstAppSink,
  type GstAppSrc,
  type GstBusMessage,
  type GstElement,
  type GstPipeline,
  type GstSampleCaps,
} from './gst-binding.js';
import {
  buildPipelineDescription,
  FIT_ELEMENT,
  fitCaps,
  isLiveDevice,
  keepsNativeSize,
  knownSourceSize,
  SINK_ELEMENT,
  SOURCE_ELEMENT,
  type FitFn,
  type PipelineSource,
  type Size,
} from './pipeline-description.js';
import { sampleSize, sampleToRgbFrame } from './rgb-sample.js';
import type { AppSrcFeeder, SyntheticFrameInfo } from './synthetic-feeder.js';

export interface SessionListener {
  /** `fed`: what the feeder pushed for this frame (synthetic sources), else null. */
  onFrame(frame: RgbFrame, capturedAtMs: number, fed: SyntheticFrameInfo | null): void;
  /** The run cannot continue (bus error, EOS of a live source, bad sample). Called at most once. */
  onFailure(error: EdgeError): void;
  /** A non-looping file or image sequence reached its end. Called at most once. */
  onFinished(): void;
}

export interface PipelineSessionDeps {
  readonly source: PipelineSource;
  readonly format: PixelFormat;
  readonly fit: FitFn;
  /** Continuous pull loop (live) instead of one pull per requestFrame(). */
  readonly continuous: boolean;
  readonly listener: SessionListener;
  readonly timers: Clock;
  /** Pushes frames into the pipeline's appsrc (synthetic sources); required for them, unused otherwise. */
  readonly feeder?: AppSrcFeeder;
  /** How long close() waits for the blocked pull/bus threads to come back before giving up on them. */
  readonly releaseTimeoutMs?: number;
}

export class GstPipelineSession {
  private pipeline: GstPipeline | null = null;
  private sink: GstAppSink | null = null;
  private fitElement: GstElement | null = null;
  private feederAttached = false;
  private native: Size | null = null;
  private fitLocked = false;
  private closed = false;
  private ended = false;
  private pullPending = false;
  private busPolling = false;
  private waiting: number | null = null;
  private framesSinceSeek = 0;
  private samplesPulled = 0;
  private releaseWaiters: (() => void)[] = [];
  private closing: Promise<ThreadRelease> | null = null;

  constructor(private readonly deps: PipelineSessionDeps) {}

  /** The gst-launch description this session runs (also useful in logs). */
  description(): string {
    const known = knownSourceSize(this.deps.source);
    return buildPipelineDescription(this.deps.source, {
      format: this.deps.format,
      size: known === null ? null : this.checkedFit(known),
    });
  }

  /**
   * Parse and play. Parse failures (unknown element, bad property) throw EDGE_ERR_PIPELINE;
   * everything later arrives through the listener.
   */
  open(): void {
    if (this.pipeline !== null || this.closed) throw new Error('GstPipelineSession.open() called twice');
    const known = knownSourceSize(this.deps.source);
    if (known !== null) {
      this.native = known;
      this.fitLocked = true;
    }
    if (keepsNativeSize(this.deps.source)) this.fitLocked = true;
    const description = this.description();
    let pipeline: GstPipeline;
    try {
      pipeline = new (gst().Pipeline)(description);
    } catch (err) {
      throw new EdgeError('EDGE_ERR_PIPELINE', `cannot build pipeline: ${(err as Error).message}`, { cause: err });
    }
    const sink = asAppSink(pipeline.findChild(SINK_ELEMENT));
    const fitElement = pipeline.findChild(FIT_ELEMENT) ?? null;
    if (sink === null || fitElement === null) {
      throw new EdgeError(
        'EDGE_ERR_PIPELINE',
        `pipeline has no appsink '${SINK_ELEMENT}' or capsfilter '${FIT_ELEMENT}'`,
      );
    }
    let appsrc: GstAppSrc | null = null;
    if (this.deps.source.kind === 'synthetic') {
      const src = pipeline.findChild(SOURCE_ELEMENT);
      // Checked before play(): a pipeline that never played needs no teardown.
      if (this.deps.feeder === undefined || src === undefined || typeof src.push !== 'function') {
        throw new EdgeError('EDGE_ERR_PIPELINE', `synthetic source needs a feeder and an appsrc '${SOURCE_ELEMENT}'`);
      }
      appsrc = src as GstAppSrc;
    }
    // Keep messages posted while going to NULL: they are what wakes the blocked bus poll on close().
    pipeline['auto-flush-bus'] = false;
    this.pipeline = pipeline;
    this.sink = sink;
    this.fitElement = fitElement;
    pipeline.play();
    // After play(): messages posted by a failing state change are queued on the bus, not lost.
    this.busPolling = true;
    pipeline.pollBus((msg) => this.onBusMessage(msg));
    // Live: a frame is awaited from now on. On demand: only once next() asks (requestFrame).
    if (this.deps.continuous) {
      this.waiting = this.deps.timers.now();
      this.pull();
    }
    if (appsrc !== null && this.deps.feeder !== undefined) {
      this.feederAttached = true;
      this.deps.feeder.attach(appsrc, (error) => this.fail(error));
    }
  }

  /** On-demand mode: ask for one more sample (no-op while one is pending or after the end). */
  requestFrame(): void {
    if (this.deps.continuous || this.pullPending || this.closed || this.ended) return;
    this.waiting = this.deps.timers.now();
    this.pull();
  }

  /** Since when a frame has been awaited (wall-clock ms), or null when nobody waits (stall detection). */
  waitingSince(): number | null {
    return this.closed || this.ended ? null : this.waiting;
  }

  /**
   * Set state NULL (an appsink in NULL is flushing, so a pending pull returns null) and wait until
   * the pull and bus threads have come back. Idempotent; safe to call from inside a callback.
   */
  close(): Promise<ThreadRelease> {
    if (this.closing !== null) return this.closing;
    this.closed = true;
    // No push into a pipeline going to NULL, no feeder timer left behind.
    if (this.feederAttached) {
      this.feederAttached = false;
      this.deps.feeder?.detach();
    }
    this.pipeline?.stop();
    this.closing = this.waitForRelease().then((release) => {
      if (release.released) this.releaseRetainedSample();
      return release;
    });
    return this.closing;
  }

  /**
   * appsink keeps the last pulled sample across stop() (only its start() drops it), and a buffer
   * pool deactivated while one of its buffers is out frees none of them: the abandoned pipeline
   * would pin the converter's whole output pool (measured ~5.7 MB per restart at 1280x960 RGB,
   * 0.3 MB with this step). Cycling through PAUSED runs appsink's start(); the source is pointed at
   * nothing first so that it opens no file, device or connection on the way. Only after both
   * threads are back (no poll left to wake) and not for CSI (nvarguscamerasrc would open the sensor).
   */
  private releaseRetainedSample(): void {
    const pipeline = this.pipeline;
    if (pipeline === null || this.samplesPulled === 0) return;
    const inert = INERT_SOURCE[this.deps.source.kind];
    if (inert === null) return;
    const src = pipeline.findChild(SOURCE_ELEMENT);
    if (src === undefined) return;
    if (inert !== undefined) src[inert[0]] = inert[1];
    // Messages of this last cycle are flushed on its way back to NULL (nobody polls any more).
    pipeline['auto-flush-bus'] = true;
    pipeline.pause();
    pipeline.stop();
  }

  private pull(): void {
    const sink = this.sink;
    if (sink === null || this.closed) return;
    this.pullPending = true;
    sink.pull((buf, caps) => this.onSample(buf, caps));
  }

  private onSample(buf: Buffer | null, caps: GstSampleCaps): void {
    this.pullPending = false;
    if (buf !== null) this.samplesPulled += 1;
    if (this.closed) {
      this.checkReleased();
      return;
    }
    if (buf === null) {
      this.onEndOfStream();
      return;
    }
    // Samples leave in the order frames were pushed, one per push: take this one's record first.
    const fed = this.feederAttached ? (this.deps.feeder?.sampleOut() ?? null) : null;
    const now = this.deps.timers.now();
    let frame: RgbFrame;
    try {
      // Mixed-size image sequences: every frame is its own native size.
      if (this.native === null || keepsNativeSize(this.deps.source)) this.native = sampleSize(caps);
      frame = sampleToRgbFrame(buf, caps, this.deps.format, this.native);
      if (!this.fitLocked) this.lockFitSize(this.native);
    } catch (err) {
      this.fail(
        err instanceof EdgeError ? err : new EdgeError('EDGE_ERR_PIPELINE', describeError(err), { cause: err }),
      );
      return;
    }
    this.framesSinceSeek += 1;
    this.waiting = this.deps.continuous ? now : null;
    this.deps.listener.onFrame(frame, now, fed);
    if (this.deps.continuous && !this.closed) this.pull();
  }

  /**
   * The native size is known from the first sample: fix the fit caps to the letterbox size so
   * GStreamer renegotiates and videoscale does the scaling from the next buffers on (frames already
   * queued still come at native size; RgbFrame says so through width/height).
   */
  private lockFitSize(native: Size): void {
    this.fitLocked = true;
    const size = this.checkedFit(native);
    if (this.fitElement !== null) this.fitElement.caps = fitCaps(this.deps.format, size);
  }

  private checkedFit(native: Size): Size {
    const size = this.deps.fit(native.width, native.height);
    fitCaps(this.deps.format, size); // throws RangeError on a non-integer or empty size
    return size;
  }

  private onEndOfStream(): void {
    const source = this.deps.source;
    if (isLiveDevice(source)) {
      this.fail(new EdgeError('EDGE_ERR_SOURCE_EOS', `${source.displayUri} sent end-of-stream`));
      return;
    }
    if (source.kind === 'file' && source.loop) {
      // A file that ends twice without a frame in between would spin: treat it as broken.
      if (this.framesSinceSeek === 0) {
        this.fail(new EdgeError('EDGE_ERR_SOURCE_EOS', `${source.displayUri} produced no frames before its end`));
        return;
      }
      this.framesSinceSeek = 0;
      if (this.pipeline?.seek(0, SEEK_FLAG_FLUSH) !== true) {
        this.fail(
          new EdgeError('EDGE_ERR_SOURCE_EOS', `${source.displayUri} ended and seeking back to its start failed`),
        );
        return;
      }
      this.pull();
      return;
    }
    if (source.loop) {
      // multifilesrc loops by itself; an end here means a file went missing mid-loop.
      this.fail(new EdgeError('EDGE_ERR_SOURCE_EOS', `${source.displayUri} ended although it loops`));
      return;
    }
    this.ended = true;
    this.deps.listener.onFinished();
  }

  private onBusMessage(msg: GstBusMessage): void {
    if (!this.closed && msg.type === 'error') {
      const from = msg.name ?? msg._src_element_name ?? 'pipeline';
      // An element's error text may quote its location (the camera URI): shown with credentials masked.
      const why = redactUrl(msg.message ?? 'unknown error');
      this.fail(new EdgeError('EDGE_ERR_PIPELINE', `${why} (from ${from})`));
    }
    // The binding re-polls only while the pipeline is not in NULL: once closed (possibly just now,
    // by fail() → listener → close()), this callback was the last one and its thread is free.
    if (this.closed) {
      this.busPolling = false;
      this.checkReleased();
    }
  }

  private fail(error: EdgeError): void {
    if (this.closed || this.ended) return;
    this.ended = true;
    this.deps.listener.onFailure(error);
  }

  private checkReleased(): void {
    if (this.pullPending || this.busPolling) return;
    const waiters = this.releaseWaiters;
    this.releaseWaiters = [];
    for (const w of waiters) w();
  }

  private waitForRelease(): Promise<ThreadRelease> {
    if (this.pipeline === null) return Promise.resolve({ released: true, pull: false, bus: false });
    return new Promise((resolve) => {
      const timeoutMs = this.deps.releaseTimeoutMs ?? 2000;
      const timer = this.deps.timers.setTimeout(() => {
        this.releaseWaiters = [];
        resolve({ released: false, pull: this.pullPending, bus: this.busPolling });
      }, timeoutMs);
      this.releaseWaiters.push(() => {
        this.deps.timers.clearTimeout(timer);
        resolve({ released: true, pull: false, bus: false });
      });
      this.checkReleased();
    });
  }
}

/** Outcome of close(): whether the pull and bus threads came back, and if not which one is still blocked. */
export interface ThreadRelease {
  readonly released: boolean;
  readonly pull: boolean;
  readonly bus: boolean;
}

/** Property that makes each source kind's element open nothing (undefined: nothing to change; null: skip the release step). */
const INERT_SOURCE: Readonly<Record<PipelineSource['kind'], readonly [string, string] | undefined | null>> = {
  file: ['location', ''],
  image: ['location', ''],
  'image-sequence': ['location', ''],
  // A syntactically valid URI (an empty one is refused and the old one kept) on a closed local port.
  rtsp: ['location', 'rtsp://127.0.0.1:1/released'],
  v4l2: ['device', ''],
  testsrc: undefined,
  // appsrc opens nothing; the feeder has been detached before the release step.
  synthetic: undefined,
  csi: null,
};
