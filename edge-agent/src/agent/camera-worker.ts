import type { Detection, Detector, DetectOptions, DetectTimings } from '@edgefleet/vision';
import type { FrameSource, CameraStatus } from '../capture/frame-source.js';
import type { Outbox, OutboxFrame } from '../outbox/outbox.js';
import type { Logger } from '../log/logger.js';
import { describeError } from '../errors.js';
import type { SerialLock } from './serial-lock.js';

/** What the worker reports per processed frame (metrics implement it). */
export interface FrameObserver {
  frameProcessed(cameraId: string, provider: string, modelId: string, timings: DetectTimings, detections: number): void;
  detectionFailed(cameraId: string, error: unknown): void;
}

export interface CameraWorkerDeps {
  readonly source: FrameSource;
  /** Resolves to the camera's detector; a rejection marks the camera failed (other cameras keep running). */
  readonly detector: Promise<Detector>;
  readonly detectorLock: SerialLock;
  readonly outbox: Outbox;
  readonly observer: FrameObserver;
  readonly logger: Logger;
  readonly detectOptions: DetectOptions;
  readonly modelId: string;
  readonly modelVersion: string;
  /** Optional tap on every processed frame (printing detections in demos). */
  readonly onDetections?: ((cameraId: string, frameId: number, detections: readonly Detection[]) => void) | undefined;
}

export type WorkerState = 'idle' | 'running' | 'finished' | 'failed' | 'stopped';

/**
 * One camera's main loop: newest frame → detect → one outbox transaction per frame.
 * Capture errors and restarts are the source's business; model errors fail this camera only.
 */
export class CameraWorker {
  private state: WorkerState = 'idle';
  private error: string | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private processed = 0;
  private provider: string | null = null;
  private detections = 0;

  constructor(private readonly deps: CameraWorkerDeps) {}

  get cameraId(): string {
    return this.deps.source.cameraId;
  }

  async start(signal: AbortSignal): Promise<void> {
    const { source, logger } = this.deps;
    let detector: Detector;
    try {
      detector = await this.deps.detector;
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
    this.provider = detector.info.provider;
    logger.info('camera running', { model: detector.info.path, provider: detector.info.provider, adapter: detector.info.adapter });
    this.loop = this.run(detector);
  }

  private fail(err: unknown): void {
    this.state = 'failed';
    this.error = describeError(err);
    this.deps.logger.error('camera failed', { error: this.error });
  }

  private async run(detector: Detector): Promise<void> {
    const { source, outbox, observer, logger, detectorLock, detectOptions } = this.deps;
    while (!this.stopping) {
      const captured = await source.next();
      if (captured === null) break;
      let result;
      try {
        result = await detectorLock.run(() => detector.detect(captured.frame, detectOptions));
      } catch (err) {
        // A frame the model cannot process is counted and skipped; the camera keeps going.
        observer.detectionFailed(this.cameraId, err);
        logger.warn('detection failed', { error: describeError(err), frameId: captured.frameId });
        continue;
      }
      const row: OutboxFrame = {
        cameraId: this.cameraId,
        frameId: captured.frameId,
        timestampMs: captured.timestampMs,
        modelId: this.deps.modelId,
        modelVersion: this.deps.modelVersion,
        arm: 'primary',
        detections: result.detections.map((d) => ({ classId: d.classId, label: d.label, score: d.score, box: d.box })),
      };
      try {
        outbox.append([row]);
      } catch (err) {
        // Disk full or I/O error: keep detecting (the outbox evicts or recovers), but say so loudly.
        logger.error('outbox append failed', { error: describeError(err), frameId: captured.frameId });
        observer.detectionFailed(this.cameraId, err);
        continue;
      }
      this.processed++;
      this.detections += row.detections.length;
      observer.frameProcessed(this.cameraId, detector.info.provider, this.deps.modelId, result.timings, row.detections.length);
      this.deps.onDetections?.(this.cameraId, captured.frameId, result.detections);
    }
    if (!this.stopping) {
      this.state = 'finished';
      logger.info('camera source finished', { frames: this.processed });
    }
  }

  /** Resolves when the loop has ended (source finished or stopped). */
  async done(): Promise<void> {
    await this.loop;
  }

  status(): {
    state: WorkerState;
    error: string | null;
    framesProcessed: number;
    detections: number;
    modelId: string;
    modelVersion: string;
    provider: string | null;
    capture: CameraStatus;
  } {
    return {
      state: this.state,
      modelId: this.deps.modelId,
      modelVersion: this.deps.modelVersion,
      provider: this.provider,
      error: this.error,
      framesProcessed: this.processed,
      detections: this.detections,
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
