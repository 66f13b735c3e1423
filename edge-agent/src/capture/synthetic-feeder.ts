/**
 * Paces a synthetic camera: at every tick of its frame rate, renders the scene frame due at that
 * moment (in a worker, see synthetic-renderer.ts) and pushes it into the run's appsrc.
 *
 * - Stream time is wall time since the camera first started, kept across restarts, so a schedule
 *   such as `day:300,fog:300` means five minutes of day from start-up whatever happens in between;
 *   frame index k is due at `epoch + k / fps`.
 * - At most one frame is being rendered and at most one is inside GStreamer (pushed, not yet out
 *   of the appsink). A tick that finds either busy is skipped and counted, never queued: a slow
 *   renderer or pipeline lowers the frame rate instead of building a backlog. With one frame in
 *   flight and nothing dropped between appsrc and appsink (sync=false, 1:1 elements), each sample
 *   that comes out is exactly the oldest pushed frame, which is how its ground truth is matched.
 * - A tick that fires late (a blocked event loop) skips the frames it missed, also counted.
 * - detach() (the session, before its pipeline goes to NULL) cancels the timer and ignores any
 *   render still under way; close() (the camera's stop) ends the worker thread.
 */
import type { GroundTruthBox } from '@edgefleet/scenes';
import { describeError, EdgeError } from '../errors.js';
import type { Clock, TimerHandle } from '@edgefleet/service-kit';
import type { GstAppSrc } from './gst-binding.js';
import type { SyntheticSpec } from './source-spec.js';
import {
  WorkerSceneRenderer,
  type RenderedSyntheticFrame,
  type SceneRenderer,
  type SyntheticRenderConfig,
} from './synthetic-renderer.js';

/** What was pushed for one frame: its place in the scene stream and its exact labels. */
export interface SyntheticFrameInfo {
  /** Scene stream frame index (frames are pure functions of seed and index). */
  readonly index: number;
  /** Stream time of the frame, ms since the camera first started. */
  readonly streamTimeMs: number;
  /** Domain label from the schedule: `fog`, or `day->fog 40%` inside a transition. */
  readonly domain: string;
  /** Ground-truth boxes `[x1, y1, x2, y2]` in native pixels of the synthetic camera (the same space as detections). */
  readonly labels: readonly GroundTruthBox[];
}

/** What a pipeline session drives when its source is an appsrc. */
export interface AppSrcFeeder {
  /** Start pushing into `appsrc` (after play()); `fail` ends the run (it is restarted with backoff). */
  attach(appsrc: GstAppSrc, fail: (error: EdgeError) => void): void;
  /** A sample left the appsink: the record of the frame it carries (samples leave in push order). */
  sampleOut(): SyntheticFrameInfo | null;
  /** Stop pushing (before the pipeline goes to NULL). Idempotent. */
  detach(): void;
}

export interface SyntheticFeederDeps {
  readonly spec: SyntheticSpec;
  readonly timers: Clock;
  /** Default: a worker thread (WorkerSceneRenderer). A failed renderer is replaced on the next attach. */
  readonly createRenderer?: (config: SyntheticRenderConfig) => SceneRenderer;
}

interface Attachment {
  readonly appsrc: GstAppSrc;
  readonly fail: (error: EdgeError) => void;
  readonly generation: number;
}

export class SyntheticFeeder implements AppSrcFeeder {
  private renderer: SceneRenderer | null = null;
  private epoch: number | null = null;
  private nextIndex = 0;
  private generation = 0;
  private run: Attachment | null = null;
  private timer: TimerHandle | null = null;
  private rendering = false;
  private inFlight: SyntheticFrameInfo[] = [];
  private closed = false;
  private pushed = 0;
  private skipped = 0;

  constructor(private readonly deps: SyntheticFeederDeps) {}

  /** Frames pushed into GStreamer, all runs together. */
  get framesPushed(): number {
    return this.pushed;
  }

  /** Ticks without a frame because the renderer or the pipeline was still busy, or the timer fired late. */
  get ticksSkipped(): number {
    return this.skipped;
  }

  private get periodMs(): number {
    return 1000 / this.deps.spec.fps;
  }

  attach(appsrc: GstAppSrc, fail: (error: EdgeError) => void): void {
    if (this.closed) return; // a run launched while the camera stopped: it is being closed too
    this.detach();
    const now = this.deps.timers.now();
    this.epoch ??= now;
    // After a restart, continue at the frame due now: the frames of the outage are not "skipped".
    this.nextIndex = Math.max(this.nextIndex, Math.floor((now - this.epoch) / this.periodMs));
    this.run = { appsrc, fail, generation: ++this.generation };
    this.schedule();
  }

  sampleOut(): SyntheticFrameInfo | null {
    return this.inFlight.shift() ?? null;
  }

  detach(): void {
    this.generation += 1;
    this.run = null;
    this.inFlight = [];
    if (this.timer !== null) this.deps.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Detach and end the renderer (camera stop). The feeder cannot be attached again. */
  async close(): Promise<void> {
    this.closed = true;
    this.detach();
    const renderer = this.renderer;
    this.renderer = null;
    await renderer?.close();
  }

  private schedule(): void {
    const epoch = this.epoch ?? this.deps.timers.now();
    const delay = Math.max(0, epoch + this.nextIndex * this.periodMs - this.deps.timers.now());
    this.timer = this.deps.timers.setTimeout(() => this.tick(), delay);
  }

  private tick(): void {
    this.timer = null;
    const run = this.run;
    if (run === null || this.epoch === null) return;
    const due = Math.floor((this.deps.timers.now() - this.epoch) / this.periodMs);
    const index = Math.max(this.nextIndex, due);
    this.skipped += index - this.nextIndex;
    this.nextIndex = index + 1;
    if (this.rendering || this.inFlight.length > 0) this.skipped += 1;
    else this.render(run, index);
    this.schedule();
  }

  private render(run: Attachment, index: number): void {
    const create = this.deps.createRenderer ?? ((config) => new WorkerSceneRenderer(config));
    const renderer = (this.renderer ??= create(renderConfig(this.deps.spec)));
    this.rendering = true;
    renderer.render(index).then(
      (frame) => {
        this.rendering = false;
        if (this.run?.generation === run.generation) this.push(run, frame);
      },
      (err: unknown) => {
        this.rendering = false;
        // A broken renderer is replaced at the next attach (the restart after this failure).
        if (this.renderer === renderer) {
          this.renderer = null;
          // Terminating a worker that already died has nothing left to report.
          renderer.close().catch(() => undefined);
        }
        if (this.run?.generation !== run.generation) return;
        run.fail(
          new EdgeError('EDGE_ERR_SOURCE_UNAVAILABLE', `synthetic scene renderer failed: ${describeError(err)}`, {
            cause: err,
          }),
        );
      },
    );
  }

  private push(run: Attachment, frame: RenderedSyntheticFrame): void {
    const { data, ...info } = frame;
    // The binding copies the bytes into a new GstBuffer, so a view over the transferred buffer is enough.
    run.appsrc.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this.inFlight.push(info);
    this.pushed += 1;
  }
}

function renderConfig(spec: SyntheticSpec): SyntheticRenderConfig {
  return {
    schedule: spec.schedule,
    seed: spec.seed,
    width: spec.width,
    height: spec.height,
    fps: spec.fps,
    loop: spec.loop,
  };
}
