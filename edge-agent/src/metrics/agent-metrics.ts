import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CameraMetrics, ModelArm, ModelStatusReport } from '@edgefleet/proto';
import type { DetectTimings } from '@edgefleet/vision';
import type { ModelIdentity } from '../models/camera-models.js';
import type { RollbackKind } from '../models/model-manager.js';
import type { CameraState, CameraStatus } from '../capture/frame-source.js';
import type { EvictionEvent, OutboxStats } from '../outbox/outbox.js';
import type { Clock } from '@edgefleet/service-kit';
import { CameraMetricsWindow } from './camera-metrics-window.js';
import type { ImageStatistics } from './image-statistics.js';
import { RateWindow } from './rate-window.js';

/** Every CameraState, for the one-hot state gauge (the check below fails to compile if one is missing). */
export const CAMERA_STATES = [
  'starting',
  'running',
  'reconnecting',
  'failed',
  'stopped',
] as const satisfies readonly CameraState[];
type MissingState = Exclude<CameraState, (typeof CAMERA_STATES)[number]>;
const allStatesListed: MissingState extends never ? true : never = true;
void allStatesListed;

// Milliseconds rather than Prometheus' base seconds: latency budgets are set and discussed in ms
// everywhere else in the project (model manager, bench), and these names say so.
const INFERENCE_BUCKETS_MS = [1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000, 2000, 5000];
const STAGE_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 250];
const ROUND_TRIP_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000];

export interface AgentMetricsOptions {
  /** Process metrics (rss, cpu, event loop lag, gc); default true. */
  readonly defaultMetrics?: boolean;
  /** Clock for the fps window. */
  readonly clock: Clock;
  /** fps is averaged over this window; default 5000 ms. */
  readonly fpsWindowMs?: number;
}

interface CameraTotals {
  captured: number;
  dropped: number;
  restarts: number;
}

/**
 * The agent's Prometheus metrics, on their own Registry (never the global one, so tests and several
 * agents in one process do not collide). Its methods match the camera worker's FrameObserver.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly now: () => number;
  private readonly fpsWindowMs: number;
  private readonly fps = new Map<string, RateWindow>();
  private readonly lastTotals = new Map<string, CameraTotals>();
  private readonly windows = new Map<string, CameraMetricsWindow>();

  readonly cameraFps: Gauge<'camera'>;
  readonly cameraState: Gauge<'camera' | 'state'>;
  readonly cameraRestarts: Counter<'camera'>;
  readonly framesCaptured: Counter<'camera'>;
  readonly framesProcessed: Counter<'camera'>;
  readonly framesDropped: Counter<'camera'>;
  readonly detections: Counter<'camera'>;
  readonly detectionFailures: Counter<'camera'>;
  readonly inferenceMs: Histogram<'provider' | 'model'>;
  readonly preprocessMs: Histogram<'model'>;
  readonly postprocessMs: Histogram<'model'>;
  readonly outboxFrames: Gauge;
  readonly outboxDetections: Gauge;
  readonly outboxBytes: Gauge;
  readonly outboxEvictedFrames: Counter;
  readonly outboxEvictedDetections: Counter;
  readonly syncLagSeconds: Gauge;
  readonly inferences: Counter<'camera' | 'model' | 'version' | 'arm'>;
  readonly inferenceErrors: Counter<'camera' | 'model' | 'version' | 'arm'>;
  readonly activeModels: Gauge<'camera' | 'arm' | 'model' | 'version'>;
  readonly modelRollbacks: Counter<'camera' | 'reason'>;
  readonly modelReports: Counter<'camera' | 'state'>;
  readonly controlConnected: Gauge;
  readonly syncConnected: Gauge;
  readonly syncAckRoundTripMs: Histogram;
  readonly modelReportsQueued: Gauge;
  private readonly activeLabels = new Map<string, { camera: string; arm: string; model: string; version: string }>();

  constructor(options: AgentMetricsOptions) {
    this.now = () => options.clock.now();
    this.fpsWindowMs = options.fpsWindowMs ?? 5000;
    const registers = [this.registry];
    const fps = this.fps;
    const now = this.now;
    this.cameraFps = new Gauge({
      name: 'edge_camera_fps',
      help: 'Frames processed (detected and stored) per second, averaged over the last few seconds',
      labelNames: ['camera'],
      registers,
      // Computed at scrape time so an idle camera decays to 0 without anyone calling us.
      collect() {
        for (const [camera, window] of fps) this.set({ camera }, window.rate(now()));
      },
    });
    this.cameraState = new Gauge({
      name: 'edge_camera_state',
      help: 'Capture state per camera: 1 for the current state, 0 for the others',
      labelNames: ['camera', 'state'],
      registers,
    });
    this.cameraRestarts = new Counter({
      name: 'edge_camera_restarts_total',
      help: 'Capture pipeline restarts after the first start',
      labelNames: ['camera'],
      registers,
    });
    this.framesCaptured = new Counter({
      name: 'edge_frames_captured_total',
      help: 'Frames delivered by the capture pipeline',
      labelNames: ['camera'],
      registers,
    });
    this.framesProcessed = new Counter({
      name: 'edge_frames_processed_total',
      help: 'Frames run through the detector and stored in the outbox',
      labelNames: ['camera'],
      registers,
    });
    this.framesDropped = new Counter({
      name: 'edge_frames_dropped_total',
      help: 'Frames dropped because the detector was busy (latest-frame policy)',
      labelNames: ['camera'],
      registers,
    });
    this.detections = new Counter({
      name: 'edge_detections_total',
      help: 'Detections stored in the outbox',
      labelNames: ['camera'],
      registers,
    });
    this.detectionFailures = new Counter({
      name: 'edge_detection_failures_total',
      help: 'Frames that failed detection or could not be stored',
      labelNames: ['camera'],
      registers,
    });
    this.inferenceMs = new Histogram({
      name: 'edge_inference_ms',
      help: 'Model inference time in milliseconds, by execution provider actually used and model',
      labelNames: ['provider', 'model'],
      buckets: INFERENCE_BUCKETS_MS,
      registers,
    });
    this.preprocessMs = new Histogram({
      name: 'edge_preprocess_ms',
      help: 'Pre-processing (letterbox, tensor fill) time in milliseconds',
      labelNames: ['model'],
      buckets: STAGE_BUCKETS_MS,
      registers,
    });
    this.postprocessMs = new Histogram({
      name: 'edge_postprocess_ms',
      help: 'Post-processing (decode, NMS) time in milliseconds',
      labelNames: ['model'],
      buckets: STAGE_BUCKETS_MS,
      registers,
    });
    this.outboxFrames = new Gauge({ name: 'edge_outbox_frames', help: 'Frames waiting in the outbox', registers });
    this.outboxDetections = new Gauge({
      name: 'edge_outbox_detections',
      help: 'Detections waiting in the outbox',
      registers,
    });
    this.outboxBytes = new Gauge({
      name: 'edge_outbox_bytes',
      help: 'Accounted size of the outbox rows in bytes',
      registers,
    });
    this.outboxEvictedFrames = new Counter({
      name: 'edge_outbox_evicted_frames_total',
      help: 'Frames evicted unsent because the outbox was full',
      registers,
    });
    this.outboxEvictedDetections = new Counter({
      name: 'edge_outbox_evicted_detections_total',
      help: 'Detections evicted unsent because the outbox was full',
      registers,
    });
    this.syncLagSeconds = new Gauge({
      name: 'edge_sync_lag_seconds',
      help: 'Age of the oldest unacknowledged outbox frame in seconds',
      registers,
    });
    this.inferences = new Counter({
      name: 'edge_inferences_total',
      help: 'Inferences run, by camera, model, version and A/B arm (a shadow frame runs two)',
      labelNames: ['camera', 'model', 'version', 'arm'],
      registers,
    });
    this.inferenceErrors = new Counter({
      name: 'edge_inference_errors_total',
      help: 'Inferences that failed, by camera, model, version and A/B arm',
      labelNames: ['camera', 'model', 'version', 'arm'],
      registers,
    });
    this.activeModels = new Gauge({
      name: 'edge_model_active',
      help: 'The model serving each arm of each camera: 1 for the active (model, version), series removed when replaced',
      labelNames: ['camera', 'arm', 'model', 'version'],
      registers,
    });
    this.modelRollbacks = new Counter({
      name: 'edge_model_rollbacks_total',
      help: 'Model rollbacks by camera and reason (error_rate, latency, crash_loop, commanded)',
      labelNames: ['camera', 'reason'],
      registers,
    });
    this.modelReports = new Counter({
      name: 'edge_model_status_reports_total',
      help: 'Model status changes reported to the control plane, by camera and state (received … active, failed, rolled_back)',
      labelNames: ['camera', 'state'],
      registers,
    });
    this.controlConnected = new Gauge({
      name: 'edge_control_connected',
      help: '1 while the assignment stream from the control plane is open',
      registers,
    });
    this.syncConnected = new Gauge({
      name: 'edge_sync_connected',
      help: '1 while the sync worker is connected to the MQTT broker',
      registers,
    });
    this.syncAckRoundTripMs = new Histogram({
      name: 'edge_sync_ack_round_trip_ms',
      help: 'Time from publishing a detection batch to its PUBACK in milliseconds',
      buckets: ROUND_TRIP_BUCKETS_MS,
      registers,
    });
    this.modelReportsQueued = new Gauge({
      name: 'edge_model_status_reports_queued',
      help: 'Model status reports waiting for the control plane',
      registers,
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** FrameObserver: one frame detected and stored. */
  frameProcessed(
    cameraId: string,
    provider: string,
    modelId: string,
    timings: DetectTimings,
    detections: number,
  ): void {
    this.framesProcessed.inc({ camera: cameraId });
    if (detections > 0) this.detections.inc({ camera: cameraId }, detections);
    this.inferenceMs.observe({ provider, model: modelId }, timings.inferMs);
    this.preprocessMs.observe({ model: modelId }, timings.preMs);
    this.postprocessMs.observe({ model: modelId }, timings.postMs);
    this.windowOf(cameraId).addTimings(timings);
    let window = this.fps.get(cameraId);
    if (!window) {
      window = new RateWindow(this.fpsWindowMs);
      this.fps.set(cameraId, window);
    }
    window.add(this.now());
  }

  /** FrameObserver: one inference of one arm (frameProcessed times the frame's own; shadow runs are timed here). */
  inference(
    cameraId: string,
    model: ModelIdentity,
    arm: ModelArm,
    provider: string,
    outcome: { readonly timings: DetectTimings } | { readonly error: unknown },
  ): void {
    const labels = { camera: cameraId, model: model.modelId, version: model.version, arm };
    this.inferences.inc(labels);
    if ('error' in outcome) this.inferenceErrors.inc(labels);
    else if (arm === 'shadow') this.inferenceMs.observe({ provider, model: model.modelId }, outcome.timings.inferMs);
  }

  /** ModelObserver: the model serving an arm of a camera changed. */
  modelActive(cameraId: string, arm: ModelArm, model: ModelIdentity | null): void {
    const key = `${cameraId}\u0000${arm}`;
    const old = this.activeLabels.get(key);
    if (old) this.activeModels.remove(old);
    this.activeLabels.delete(key);
    if (!model) return;
    const labels = { camera: cameraId, arm, model: model.modelId, version: model.version };
    this.activeModels.set(labels, 1);
    this.activeLabels.set(key, labels);
  }

  /** ModelObserver: one status report. */
  modelReport(report: ModelStatusReport): void {
    this.modelReports.inc({ camera: report.cameraId, state: report.state });
  }

  /** ModelObserver: one rollback. */
  modelRollback(cameraId: string, kind: RollbackKind): void {
    this.modelRollbacks.inc({ camera: cameraId, reason: kind });
  }

  /** The control client's onConnection: the assignment stream opened (true) or ended (false). */
  controlConnection(watching: boolean): void {
    this.controlConnected.set(watching ? 1 : 0);
  }

  observeReportsQueued(queuedReports: number): void {
    this.modelReportsQueued.set(queuedReports);
  }

  /** SyncObserver: the MQTT connection came up or went down. */
  connectionChanged(connected: boolean): void {
    this.syncConnected.set(connected ? 1 : 0);
  }

  /** SyncObserver: a batch's PUBACK arrived. */
  batchAcked(_frames: number, _detections: number, roundTripMs: number): void {
    this.syncAckRoundTripMs.observe(roundTripMs);
  }

  /** FrameObserver: image statistics of a captured frame (the window keeps brightness and contrast). */
  frameStatistics(cameraId: string, stats: ImageStatistics): void {
    this.windowOf(cameraId).addImageStatistics(stats);
  }

  /** The camera's entry of DeviceMetrics: fps, drops, recent timing percentiles, brightness and contrast. */
  cameraMetrics(cameraId: string): CameraMetrics {
    return this.windowOf(cameraId).snapshot(cameraId, {
      fps: this.fpsOf(cameraId),
      framesDropped: this.lastTotals.get(cameraId)?.dropped ?? 0,
    });
  }

  private windowOf(cameraId: string): CameraMetricsWindow {
    let window = this.windows.get(cameraId);
    if (!window) {
      window = new CameraMetricsWindow();
      this.windows.set(cameraId, window);
    }
    return window;
  }

  /** FrameObserver: a frame failed detection or storage. */
  detectionFailed(cameraId: string, _error: unknown): void {
    this.detectionFailures.inc({ camera: cameraId });
  }

  /**
   * Mirrors a capture status: the source keeps cumulative totals, the counters get the increase since
   * the previous call (a source that restarted its totals counts from zero again).
   */
  observeCamera(status: CameraStatus): void {
    const camera = status.cameraId;
    const prev = this.lastTotals.get(camera) ?? { captured: 0, dropped: 0, restarts: 0 };
    const delta = (now: number, before: number) => (now >= before ? now - before : now);
    const captured = delta(status.framesCaptured, prev.captured);
    const dropped = delta(status.framesDropped, prev.dropped);
    const restarts = delta(status.restarts, prev.restarts);
    // inc() also creates the series, so a camera shows up with 0 before its first frame.
    this.framesCaptured.inc({ camera }, captured);
    this.framesDropped.inc({ camera }, dropped);
    this.cameraRestarts.inc({ camera }, restarts);
    this.lastTotals.set(camera, {
      captured: status.framesCaptured,
      dropped: status.framesDropped,
      restarts: status.restarts,
    });
    for (const state of CAMERA_STATES) this.cameraState.set({ camera, state }, state === status.state ? 1 : 0);
  }

  observeOutbox(stats: OutboxStats): void {
    this.outboxFrames.set(stats.frames);
    this.outboxDetections.set(stats.detections);
    this.outboxBytes.set(stats.bytes);
  }

  /** Subscribe with `outbox.onEvicted((e) => metrics.observeEviction(e))`. */
  observeEviction(event: EvictionEvent): void {
    this.outboxEvictedFrames.inc(event.frames);
    this.outboxEvictedDetections.inc(event.detections);
  }

  /** Frames processed per second over the fps window (0 for an unknown camera). */
  fpsOf(cameraId: string): number {
    return this.fps.get(cameraId)?.rate(this.now()) ?? 0;
  }

  observeSyncLag(seconds: number): void {
    this.syncLagSeconds.set(seconds);
  }
}
