import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Clock, systemClock } from '@edgefleet/service-kit';
import type { AgentConfig } from '../config/agent-config-schema.js';
import type { Logger } from '@edgefleet/service-kit';
import { SqliteOutbox } from '../outbox/sqlite-outbox.js';
import type { Outbox } from '../outbox/outbox.js';
import { createFrameSource } from '../capture/create-frame-source.js';
import { AgentMetrics } from '../metrics/agent-metrics.js';
import { MetricsServer } from '../metrics/metrics-server.js';
import { SdNotifier } from '../systemd/sd-notify.js';
import { Watchdog } from '../systemd/watchdog.js';
import { CameraWorker } from './camera-worker.js';
import { describeError } from '../errors.js';
import { ControlClient, type ControlStats } from '../control/control-client.js';
import { controlSettings } from '../control/control-settings.js';
import { StatusReporter, type StatusReporterStats } from '../control/status-reporter.js';
import { watchRequest } from '../control/watch-request.js';
import { DetectorPool } from '../models/detector-pool.js';
import { ModelManager } from '../models/model-manager.js';
import { ModelStateStore } from '../models/model-state-store.js';
import { ModelStore } from '../models/model-store.js';
import { createSyncWorker } from '../sync/create-sync-worker.js';
import { toCameraStatus } from '../sync/camera-status-report.js';
import type { MqttSyncWorker, SyncStats } from '../sync/mqtt-sync-worker.js';
import { AGENT_VERSION } from './agent-version.js';

export interface AgentDeps {
  readonly config: AgentConfig;
  readonly logger: Logger;
  /** Called for each processed frame's detections (the `run --print-detections` flag, demos). */
  readonly onDetections?: (cameraId: string, frameId: number, detections: readonly unknown[]) => void;
  /** The time seam of the whole agent; default systemClock. */
  readonly clock?: Clock;
}

// A type alias (not an interface) so it fits the health endpoint's index-signature report type.
export type AgentStatus = {
  readonly deviceId: string;
  readonly sync: SyncStats | null;
  /** The control plane link (assignment stream, reports); null without a `control` section. */
  readonly control: (ControlStats & { readonly reports: StatusReporterStats }) | null;
  /** Per camera: assignment revision handled, previous primary, last activation, revision waiting. */
  readonly models: ReturnType<ModelManager['status']>;
  readonly cameras: Record<string, ReturnType<CameraWorker['status']>>;
  readonly outbox: ReturnType<Outbox['stats']>;
};

/**
 * Composition root of the edge agent: builds every component from the validated config,
 * starts them in dependency order and stops them in reverse.
 */
export class Agent {
  private readonly workers: CameraWorker[] = [];
  private pool: DetectorPool | null = null;
  private manager: ModelManager | null = null;
  private control: ControlClient | null = null;
  private reporter: StatusReporter | null = null;
  private modelStore: ModelStore | null = null;
  private modelState: ModelStateStore | null = null;
  private outbox: Outbox | null = null;
  private sync: MqttSyncWorker | null = null;
  private readonly startedAtMs = Date.now();
  private metrics: AgentMetrics | null = null;
  private metricsServer: MetricsServer | null = null;
  private notifier: SdNotifier | null = null;
  private watchdog: Watchdog | null = null;
  private tick: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();
  private stopping: Promise<void> | null = null;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(private readonly deps: AgentDeps) {}

  private get clock(): Clock {
    return this.deps.clock ?? systemClock;
  }

  async start(): Promise<void> {
    const { config, logger } = this.deps;
    const dataDir = resolve(config.dataDir);
    mkdirSync(dataDir, { recursive: true });

    this.notifier = new SdNotifier();
    this.metrics = new AgentMetrics({ clock: this.clock });
    const outbox = SqliteOutbox.open({
      path: config.outbox.path,
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

    const cameras = config.cameras.filter((c) => c.enabled);
    this.pool = new DetectorPool(logger);
    const manager = this.createModelManager(dataDir, cameras);
    this.manager = manager;
    await manager.start(this.abort.signal);
    for (const camera of cameras) {
      const modelConfig = camera.model ?? config.model;
      const models = manager.ready(camera.id);
      const log = logger.child({ camera: camera.id });
      const source = createFrameSource(camera, {
        logger: log,
        // Capture scales to the primary the camera boots on; a later model letterboxes any size itself.
        fit: async () => (await models).current().primary.handle.detector.info,
      });
      this.workers.push(
        new CameraWorker({
          source,
          models,
          outbox: this.outbox,
          observer: this.metrics,
          logger: log,
          detectOptions: { conf: modelConfig.conf, iou: modelConfig.iou, maxDetections: modelConfig.maxDetections },
          configuredModel: {
            modelId: modelConfig.id,
            modelVersion: modelConfig.version,
          },
          onDetections: this.deps.onDetections,
        }),
      );
    }

    await Promise.all(this.workers.map((w) => w.start(this.abort.signal)));
    // The control plane link runs in the background: cameras already run on what they booted with.
    this.reporter?.start();
    await this.control?.start(this.abort.signal);

    // Store-and-forward: connects in the background and never blocks detection; no signal, because it
    // must outlive the cameras on shutdown to drain what they wrote last.
    this.sync = createSyncWorker({
      config,
      outbox,
      logger,
      clock: this.clock,
      observer: metrics,
      reports: {
        metrics: () => ({ cameras: this.workers.map((w) => metrics.cameraMetrics(w.cameraId)) }),
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

  /**
   * The model manager, with its control-plane side when the config has a `control` section: gRPC client,
   * status reporter, model store under `<dataDir>/models` and the per-camera state in
   * `<dataDir>/model-state.sqlite`.
   */
  private createModelManager(dataDir: string, cameras: AgentConfig['cameras']): ModelManager {
    const { config, logger } = this.deps;
    const metrics = this.metrics!;
    const settings = controlSettings(config);
    let control: ConstructorParameters<typeof ModelManager>[0]['control'] = null;
    if (settings) {
      const log = logger.child({ component: 'control' });
      const client = new ControlClient({
        settings,
        deviceId: config.deviceId,
        logger: log,
        clock: this.clock,
        watchRequest: () =>
          watchRequest({
            deviceId: config.deviceId,
            knownRevision: this.manager?.knownRevision() ?? 0,
            agentVersion: AGENT_VERSION,
            providers: this.manager?.providers() ?? [],
            cameras,
          }),
        onSnapshot: (snapshot) => this.manager?.handleSnapshot(snapshot),
        onConnection: (watching) => metrics.controlConnection(watching),
      });
      this.control = client;
      this.reporter = new StatusReporter({
        send: (r) => client.report(r),
        retryDelay: (a) => client.retryDelay(a),
        logger: log,
      });
      this.modelStore = new ModelStore({
        dir: join(dataDir, 'models'),
        key: settings.publicKey,
        source: client,
        logger: log,
        retryDelay: (a) => client.retryDelay(a),
      });
      this.modelStore.open();
      this.modelState = ModelStateStore.open(join(dataDir, 'model-state.sqlite'));
      control = { settings, store: this.modelStore, state: this.modelState, reporter: this.reporter };
      logger.info('model rollout enabled', {
        url: settings.url,
        tls: settings.tls !== null,
        keyId: settings.publicKey.keyId,
      });
    }
    return new ModelManager({
      deviceId: config.deviceId,
      cameras,
      model: config.model,
      pool: this.pool!,
      logger: logger.child({ component: 'models' }),
      control,
      observer: metrics,
      clock: this.clock,
    });
  }

  /** The agent's Prometheus registry (what /metrics serves); null before start. */
  get metricsRegistry(): AgentMetrics['registry'] | null {
    return this.metrics?.registry ?? null;
  }

  /** The model manager (tests and embedders observe swaps with `onReport`); null before start. */
  get models(): ModelManager | null {
    return this.manager;
  }

  private onTick(): void {
    this.watchdog?.kick();
    if (this.outbox && this.metrics) {
      this.metrics.observeOutbox(this.outbox.stats());
      for (const w of this.workers) this.metrics.observeCamera(w.status().capture);
      if (this.sync) this.metrics.observeSyncLag(this.sync.stats().syncLagMs / 1000);
      if (this.control && this.reporter) this.metrics.observeReportsQueued(this.reporter.stats().queued);
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
    const control = this.control && this.reporter ? { ...this.control.stats(), reports: this.reporter.stats() } : null;
    return {
      deviceId: this.deps.config.deviceId,
      sync: this.sync?.stats() ?? null,
      control,
      models: this.manager?.status() ?? {},
      cameras,
      outbox: this.outbox!.stats(),
    };
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

  /** SIGTERM path: stop capture, let in-flight frames land in the outbox, close everything. Idempotent. */
  async stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    await this.stopping;
  }

  private async stopOnce(): Promise<void> {
    const { logger } = this.deps;
    this.notifier?.stopping();
    this.abort.abort();
    if (this.tick) clearInterval(this.tick);
    this.watchdog?.stop();
    await Promise.all(
      this.workers.map((w) =>
        w.stop().catch((err) => logger.error('camera stop failed', { error: describeError(err) })),
      ),
    );
    // After the cameras: drain what they wrote last (bounded by sync.drainTimeoutMs), then disconnect.
    await this.sync?.stop().catch((err) => logger.error('sync stop failed', { error: describeError(err) }));
    await this.metricsServer?.stop();
    // Reports made during the run get a moment to reach the control plane; the rest is lost with the process.
    await this.reporter
      ?.stop(1000)
      .catch((err) => logger.error('status reporter stop failed', { error: describeError(err) }));
    await this.control
      ?.stop()
      .catch((err) => logger.error('control client stop failed', { error: describeError(err) }));
    this.modelStore?.stop();
    await this.manager?.stop().catch((err) => logger.error('model manager stop failed', { error: describeError(err) }));
    await this.pool?.close();
    this.modelState?.close();
    for (const off of this.unsubscribe.splice(0)) off();
    this.outbox?.close();
    this.notifier?.close();
    logger.info('agent stopped');
  }
}
