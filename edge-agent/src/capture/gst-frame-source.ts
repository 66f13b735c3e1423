/**
 * GstFrameSource: a FrameSource backed by one GStreamer pipeline per camera (rebuilt on restart),
 * supervised with backoff and stall detection.
 *
 * Thread and memory hygiene with gstreamer-superficial 1.7.4 on GStreamer 1.22 (measured; the
 * scripts were throw-away, the behaviours are covered by capture-*.test.ts):
 * - `appsink.pull()` blocks one libuv threadpool thread in gst_app_sink_pull_sample(). After
 *   `pipeline.stop()` (state NULL, appsink flushing) a pending pull's callback fires at once with
 *   buf=null, and a pull issued afterwards returns null immediately: no thread stays blocked.
 * - `pollBus()` blocks one thread in gst_bus_timed_pop(FOREVER) and, after each message, re-polls
 *   only if the pipeline is not in NULL when the JS callback returns. stop() from PLAYING posts
 *   state-changed messages, which wake it, and the callback then sees NULL: the thread returns.
 *   With the default auto-flush-bus=true, though, a pipeline left in READY by a failed play()
 *   (filesrc on a missing file) posts nothing that survives READY→NULL (the bus is set flushing
 *   first) and the poll thread stayed blocked forever (the process never exited): one leaked
 *   thread per restart. So sessions set auto-flush-bus=false, call pollBus() only after play(),
 *   and close a run synchronously from inside the error callback; close() then waits (bounded) for
 *   the pull and bus callbacks and reports a thread it could not get back.
 * - A pipeline whose play() fails already at NULL→READY (v4l2src on a missing device) stays in
 *   NULL, so the poll ends after its first message, before the error: the preflight checks
 *   (source-preflight.ts) catch those sources first; otherwise the stall watchdog restarts them.
 * - The binding never unrefs a pipeline (pollBus() Ref()s the wrapper, ~Pipeline is empty), so a
 *   rebuilt pipeline leaks its stopped predecessor (~100 KB for RTSP, ~300 KB for a decodebin file
 *   pipeline), and the predecessor pinned its last output buffer pool until the release step in
 *   gst-pipeline-session.ts (~5.7 MB → 0.3 MB per restart at 1280x960). Pipelines cannot simply
 *   be reused: gst-launch's delayed links (rtspsrc/decodebin pads) are one-shot, and a replayed
 *   decodebin pipeline never links again. Preflight keeps dead cameras from building pipelines.
 *
 * Threads needed: one bus poll per camera plus one pull per live camera (a non-live file pulls only
 * while next() waits): see requiredThreadpoolSize(). A synthetic camera adds one worker thread (its
 * scene renderer, outside the libuv pool), which lives until stop().
 */
import type { PixelFormat, RgbFrame } from '@edgefleet/vision';
import { describeError, EdgeError } from '../errors.js';
import {
  CameraSupervisor,
  type FailureInfo,
  type RunCallbacks,
  type SupervisedRun,
  type SupervisorSnapshot,
} from './camera-supervisor.js';
import { CaptureEvents, type CaptureEventMap } from './capture-events.js';
import { Backoff, type BackoffOptions, type Clock, systemClock } from '@edgefleet/service-kit';
import type { CameraStatus, CapturedFrame, FrameSource } from './frame-source.js';
import { GstPipelineSession } from './gst-pipeline-session.js';
import { readImageHeader } from './image-header.js';
import { materializeSequence, type MaterializedSequence } from './image-sequence.js';
import type { FitFn, PipelineSource } from './pipeline-description.js';
import { preflightSource } from './source-preflight.js';
import { isLiveSpec, parseSourceSpec, type SourceOptions, type SourceSpec } from './source-spec.js';
import { SyntheticFeeder, type SyntheticFrameInfo } from './synthetic-feeder.js';

/** libuv's own ceiling for UV_THREADPOOL_SIZE. */
const UV_THREADPOOL_MAX = 1024;

/**
 * Threadpool size for `cameraCount` cameras: two parked threads per camera (bus poll and pull)
 * plus `reserve` for everything else that uses the pool (fs, dns, crypto, zlib, async inference).
 * Set `UV_THREADPOOL_SIZE` to at least this before the first asynchronous operation.
 */
export function requiredThreadpoolSize(cameraCount: number, reserve = 4): number {
  if (!Number.isInteger(cameraCount) || cameraCount < 0)
    throw new RangeError(`cameraCount must be a non-negative integer, got ${cameraCount}`);
  return Math.min(UV_THREADPOOL_MAX, Math.max(4, 2 * cameraCount + reserve));
}

/** What the frames are for: the model's channel order and letterbox content size. */
export interface FrameOutput {
  readonly format: PixelFormat;
  /** Native size → letterbox content size (from the model's input size). */
  readonly fit: FitFn;
}

export interface GstFrameSourceOptions {
  readonly cameraId: string;
  readonly spec: SourceSpec;
  /**
   * The output, or a function resolving it (e.g. once the model has loaded). Resolved before the
   * first pipeline is built; a rejection is recorded like a pipeline failure and retried with backoff.
   */
  readonly output: FrameOutput | (() => Promise<FrameOutput>);
  /** Default 10 000 ms. */
  readonly stallTimeoutMs?: number;
  /** Default unlimited. */
  readonly maxRestarts?: number;
  /** Running this long resets the backoff. Default 30 000 ms. */
  readonly healthyResetMs?: number;
  readonly backoff?: Partial<BackoffOptions>;
  /** TCP probe timeout for RTSP preflight. Default 3000 ms. */
  readonly connectTimeoutMs?: number;
  readonly timers?: Clock;
  /** Jitter source, [0, 1). */
  readonly random?: () => number;
}

export type CreateGstFrameSourceOptions = Omit<GstFrameSourceOptions, 'spec'> & {
  readonly uri: string;
  readonly source?: SourceOptions;
};

/**
 * Parse the URI and build the source.
 * @throws EdgeError EDGE_ERR_SOURCE_URI for an unsupported or malformed source.
 * @example createGstFrameSource({ cameraId: 'gate', uri: 'rtsp://cam/stream', format: 'RGB', fit })
 */
export function createGstFrameSource(options: CreateGstFrameSourceOptions): GstFrameSource {
  const { uri, source, ...rest } = options;
  return new GstFrameSource({ ...rest, spec: parseSourceSpec(uri, source) });
}

/** Extra counters beyond CameraStatus (optional fields a status endpoint may show). */
export interface GstFrameSourceStatus extends CameraStatus {
  readonly source: string;
  readonly lastErrorCode: EdgeError['code'] | null;
  /** Frames handed to next(). */
  readonly framesDelivered: number;
  /** Runs whose pull or bus thread did not come back after teardown (should stay 0). */
  readonly threadsNotReleased: number;
  /** Synthetic sources: the scene domain of the newest captured frame, e.g. `fog` or `day->fog 40%` (null before the first). */
  readonly domain?: string | null;
  /** Synthetic sources: frame ticks with no frame because the renderer or pipeline was still busy (counted apart from framesDropped). */
  readonly ticksSkipped?: number;
}

/** Ground truth kept for this many of the newest captured frames (see groundTruth()). */
const GROUND_TRUTH_FRAMES = 64;

export class GstFrameSource implements FrameSource {
  readonly cameraId: string;
  private readonly events = new CaptureEvents();
  private readonly live: boolean;
  private supervisor: CameraSupervisor | null = null;
  private session: GstPipelineSession | null = null;
  private sequence: MaterializedSequence | null = null;
  private feeder: SyntheticFeeder | null = null;
  private readonly truth = new Map<number, SyntheticFrameInfo>();
  private domain: string | null = null;
  private output: FrameOutput | null = null;
  private slot: CapturedFrame | null = null;
  private waiters: ((frame: CapturedFrame | null) => void)[] = [];
  private ended = false;
  private stopping: Promise<void> | null = null;
  private abortCleanup: (() => void) | null = null;
  private nextFrameId = 0;
  private framesCaptured = 0;
  private framesDropped = 0;
  private framesDelivered = 0;
  private threadsNotReleased = 0;

  constructor(private readonly options: GstFrameSourceOptions) {
    this.cameraId = options.cameraId;
    this.live = isLiveSpec(options.spec);
  }

  private get timers(): Clock {
    return this.options.timers ?? systemClock;
  }

  on<K extends keyof CaptureEventMap>(event: K, listener: (...args: CaptureEventMap[K]) => void): this {
    this.events.on(event, listener as never);
    return this;
  }

  off<K extends keyof CaptureEventMap>(event: K, listener: (...args: CaptureEventMap[K]) => void): this {
    this.events.off(event, listener as never);
    return this;
  }

  /** Launches the first pipeline; resolves once it is playing or its failure is recorded (never waits for frames). */
  async start(signal: AbortSignal): Promise<void> {
    if (this.supervisor !== null) throw new Error(`camera ${this.cameraId}: start() called twice`);
    if (this.stopping !== null) return; // stopped before it started: stays stopped
    const o = this.options;
    this.supervisor = new CameraSupervisor({
      launch: (callbacks) => this.launch(callbacks),
      timers: this.timers,
      backoff: new Backoff(o.backoff, o.random),
      options: { stallTimeoutMs: o.stallTimeoutMs, maxRestarts: o.maxRestarts, healthyResetMs: o.healthyResetMs },
      onChange: () => this.events.emit('status', this.status()),
      onFailure: (info) => this.onFailure(info),
      onEnd: () => this.end(),
    });
    if (signal.aborted) {
      await this.stop();
      return;
    }
    const onAbort = (): void => void this.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    this.abortCleanup = () => signal.removeEventListener('abort', onAbort);
    await this.supervisor.start();
  }

  /**
   * Live sources: the newest frame (waiting for one if the slot is empty). Files: the next frame,
   * decoded on demand. Null once the source has finished (end of a non-looping file, restarts
   * exhausted, stop()).
   */
  next(): Promise<CapturedFrame | null> {
    if (this.slot !== null) {
      const frame = this.slot;
      this.slot = null;
      this.framesDelivered += 1;
      return Promise.resolve(frame);
    }
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      if (!this.live) this.session?.requestFrame();
    });
  }

  /**
   * Synthetic sources: what the scene generator drew in the captured frame `frameId` (its domain and
   * exact boxes in source pixels), for one of the newest frames; undefined otherwise.
   */
  groundTruth(frameId: number): SyntheticFrameInfo | undefined {
    return this.truth.get(frameId);
  }

  status(): GstFrameSourceStatus {
    const s: SupervisorSnapshot = this.supervisor?.snapshot() ?? {
      state: 'stopped',
      lastError: null,
      lastErrorCode: null,
      lastErrorAt: null,
      restarts: 0,
      lastFrameAt: null,
    };
    return {
      cameraId: this.cameraId,
      source: this.options.spec.displayUri,
      state: s.state,
      lastError: s.lastError,
      lastErrorCode: s.lastErrorCode,
      lastErrorAt: s.lastErrorAt,
      restarts: s.restarts,
      framesCaptured: this.framesCaptured,
      framesDropped: this.framesDropped,
      framesDelivered: this.framesDelivered,
      lastFrameAt: s.lastFrameAt,
      threadsNotReleased: this.threadsNotReleased,
      ...(this.options.spec.kind === 'synthetic'
        ? { domain: this.domain, ticksSkipped: this.feeder?.ticksSkipped ?? 0 }
        : {}),
    };
  }

  /** Tears the pipeline down, resolves pending next() with null, removes listeners. Idempotent. */
  stop(): Promise<void> {
    if (this.stopping === null) this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.abortCleanup?.();
    this.abortCleanup = null;
    // After stop() nothing more is handed out, not even a frame still in the slot.
    this.slot = null;
    this.end();
    try {
      await this.supervisor?.stop();
    } finally {
      const sequence = this.sequence;
      this.sequence = null;
      // After the runs are closed (feeder detached): ends the render worker thread.
      await this.feeder?.close();
      await sequence?.dispose();
      this.events.removeAllListeners();
    }
  }

  /** One run: preflight, image-sequence links (once per source), pipeline. */
  private async launch(callbacks: RunCallbacks): Promise<SupervisedRun> {
    const spec = this.options.spec;
    const configured = this.options.output;
    this.output ??= typeof configured === 'function' ? await configured() : configured;
    const output = this.output;
    await preflightSource(spec, { connectTimeoutMs: this.options.connectTimeoutMs });
    let source: PipelineSource;
    if (spec.kind === 'image-sequence') {
      this.sequence ??= await materializeSequence(spec);
      if (this.stopping !== null) {
        // stop() ran while the links were being made: it may have missed them.
        await this.sequence.dispose();
        throw new EdgeError('EDGE_ERR_PIPELINE', 'stopped while starting');
      }
      source = { ...spec, resolved: this.sequence };
    } else if (spec.kind === 'image') {
      // Size (and true codec) from the header: the fit caps are right from the first frame.
      const header = await readImageHeader(spec.path);
      source = { ...spec, codec: header.codec, size: { width: header.width, height: header.height } };
    } else {
      source = spec;
    }
    if (spec.kind === 'synthetic') {
      if (this.stopping !== null) throw new EdgeError('EDGE_ERR_PIPELINE', 'stopped while starting');
      // One per camera, across runs: it keeps the stream clock and the render worker.
      this.feeder ??= new SyntheticFeeder({ spec, timers: this.timers });
    }
    const session = new GstPipelineSession({
      source,
      format: output.format,
      fit: output.fit,
      continuous: this.live,
      timers: this.timers,
      ...(this.feeder !== null ? { feeder: this.feeder } : {}),
      listener: {
        onFrame: (frame, at, fed) => {
          callbacks.frame();
          this.deliver(frame, at, fed);
        },
        onFailure: (error) => callbacks.fail(error),
        onFinished: () => callbacks.finish(),
      },
    });
    session.open();
    this.session = session;
    if (!this.live && this.waiters.length > 0) session.requestFrame();
    return {
      waitingSince: () => session.waitingSince(),
      close: async () => {
        if (this.session === session) this.session = null;
        const release = await session.close();
        if (!release.released) this.threadsNotReleased += 1;
      },
    };
  }

  private deliver(frame: RgbFrame, at: number, fed: SyntheticFrameInfo | null): void {
    this.framesCaptured += 1;
    const captured: CapturedFrame = { frame, frameId: this.nextFrameId++, timestampMs: at };
    if (fed !== null) {
      this.domain = fed.domain;
      this.truth.set(captured.frameId, fed);
      // Map keeps insertion order: the first key is the oldest frame.
      if (this.truth.size > GROUND_TRUTH_FRAMES) this.truth.delete(this.truth.keys().next().value as number);
    }
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      this.framesDelivered += 1;
      waiter(captured);
      // On-demand sources decode one frame per waiting next().
      if (!this.live && this.waiters.length > 0) this.session?.requestFrame();
      return;
    }
    // Latest-frame policy: a frame nobody took yet is overwritten and counted.
    if (this.slot !== null) this.framesDropped += 1;
    this.slot = captured;
  }

  private onFailure(info: FailureInfo): void {
    this.events.emit('failure', {
      cameraId: this.cameraId,
      code: info.error.code,
      message: describeError(info.error),
      restartInMs: info.restartInMs,
    });
  }

  /** The source finished for good: pending and future next() calls get null (after any frame in the slot). */
  private end(): void {
    this.ended = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(null);
  }
}
