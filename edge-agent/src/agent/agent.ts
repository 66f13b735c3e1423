import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OnnxDetector, type Detector } from '@edgefleet/vision';
import type { AgentConfig, CameraConfig, ModelConfig } from '../config/agent-config-schema.js';
import type { Logger } from '../log/logger.js';
import { SqliteOutbox } from '../outbox/sqlite-outbox.js';
import type { Outbox } from '../outbox/outbox.js';
import { createFrameSource } from '../capture/create-frame-source.js';
import { AgentMetrics } from '../metrics/agent-metrics.js';
import { MetricsServer } from '../metrics/metrics-server.js';
import { SdNotifier } from '../systemd/sd-notify.js';
import { Watchdog } from '../systemd/watchdog.js';
import { CameraWorker } from './camera-worker.js';
import { SerialLock } from './serial-lock.js';
import { describeError } from '../errors.js';
import { createSyncWorker } from '../sync/create-sync-worker.js';
import { toCameraStatus } from '../sync/camera-status-report.js';
import type { MqttSyncWorker, SyncStats } from '../sync/mqtt-sync-worker.js';
import { AGENT_VERSION } from './agent-version.js';

export interface AgentDeps {
  readonly config: AgentConfig;
  readonly logger: Logger;
  /** Called for each processed frame's detections (the `run --print-detections` flag, demos). */
  readonly onDetections?: (cameraId: string, frameId: number, detections: readonly unknown[]) => void;
}

// A type alias (not an interface) so it fits the health endpoint's index-signature report type.
export type AgentStatus = {
  readonly deviceId: string;
  readonly sync: SyncStats | null;
  readonly cameras: Record<string, ReturnType<CameraWorker['status']>>;
  readonly outbox: ReturnType<Outbox['stats']>;
};

interface LoadedModel {
  readonly detector: Promise<Detector>;
  readonly lock: SerialLock;
}

/**
 * Composition root of the edge agent: builds every component from the validated config,
 * starts them in dependency order and stops them in reverse.
 */
export class Agent {
  private readonly workers: CameraWorker[] = [];
  private readonly models = new Map<string, LoadedModel>();
  private outbox: Outbox | null = null;
  private sync: MqttSyncWorker | null = null;
  private readonly startedAtMs = Date.now();
  private metrics: AgentMetrics | null = null;
  private metricsServer: MetricsServer | null = null;
  private notifier: SdNotifier | null = null;
  private watchdog: Watchdog | null = null;
  private tick: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(private readonly deps: AgentDeps) {}

  async start(): Promise<void> {
    const { config, logger } = this.deps;
    const dataDir = resolve(config.dataDir);
    mkdirSync(dataDir, { recursive: true });

    this.notifier = new SdNotifier();
    this.metrics = new AgentMetrics();
    const outbox = SqliteOutbox.open({
      path: config.outbox.path ?? join(dataDir, 'outbox.sqlite'),
      deviceId: config.deviceId,
      maxRows: config.outbox.maxRows,
      maxBytes: config.outbox.maxBytes,
      synchronous: config.outbox.synchronous,
    });
    this.outbox = outbox;
    const metrics = this.metrics;
    this.unsubscribe.push(
      outbox.onEvicted((e) => {
        metrics.observeEviction(e);
        logger.warn('outbox full: oldest rows evicted', { ...e });
      }),
    );

    for (const camera of config.cameras) {
      if (!camera.enabled) continue;
      const modelConfig = camera.model ?? config.model;
      const model = this.model(modelConfig);
      const log = logger.child({ camera: camera.id });
      const source = createFrameSource(camera, {
        logger: log,
        fit: async () => (await model.detector).info,
      });
      this.workers.push(
        new CameraWorker({
          source,
          detector: model.detector,
          detectorLock: model.lock,
          outbox: this.outbox,
          observer: this.metrics,
          logger: log,
          detectOptions: { conf: modelConfig.conf, iou: modelConfig.iou, maxDetections: modelConfig.maxDetections },
          modelId: modelConfig.id ?? modelConfig.path,
          modelVersion: modelConfig.version ?? 'local',
          onDetections: this.deps.onDetections,
        }),
      );
    }

    await Promise.all(this.workers.map((w) => w.start(this.abort.signal)));

    // Store-and-forward: connects in the background and never blocks detection; no signal, because it
    // must outlive the cameras on shutdown to drain what they wrote last.
    this.sync = createSyncWorker({
      config,
      outbox,
      logger,
      reports: {
        status: () => ({
          agentVersion: AGENT_VERSION,
          startedAtMs: this.startedAtMs,
          hardware: `${process.platform}-${process.arch}`,
          providers: [...new Set(this.workers.map((w) => w.status().provider).filter((p): p is string => p !== null))],
          cameras: this.workers.map((w) => {
            const status = w.status();
            return toCameraStatus({
              status,
              fps: metrics.fpsOf(w.cameraId),
              modelId: status.modelId,
              modelVersion: status.modelVersion,
              provider: status.provider ?? undefined,
            });
          }),
        }),
      },
    });
    await this.sync?.start();

    if (config.metrics.enabled) {
      this.metricsServer = new MetricsServer({
        host: config.metrics.host,
        port: config.metrics.port,
        registry: this.metrics.registry,
        health: () => this.health(),
      });
      await this.metricsServer.start();
      logger.info('metrics listening', { url: this.metricsServer.url });
    }

    // The main loop: refresh gauges, tell systemd how we are, and prove the event loop is alive.
    this.watchdog = new Watchdog({
      notifier: this.notifier,
      onError: (err) => logger.warn('watchdog notification failed', { error: describeError(err) }),
    });
    this.watchdog.start();
    this.onTick();
    this.tick = setInterval(() => this.onTick(), 1000);
    this.notifier.ready();
    this.notifier.status(this.statusLine());
    logger.info('agent ready', { cameras: this.workers.length, status: this.statusLine() });
  }

  private model(config: ModelConfig): LoadedModel {
    const key = JSON.stringify([config.path, config.adapter, config.providers, config.letterbox]);
    let model = this.models.get(key);
    if (!model) {
      const detector = OnnxDetector.load(config.path, {
        providers: config.providers,
        adapter: config.adapter === 'auto' ? undefined : config.adapter,
        tensorrtFp16: config.tensorrtFp16,
        engineCacheDir: config.engineCacheDir,
        letterbox: config.letterbox,
        logger: this.deps.logger,
      });
      // Avoid an unhandled rejection before a camera awaits it; each camera reports the failure itself.
      detector.catch(() => undefined);
      model = { detector, lock: new SerialLock() };
      this.models.set(key, model);
    }
    return model;
  }

  private onTick(): void {
    this.watchdog?.kick();
    if (this.outbox && this.metrics) {
      this.metrics.observeOutbox(this.outbox.stats());
      for (const w of this.workers) this.metrics.observeCamera(w.status().capture);
      if (this.sync) this.metrics.observeSyncLag(this.sync.stats().syncLagMs / 1000);
    }
    this.notifier?.status(this.statusLine());
  }

  statusLine(): string {
    const states = this.workers.map((w) => w.status());
    const running = states.filter((s) => s.state === 'running' && s.capture.state === 'running').length;
    const stats = this.outbox?.stats();
    const sync = this.sync?.stats();
    const syncText = sync ? `; sync ${sync.state}, lag ${(sync.syncLagMs / 1000).toFixed(1)} s` : '';
    return `${running}/${states.length} cameras running; outbox ${stats?.frames ?? 0} frames, ${stats?.detections ?? 0} detections${syncText}`;
  }

  status(): AgentStatus {
    const cameras: AgentStatus['cameras'] = {};
    for (const w of this.workers) cameras[w.cameraId] = w.status();
    return { deviceId: this.deps.config.deviceId, sync: this.sync?.stats() ?? null, cameras, outbox: this.outbox!.stats() };
  }

  /** /healthz: failing when no camera runs, degraded when some do not. */
  health(): { status: 'ok' | 'degraded' | 'failing' } & AgentStatus {
    const status = this.status();
    const all = Object.values(status.cameras);
    const running = all.filter((c) => c.state === 'running' && c.capture.state === 'running').length;
    const verdict = running === all.length ? 'ok' : running === 0 ? 'failing' : 'degraded';
    return { status: verdict, ...status };
  }

  /** Resolves when every camera has finished on its own (finite sources) or failed. */
  async idle(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.done()));
  }

  /** SIGTERM path: stop capture, let in-flight frames land in the outbox, close everything. */
  async stop(): Promise<void> {
    const { logger } = this.deps;
    this.notifier?.stopping();
    this.abort.abort();
    if (this.tick) clearInterval(this.tick);
    this.watchdog?.stop();
    await Promise.all(this.workers.map((w) => w.stop().catch((err) => logger.error('camera stop failed', { error: describeError(err) }))));
    // After the cameras: drain what they wrote last (bounded by sync.drainTimeoutMs), then disconnect.
    await this.sync?.stop().catch((err) => logger.error('sync stop failed', { error: describeError(err) }));
    await this.metricsServer?.stop();
    for (const model of this.models.values()) {
      const detector = await model.detector.catch(() => null);
      await detector?.close();
    }
    for (const off of this.unsubscribe.splice(0)) off();
    this.outbox?.close();
    this.notifier?.close();
    logger.info('agent stopped');
  }
}
