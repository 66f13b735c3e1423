import type { ModelArm } from '@edgefleet/proto';
import type { Detection, DetectOptions, DetectResult, DetectTimings, RgbFrame } from '@edgefleet/vision';
import type { FrameSource, CameraStatus } from '../capture/frame-source.js';
import type { Outbox, OutboxDetection, OutboxFrame } from '../outbox/outbox.js';
import type { Component, Logger } from '@edgefleet/service-kit';
import { describeError } from '../errors.js';
import { type ImageStatistics, imageStatistics } from '../metrics/image-statistics.js';
import type { ActiveModel, CameraModels, ModelIdentity } from '../models/camera-models.js';

/** What the worker reports per processed frame and per inference (metrics implement it). */
export interface FrameObserver {
  frameProcessed(cameraId: string, provider: string, modelId: string, timings: DetectTimings, detections: number): void;
  detectionFailed(cameraId: string, error: unknown): void;
  /** Every inference of every arm (a shadow frame makes two). */
  inference?(
    cameraId: string,
    model: ModelIdentity,
    arm: ModelArm,
    provider: string,
    outcome: { readonly timings: DetectTimings } | { readonly error: unknown },
  ): void;
  /** Image statistics of each captured frame (brightness, contrast, ...: see ImageStatistics). */
  frameStatistics?(cameraId: string, stats: ImageStatistics): void;
}

export interface CameraWorkerDeps {
  readonly source: FrameSource;
  /** Resolves to the camera's models once its primary has loaded; a rejection marks the camera failed (other cameras keep running). */
  readonly models: Promise<CameraModels>;
  readonly outbox: Outbox;
  readonly observer: FrameObserver;
  readonly logger: Logger;
  readonly detectOptions: DetectOptions;
  /** What status reports as the camera's model until its models have loaded (the configured one). */
  readonly configuredModel: { readonly modelId: string; readonly modelVersion: string };
  /** Optional tap on every processed frame (printing detections in demos). */
  readonly onDetections?: ((cameraId: string, frameId: number, detections: readonly Detection[]) => void) | undefined;
}

/** Frames a camera keeps in flight on its current primary: one per session plus one being prepared. */
function framesInFlight(models: CameraModels): number {
  const info = models.current().primary.handle.detector.info;
  return info.thread === 'worker' ? info.sessions + 1 : 1;
}

/** A frame as the source delivers it. */
type CapturedFrame = NonNullable<Awaited<ReturnType<FrameSource['next']>>>;

/** What detection made of one frame, waiting for its turn to be stored. */
interface FrameOutcome {
  readonly model: ModelIdentity;
  readonly provider: string;
  readonly arm: 'primary' | 'candidate';
  readonly result: DetectResult;
  /** The shadow candidate's detections when the frame had one (possibly none found). */
  readonly shadow: OutboxDetection[] | null;
}

export type WorkerState = 'idle' | 'running' | 'finished' | 'failed' | 'stopped';

/** Frames stored per arm: `shadow` counts frames that also carry the shadow candidate's detections. */
export interface ArmCounts {
  primary: number;
  candidate: number;
  shadow: number;
}

/** A model as the status shows it. */
export interface ModelStatusView extends ModelIdentity {
  readonly provider: string;
}

export interface CameraWorkerStatus {
  readonly state: WorkerState;
  readonly error: string | null;
  readonly framesProcessed: number;
  readonly detections: number;
  /** The primary's (what DeviceStatus reports for the camera). */
  readonly modelId: string;
  readonly modelVersion: string;
  readonly provider: string | null;
  readonly models: {
    readonly primary: ModelStatusView;
    readonly candidate: (ModelStatusView & { readonly mode: string; readonly splitBasisPoints: number }) | null;
    /** The replaced primary, kept as the fallback while the new one is on probation; null otherwise. */
    readonly fallback: ModelStatusView | null;
    readonly revision: number;
  } | null;
  readonly arms: Readonly<ArmCounts>;
  readonly capture: CameraStatus;
}

/**
 * One camera's main loop: newest frame → detect (the primary, or the split's candidate, plus the shadow
 * candidate) → one outbox transaction per frame. The models are read once at the start of each frame, so a
 * swap lands between two frames. Capture errors and restarts are the source's business; model errors fail
 * this camera only.
 *
 * When the primary runs in worker threads, the loop keeps one frame more in flight than it has sessions:
 * it takes the next frame as soon as the current one is submitted, so capture, pre-processing, decode +
 * NMS and the outbox write overlap inference instead of following it, and every session has work. On
 * the event loop's own thread (`inferenceThread: caller`) frames go one at a time. Frames are stored
 * strictly in capture order either way (per-camera sequence numbers stay monotonic even when a split
 * sends neighbouring frames to different models).
 */
export class CameraWorker implements Component {
  private state: WorkerState = 'idle';
  private error: string | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private processed = 0;
  private detections = 0;
  private models: CameraModels | null = null;
  private readonly arms: ArmCounts = { primary: 0, candidate: 0, shadow: 0 };

  constructor(private readonly deps: CameraWorkerDeps) {}

  get cameraId(): string {
    return this.deps.source.cameraId;
  }

  get name(): string {
    return `camera ${this.cameraId}`;
  }

  async start(signal: AbortSignal): Promise<void> {
    const { source, logger } = this.deps;
    try {
      this.models = await this.deps.models;
    } catch (err) {
      this.fail(err);
      return;
    }
    try {
      await source.start(signal);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.state = 'running';
    const primary = this.models.current().primary;
    const info = primary.handle.detector.info;
    logger.info('camera running', {
      model: info.path,
      version: primary.identity.version,
      provider: info.provider,
      adapter: info.adapter,
      thread: info.thread,
      sessions: info.sessions,
    });
    this.loop = this.run(this.models);
  }

  private fail(err: unknown): void {
    this.state = 'failed';
    this.error = describeError(err);
    this.deps.logger.error('camera failed', { error: this.error });
  }

  /** One inference on `model`, accounted to its health, the metrics and the log; null when it failed. */
  private async infer(models: CameraModels, model: ActiveModel, arm: ModelArm, frame: RgbFrame, frameId: number) {
    const { observer, detectOptions } = this.deps;
    const detector = model.handle.detector;
    try {
      const result = await detector.detect(frame, detectOptions);
      models.recordInference(model, arm, { result });
      observer.inference?.(this.cameraId, model.identity, arm, detector.info.provider, { timings: result.timings });
      return result;
    } catch (err) {
      models.recordInference(model, arm, { error: err });
      observer.inference?.(this.cameraId, model.identity, arm, detector.info.provider, { error: err });
      this.deps.logger.warn('detection failed', {
        error: describeError(err),
        frameId,
        model: model.identity.modelId,
        version: model.identity.version,
        arm,
      });
      return null;
    }
  }

  private async run(models: CameraModels): Promise<void> {
    const { source, logger } = this.deps;
    // The previous frame's store step; each frame's store waits for it, so rows land in capture order.
    let stored: Promise<void> = Promise.resolve();
    const inFlight = new Set<Promise<void>>();
    while (!this.stopping) {
      if (inFlight.size >= framesInFlight(models)) await Promise.race(inFlight);
      if (this.stopping) break;
      const captured = await source.next();
      if (captured === null) break;
      // Before detection: the frame's buffer is read here while nothing else can be using it. Computed once,
      // for the camera's metrics and for the frame's outbox row.
      const stats = imageStatistics(captured.frame);
      this.deps.observer.frameStatistics?.(this.cameraId, stats);
      const detected = this.detectFrame(models, captured);
      const previous = stored;
      stored = (async () => {
        const outcome = await detected;
        await previous;
        if (outcome) this.store(captured, outcome, stats);
      })().catch((err: unknown) =>
        logger.error('frame handling failed', { error: describeError(err), frameId: captured.frameId }),
      );
      const done = stored;
      inFlight.add(done);
      void done.finally(() => inFlight.delete(done));
    }
    await stored;
    if (!this.stopping) {
      this.state = 'finished';
      logger.info('camera source finished', { frames: this.processed });
    }
  }

  /** Runs a frame's plan: its arm's model (the primary standing in for a failed split candidate) and the shadow. */
  private async detectFrame(models: CameraModels, captured: CapturedFrame): Promise<FrameOutcome | null> {
    const plan = models.plan();
    try {
      let model = plan.run;
      let arm: 'primary' | 'candidate' = plan.arm;
      let result = await this.infer(models, model, arm, captured.frame, captured.frameId);
      if (result === null && plan.fallback) {
        // A split frame the candidate failed on goes to the primary instead of being lost.
        model = plan.fallback;
        arm = 'primary';
        result = await this.infer(models, model, arm, captured.frame, captured.frameId);
      }
      if (result === null) {
        // A frame the model cannot process is counted and skipped; the camera keeps going.
        this.deps.observer.detectionFailed(this.cameraId, new Error('detection failed'));
        return null;
      }
      let shadow: OutboxDetection[] | null = null;
      if (plan.shadow) {
        const s = await this.infer(models, plan.shadow, 'shadow', captured.frame, captured.frameId);
        const { modelId, version } = plan.shadow.identity;
        shadow = (s?.detections ?? []).map((d) => ({
          classId: d.classId,
          label: d.label,
          score: d.score,
          box: d.box,
          modelId,
          modelVersion: version,
          arm: 'shadow',
        }));
      }
      return { model: model.identity, provider: model.handle.detector.info.provider, arm, result, shadow };
    } finally {
      plan.release();
    }
  }

  /** One outbox transaction for the frame, then its counters, metrics and tap. */
  private store(captured: CapturedFrame, outcome: FrameOutcome, imageStats: ImageStatistics): void {
    const { outbox, observer, logger } = this.deps;
    const { model, arm, result, shadow } = outcome;
    const row: OutboxFrame = {
      cameraId: this.cameraId,
      frameId: captured.frameId,
      timestampMs: captured.timestampMs,
      modelId: model.modelId,
      modelVersion: model.version,
      arm,
      imageStats,
      detections: [
        ...result.detections.map((d) => ({ classId: d.classId, label: d.label, score: d.score, box: d.box })),
        ...(shadow ?? []),
      ],
    };
    try {
      outbox.append([row]);
    } catch (err) {
      // Disk full or I/O error: keep detecting (the outbox evicts or recovers), but say so loudly.
      logger.error('outbox append failed', { error: describeError(err), frameId: captured.frameId });
      observer.detectionFailed(this.cameraId, err);
      return;
    }
    this.processed++;
    this.arms[arm]++;
    if (shadow) this.arms.shadow++;
    this.detections += row.detections.length;
    observer.frameProcessed(this.cameraId, outcome.provider, model.modelId, result.timings, row.detections.length);
    this.deps.onDetections?.(this.cameraId, captured.frameId, result.detections);
  }

  /** Resolves when the loop has ended (source finished or stopped). */
  async done(): Promise<void> {
    await this.loop;
  }

  status(): CameraWorkerStatus {
    const routing = this.models?.current() ?? null;
    const view = (m: ActiveModel): ModelStatusView => ({ ...m.identity, provider: m.handle.detector.info.provider });
    return {
      state: this.state,
      modelId: routing?.primary.identity.modelId ?? this.deps.configuredModel.modelId,
      modelVersion: routing?.primary.identity.version ?? this.deps.configuredModel.modelVersion,
      provider: routing?.primary.handle.detector.info.provider ?? null,
      models: routing
        ? {
            primary: view(routing.primary),
            candidate: routing.candidate
              ? { ...view(routing.candidate), mode: routing.mode ?? '', splitBasisPoints: routing.splitBasisPoints }
              : null,
            fallback: routing.fallback ? view(routing.fallback) : null,
            revision: routing.revision,
          }
        : null,
      error: this.error,
      framesProcessed: this.processed,
      detections: this.detections,
      arms: { ...this.arms },
      capture: this.deps.source.status(),
    };
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.stopping = true;
    await this.deps.source.stop();
    await this.loop;
    if (this.state !== 'failed') this.state = 'stopped';
  }
}
