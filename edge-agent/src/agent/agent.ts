import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Clock, ComponentGroup, ComponentStack, systemClock } from '@edgefleet/service-kit';
import type { AgentConfig } from '../config/agent-config-schema.js';
import type { Logger } from '@edgefleet/service-kit';
import { SqliteOutbox } from '../outbox/sqlite-outbox.js';
import type { Outbox } from '../outbox/outbox.js';
import { createFrameSource } from '../capture/create-frame-source.js';
import { AgentMetrics } from '../metrics/agent-metrics.js';
import { MetricsServer } from '../metrics/metrics-server.js';
import { SdNotifier } from '../systemd/sd-notify.js';
import { Watchdog } from '../systemd/watchdog.js';
import { MainLoop } from './main-loop.js';
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

/** What the agent built at start; status, health and the main loop read it. */
interface AgentParts {
  readonly notifier: SdNotifier;
  readonly metrics: AgentMetrics;
  readonly outbox: Outbox;
  readonly manager: ModelManager;
  readonly control: { readonly client: ControlClient; readonly reporter: StatusReporter } | null;
  readonly workers: readonly CameraWorker[];
  readonly sync: MqttSyncWorker | null;
}

/**
 * Composition root of the edge agent. Start builds every component from the validated config, registering
 * each in one ComponentStack as it is built, in the order they must stop, then starts them in dependency
 * order: models, cameras, the control plane link, sync, metrics, the main loop. Stop (SIGTERM) runs the
 * stack in reverse: main loop, cameras (in-flight frames land in the outbox), sync (drains what they wrote
 * last), metrics, reporter, control link, model store, models, detector sessions, model state, outbox.
 */
export class Agent {
  private readonly components = new ComponentStack();
  private readonly abort = new AbortController();
  private readonly startedAtMs: number;
  private parts: AgentParts | null = null;
  private metricsServer: MetricsServer | null = null;
  private mainLoop: MainLoop | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly deps: AgentDeps) {
    this.startedAtMs = this.clock.now();
  }

  private get clock(): Clock {
    return this.deps.clock ?? systemClock;
  }

  private get built(): AgentParts {
    if (!this.parts) throw new Error('agent is not started');
    return this.parts;
  }

  async start(): Promise<void> {
    const signal = this.abort.signal;
    try {
      const parts = this.build();
      this.parts = parts;
      await parts.manager.start(signal);
      await new ComponentGroup('cameras', parts.workers).start(signal);
      // The control plane link runs in the background: cameras already run on what they booted with.
      await parts.control?.reporter.start(signal);
      await parts.control?.client.start(signal);
      // Store-and-forward connects in the background and never blocks detection. No signal: it must outlive
      // the cameras on shutdown to drain what they wrote last.
      await parts.sync?.start();
      await this.metricsServer?.start(signal);
      if (this.metricsServer) this.deps.logger.info('metrics listening', { url: this.metricsServer.url });
      await this.mainLoop?.start(signal);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.built.notifier.ready();
    this.built.notifier.status(this.statusLine());
    this.deps.logger.info('agent ready', { cameras: this.built.workers.length, status: this.statusLine() });
  }

  /** Builds every part; each is registered for stopping as soon as it exists (reverse of the stop order). */
  private build(): AgentParts {
    const { config, logger } = this.deps;
    const dataDir = resolve(config.dataDir);
    mkdirSync(dataDir, { recursive: true });
    const notifier = new SdNotifier();
    this.components.adopt({ name: 'systemd-notify', stop: async () => notifier.close() });
    const metrics = new AgentMetrics({ clock: this.clock });
    const outbox = this.openOutbox(metrics);
    const cameras = config.cameras.filter((c) => c.enabled);
    const { manager, control } = this.buildModels(dataDir, cameras, metrics);
    const workers = this.buildCameraWorkers({ cameras, manager, outbox, metrics });
    this.buildMetricsServer(metrics);
    const parts: AgentParts = {
      notifier,
      metrics,
      outbox,
      manager,
      control,
      workers,
      sync: this.buildSync(outbox, metrics),
    };
    // Stopped first: the cameras stop after the main loop, then sync drains what they wrote last.
    this.components.adopt(new ComponentGroup('cameras', parts.workers));
    this.mainLoop = this.components.adopt(
      new MainLoop({
        watchdog: new Watchdog({
          notifier,
          onError: (err) => logger.warn('watchdog notification failed', { error: describeError(err) }),
        }),
        tick: () => this.onTick(),
      }),
    );
    return parts;
  }

  private openOutbox(metrics: AgentMetrics): Outbox {
    const { config, logger } = this.deps;
    const outbox = SqliteOutbox.open({
      path: config.outbox.path,
      deviceId: config.deviceId,
      maxRows: config.outbox.maxRows,
      maxBytes: config.outbox.maxBytes,
      synchronous: config.outbox.synchronous,
    });
    const off = outbox.onEvicted((e) => {
      metrics.observeEviction(e);
      logger.warn('outbox full: oldest rows evicted', { ...e });
    });
    this.components.adopt({
      name: 'outbox',
      stop: async () => {
        off();
        outbox.close();
      },
    });
    return outbox;
  }

  /**
   * The model manager, with its control-plane side when the config has a `control` section: gRPC client,
   * status reporter, model store under `<dataDir>/models` and the per-camera state in
   * `<dataDir>/model-state.sqlite`.
   */
  private buildModels(
    dataDir: string,
    cameras: AgentConfig['cameras'],
    metrics: AgentMetrics,
  ): Pick<AgentParts, 'manager' | 'control'> {
    const { config, logger } = this.deps;
    const settings = controlSettings(config);
    const pool = new DetectorPool(logger);
    if (!settings) {
      this.components.adopt({ name: 'detector-pool', stop: () => pool.close() });
      return { manager: this.adoptManager({ cameras, pool, metrics, control: null }), control: null };
    }
    const log = logger.child({ component: 'control' });
    const state = ModelStateStore.open(join(dataDir, 'model-state.sqlite'));
    this.components.adopt({ name: 'model-state', stop: async () => state.close() });
    this.components.adopt({ name: 'detector-pool', stop: () => pool.close() });
    let manager: ModelManager | null = null;
    const client = new ControlClient({
      settings,
      deviceId: config.deviceId,
      logger: log,
      clock: this.clock,
      watchRequest: () =>
        watchRequest({
          deviceId: config.deviceId,
          knownRevision: manager?.knownRevision() ?? 0,
          agentVersion: AGENT_VERSION,
          providers: manager?.providers() ?? [],
          cameras,
        }),
      onSnapshot: (snapshot) => manager?.handleSnapshot(snapshot),
      onConnection: (watching) => metrics.controlConnection(watching),
    });
    const reporter = new StatusReporter({
      send: (r) => client.report(r),
      retryDelay: (a) => client.retryDelay(a),
      logger: log,
    });
    const store = new ModelStore({
      dir: join(dataDir, 'models'),
      key: settings.publicKey,
      source: client,
      logger: log,
      retryDelay: (a) => client.retryDelay(a),
    });
    store.open();
    manager = this.adoptManager({ cameras, pool, metrics, control: { settings, store, state, reporter } });
    this.components.adopt({ name: 'model-store', stop: async () => store.stop() });
    this.components.adopt(client);
    // Reports made during the run get a moment (1 s) to reach the control plane; the rest is lost.
    this.components.adopt(reporter);
    logger.info('model rollout enabled', {
      url: settings.url,
      tls: settings.tls !== null,
      keyId: settings.publicKey.keyId,
    });
    return { manager, control: { client, reporter } };
  }

  private adoptManager(parts: {
    cameras: AgentConfig['cameras'];
    pool: DetectorPool;
    metrics: AgentMetrics;
    control: ConstructorParameters<typeof ModelManager>[0]['control'];
  }): ModelManager {
    const { config, logger } = this.deps;
    return this.components.adopt(
      new ModelManager({
        deviceId: config.deviceId,
        cameras: parts.cameras,
        model: config.model,
        pool: parts.pool,
        logger: logger.child({ component: 'models' }),
        control: parts.control,
        observer: parts.metrics,
        clock: this.clock,
      }),
    );
  }

  private buildCameraWorkers(parts: {
    cameras: AgentConfig['cameras'];
    manager: ModelManager;
    outbox: Outbox;
    metrics: AgentMetrics;
  }): CameraWorker[] {
    const { config, logger } = this.deps;
    return parts.cameras.map((camera) => {
      const modelConfig = camera.model ?? config.model;
      const models = parts.manager.ready(camera.id);
      const log = logger.child({ camera: camera.id });
      const source = createFrameSource(camera, {
        logger: log,
        // Capture scales to the primary the camera boots on; a later model letterboxes any size itself.
        fit: async () => (await models).current().primary.handle.detector.info,
      });
      return new CameraWorker({
        source,
        models,
        outbox: parts.outbox,
        observer: parts.metrics,
        logger: log,
        detectOptions: { conf: modelConfig.conf, iou: modelConfig.iou, maxDetections: modelConfig.maxDetections },
        configuredModel: { modelId: modelConfig.id, modelVersion: modelConfig.version },
        onDetections: this.deps.onDetections,
      });
    });
  }

  private buildSync(outbox: Outbox, metrics: AgentMetrics): MqttSyncWorker | null {
    const sync = createSyncWorker({
      config: this.deps.config,
      outbox,
      logger: this.deps.logger,
      clock: this.clock,
      observer: metrics,
      reports: {
        metrics: () => ({ cameras: this.built.workers.map((w) => metrics.cameraMetrics(w.cameraId)) }),
        status: () => this.statusReport(metrics),
      },
    });
    // After the cameras: drain what they wrote last (bounded by sync.drainTimeoutMs), then disconnect.
    return sync ? this.components.adopt(sync) : null;
  }

  private statusReport(metrics: AgentMetrics) {
    const workers = this.built.workers;
    return {
      agentVersion: AGENT_VERSION,
      startedAtMs: this.startedAtMs,
      hardware: `${process.platform}-${process.arch}`,
      providers: [...new Set(workers.map((w) => w.status().provider).filter((p): p is string => p !== null))],
      cameras: workers.map((w) => {
        const status = w.status();
        return toCameraStatus({
          status,
          fps: metrics.fpsOf(w.cameraId),
          modelId: status.modelId,
          modelVersion: status.modelVersion,
          provider: status.provider ?? undefined,
        });
      }),
    };
  }

  private buildMetricsServer(metrics: AgentMetrics): void {
    const { config } = this.deps;
    if (!config.metrics.enabled) return;
    this.metricsServer = this.components.adopt(
      new MetricsServer({
        host: config.metrics.host,
        port: config.metrics.port,
        registry: metrics.registry,
        health: () => this.health(),
      }),
    );
  }

  /** The agent's Prometheus registry (what /metrics serves); null before start. */
  get metricsRegistry(): AgentMetrics['registry'] | null {
    return this.parts?.metrics.registry ?? null;
  }

  /** The model manager (tests and embedders observe swaps with `onReport`); null before start. */
  get models(): ModelManager | null {
    return this.parts?.manager ?? null;
  }

  /** The main loop's refresh: gauges, then the systemd status line. */
  private onTick(): void {
    const { metrics, outbox, workers, sync, control, notifier } = this.built;
    metrics.observeOutbox(outbox.stats());
    for (const w of workers) metrics.observeCamera(w.status().capture);
    if (sync) metrics.observeSyncLag(sync.stats().syncLagMs / 1000);
    if (control) metrics.observeReportsQueued(control.reporter.stats().queued);
    notifier.status(this.statusLine());
  }

  statusLine(): string {
    const { workers, outbox, sync } = this.built;
    const states = workers.map((w) => w.status());
    const running = states.filter((s) => s.state === 'running' && s.capture.state === 'running').length;
    const stats = outbox.stats();
    const syncStats = sync?.stats();
    const syncText = syncStats ? `; sync ${syncStats.state}, lag ${(syncStats.syncLagMs / 1000).toFixed(1)} s` : '';
    return `${running}/${states.length} cameras running; outbox ${stats.frames} frames, ${stats.detections} detections${syncText}`;
  }

  status(): AgentStatus {
    const { workers, control, sync, manager, outbox } = this.built;
    const cameras: AgentStatus['cameras'] = {};
    for (const w of workers) cameras[w.cameraId] = w.status();
    return {
      deviceId: this.deps.config.deviceId,
      sync: sync?.stats() ?? null,
      control: control ? { ...control.client.stats(), reports: control.reporter.stats() } : null,
      models: manager.status(),
      cameras,
      outbox: outbox.stats(),
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
    await Promise.all(this.built.workers.map((w) => w.done()));
  }

  /** SIGTERM path: stop capture, let in-flight frames land in the outbox, close everything. Idempotent. */
  async stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    await this.stopping;
  }

  private async stopOnce(): Promise<void> {
    const { logger } = this.deps;
    this.parts?.notifier.stopping();
    this.abort.abort();
    await this.components.stopAll(({ name, error }) =>
      logger.error('component failed to stop', { component: name, error: describeError(error) }),
    );
    logger.info('agent stopped');
  }
}
