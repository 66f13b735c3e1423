import { Backoff, type Clock, type Component, type Logger, ReconnectLoop, redactUrl } from '@edgefleet/service-kit';
import { describeError } from '../errors.js';
import type { Outbox } from '../outbox/outbox.js';
import type { MqttSyncSettings } from './sync-options.js';
import type { DeviceReports, SyncObserver } from './sync-reports.js';
import { type SyncRun, createSyncRun } from './sync-run.js';
import type { BrokerLimits, SyncSession } from './sync-session.js';
import { type SyncStats, SyncStatus } from './sync-status.js';

export type { DeviceReports, MetricsReport, StatusReport, SyncObserver } from './sync-reports.js';
export type { SyncState, SyncStats } from './sync-status.js';

/**
 * Store-and-forward sync: outbox → MQTT, at least once.
 *
 * - Batches are published with QoS 1 in outbox row order (per camera, sequence order). Their rows are
 *   deleted only when the broker's PUBACK arrives; at most `inFlightWindow` batches wait for one.
 * - Before the first publish of rows not yet known durable, the outbox is checkpointed (fsync), so after a
 *   power cut the agent can never hand out a sequence number again that the broker has already seen.
 * - The connection is the worker's own: one client per attempt, no mqtt.js auto-reconnect, no offline
 *   queue (nothing is published while disconnected; the outbox is the queue). When a connection ends, every
 *   batch in flight counts as unsent and the next connection starts again at the oldest row still in the
 *   outbox. A batch may therefore arrive twice (and a re-sent batch after later ones); the ingest's key
 *   (device, camera, seq) with ON CONFLICT DO NOTHING makes that harmless.
 * - Reconnects use exponential backoff with jitter (reconnectMinMs … reconnectMaxMs).
 * - Clean session: the outbox, not the broker session, holds unacknowledged data.
 * - Availability: last will on `…/status` (retained, online = false); online status published retained on
 *   connect and every `statusIntervalMs`; online = false published before a clean disconnect.
 * - Capture and detection never wait for any of this: the outbox accepts appends while offline.
 */

export interface MqttSyncWorkerDeps {
  readonly outbox: Outbox;
  readonly deviceId: string;
  readonly logger: Logger;
  readonly settings: MqttSyncSettings;
  readonly reports?: DeviceReports;
  readonly observer?: SyncObserver;
  readonly clock: Clock;
  /** [0, 1) for the backoff jitter; default Math.random. */
  readonly random?: () => number;
}

/** Give a clean disconnect this long to close on stop before the socket is cut. */
const DISCONNECT_TIMEOUT_MS = 1000;

/**
 * The component: a connection loop (connector + backoff) around the publish pump and the status and
 * metrics publisher, all built at start() in one `SyncRun`.
 */
export class MqttSyncWorker implements Component {
  readonly name = 'sync worker';
  private readonly status: SyncStatus;
  private run: SyncRun | null = null;
  private running: Promise<void> | null = null;
  private abortSignal: AbortSignal | null = null;
  private readonly onAbort = (): void => void this.stop();

  constructor(private readonly deps: MqttSyncWorkerDeps) {
    this.status = new SyncStatus({ outbox: deps.outbox, logger: deps.logger, clock: deps.clock });
  }

  /**
   * Starts connecting in the background and returns at once: the agent must run (and fill the outbox)
   * whether or not the broker is reachable. Throws RangeError for invalid settings. Aborting `signal`
   * stops the worker like `stop()`.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.running) throw new Error('sync worker already started');
    const run = createSyncRun({
      outbox: this.deps.outbox,
      deviceId: this.deps.deviceId,
      logger: this.deps.logger,
      settings: this.deps.settings,
      reports: this.deps.reports,
      observer: this.deps.observer,
      clock: this.deps.clock,
      status: this.status,
      onConnected: (r, session, limits) => this.onConnected(r, session, limits),
      onClosed: (r, session) => this.onClosed(r, session),
    });
    this.run = run;
    this.running = this.connectionLoop(run).catch((err: unknown) => {
      // The loop handles its own failures; reaching this is a bug worth a loud log, not a crash.
      this.deps.logger.error('sync worker loop failed', { error: describeError(err) });
    });
    if (signal) {
      this.abortSignal = signal;
      if (signal.aborted) void this.stop();
      else signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /**
   * Stops publishing, waits up to `drainTimeoutMs` for batches in flight to be acknowledged (so their rows
   * are deleted now rather than sent again next time), publishes online = false and disconnects cleanly.
   * Call it before closing the outbox. Safe to call more than once.
   */
  async stop(): Promise<void> {
    const { run, running } = this;
    if (!run || !running) return;
    if (run.stopping.signal.aborted) {
      await running;
      return;
    }
    run.stopping.abort();
    this.abortSignal?.removeEventListener('abort', this.onAbort);
    run.pump.clearPoll();
    // No periodic online status may overtake the offline one.
    run.publisher.stopReporting();
    const session = run.pump.session;
    if (session) {
      if (run.pump.inFlightBatches > 0) await run.pump.waitDrained(run.options.drainTimeoutMs);
      if (session.live) await this.disconnectCleanly(run, session, running);
    }
    run.connector.endAttempt();
    await running;
    this.running = null;
  }

  stats(): SyncStats {
    return this.status.snapshot(this.run?.pump.inFlightBatches ?? 0);
  }

  // ---- connection loop ------------------------------------------------------------------------

  private async connectionLoop(run: SyncRun): Promise<void> {
    const { options } = run;
    const loop = new ReconnectLoop({
      backoff: new Backoff(
        { initialMs: options.reconnectMinMs, maxMs: options.reconnectMaxMs, factor: 2, jitter: 0.2 },
        this.deps.random,
      ),
      attempt: () => run.connector.connectOnce(),
      onConnecting: () => {
        this.status.state = 'connecting';
      },
      onWaiting: ({ delayMs, attempt }) => {
        this.status.state = 'waiting';
        this.deps.logger.info('sync reconnecting', { inMs: delayMs, attempt, lastError: this.status.lastError });
      },
      onReconnect: () => {
        this.status.counters.reconnects++;
      },
    });
    await loop.run(run.stopping.signal);
    this.status.state = 'stopped';
  }

  private onConnected(run: SyncRun, session: SyncSession, limits: BrokerLimits): void {
    run.pump.attach(session, limits);
    this.status.state = 'connected';
    this.status.protocol = run.connector.protocol;
    this.status.counters.connects++;
    this.deps.logger.info('sync connected', {
      url: redactUrl(run.options.url, { hideUser: true }),
      clientId: run.options.clientId,
      protocol: this.status.protocol,
      window: run.pump.effectiveWindow,
    });
    this.deps.observer?.connectionChanged?.(true);
    run.publisher.startReporting(session);
    run.pump.pump();
  }

  private onClosed(run: SyncRun, session: SyncSession): void {
    if (run.pump.session !== session) return;
    const lostBatches = run.pump.inFlightBatches;
    run.pump.detach();
    run.publisher.stopReporting();
    // A disconnect we asked for (stop) is routine; any other one is worth a warning.
    if (run.stopping.signal.aborted) this.deps.logger.info('sync disconnected', { unackedBatches: lostBatches });
    else this.deps.logger.warn('sync disconnected', { unackedBatches: lostBatches, lastError: this.status.lastError });
    this.deps.observer?.connectionChanged?.(false);
  }

  private async disconnectCleanly(run: SyncRun, session: SyncSession, running: Promise<void>): Promise<void> {
    await run.publisher.publishOffline(session.client);
    // Batches still unacknowledged stay in the outbox for next time; mqtt.js would hold the DISCONNECT
    // until they are acknowledged, so they are dropped from its store first.
    for (const id of Object.keys(session.client.outgoing)) session.client.removeOutgoingMessage(Number(id));
    // A clean DISCONNECT: the broker discards the will [MQTT-3.1.2-10]; the offline status is already retained.
    session.client.end(false);
    // A connection too stuck to even write the DISCONNECT is cut.
    const force = setTimeout(() => session.client.stream?.destroy(), DISCONNECT_TIMEOUT_MS);
    await running;
    clearTimeout(force);
  }
}
