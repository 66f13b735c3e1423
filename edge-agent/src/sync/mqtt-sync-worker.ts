import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  ProtoError,
  batchHeaderWireSize,
  detectionsTopic,
  encodeDetectionBatch,
  encodeDeviceMetrics,
  encodeDeviceStatus,
  metricsTopic,
  statusTopic,
  type DeviceMetrics,
  type DeviceStatus,
} from '@edgefleet/proto';
import { WakeableSleep } from '../agent/wakeable-sleep.js';
import { Backoff } from '../capture/backoff.js';
import { describeError } from '../errors.js';
import type { Logger } from '@edgefleet/service-kit';
import type { Outbox } from '../outbox/outbox.js';
import { OutboxBatcher, type OutboxBatch, type PendingFrame } from './outbox-batcher.js';
import { resolveSyncOptions, type MqttSyncOptions, type MqttSyncSettings } from './sync-options.js';
import { redactUrl } from '@edgefleet/service-kit';

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

/** Fields of DeviceStatus the agent supplies; the worker fills the device, sync and outbox fields. */
export type StatusReport = Partial<
  Pick<DeviceStatus, 'agentVersion' | 'startedAtMs' | 'cameras' | 'hardware' | 'providers'>
>;
/** Fields of DeviceMetrics the agent supplies. */
export type MetricsReport = Partial<Pick<DeviceMetrics, 'cameras'>>;

export interface DeviceReports {
  status?(): StatusReport;
  metrics?(): MetricsReport;
}

/** Optional hooks, e.g. for Prometheus. Called synchronously; they must not throw. */
export interface SyncObserver {
  batchAcked?(frames: number, detections: number, roundTripMs: number): void;
  connectionChanged?(connected: boolean): void;
}

export interface MqttSyncWorkerDeps {
  readonly outbox: Outbox;
  readonly deviceId: string;
  readonly logger: Logger;
  readonly settings: MqttSyncSettings;
  readonly reports?: DeviceReports;
  readonly observer?: SyncObserver;
  /** Wall clock, ms; default Date.now. */
  readonly now?: () => number;
  /** [0, 1) for the backoff jitter; default Math.random. */
  readonly random?: () => number;
}

export type SyncState = 'stopped' | 'connecting' | 'connected' | 'waiting';

export interface SyncStats {
  readonly state: SyncState;
  /** Protocol of the current or last connection. */
  readonly protocol: 'mqtt5' | 'mqtt311' | null;
  readonly connects: number;
  /** Connection attempts after a failure or a lost connection. */
  readonly reconnects: number;
  readonly publishedBatches: number;
  readonly ackedBatches: number;
  readonly ackedFrames: number;
  readonly ackedDetections: number;
  readonly inFlightBatches: number;
  /** Frames (and their detections) dropped unsent because the contract rejects them (see log). */
  readonly rejectedFrames: number;
  readonly rejectedDetections: number;
  readonly outboxFrames: number;
  readonly outboxDetections: number;
  /** Age of the oldest frame still in the outbox (unsent or unacknowledged), ms; 0 when empty. */
  readonly syncLagMs: number;
  readonly lastError: string | null;
  readonly lastErrorAtMs: number | null;
  readonly lastAckAtMs: number | null;
}

interface InFlight {
  readonly batchId: number;
  readonly rowIds: number[];
  readonly frames: number;
  readonly detections: number;
  readonly sentAt: number;
}

/** One connection attempt, from connect to close. Callbacks check `live` so a gone connection is ignored. */
interface Session {
  readonly client: MqttClient;
  live: boolean;
  connectedAt: number;
  acks: number;
}

interface SessionEnd {
  /** Connected and useful (acks or a stable connection): the backoff starts over. */
  readonly healthy: boolean;
  /** The broker refused MQTT 5 under protocol 'auto': retry at once with 3.1.1. */
  readonly retryNow: boolean;
}

/** A connection that lasted this long counts as healthy even without traffic. */
const STABLE_CONNECTION_MS = 10_000;
/** Give the offline status this long to be acknowledged on stop, and a clean disconnect this long to close. */
const STOP_STEP_TIMEOUT_MS = 1000;
/** CONNACK codes for "unsupported protocol version": 3.1.1 return code 1, MQTT 5 reason code 0x84. */
const PROTOCOL_REFUSED = new Set([1, 0x84]);

export class MqttSyncWorker {
  private options: MqttSyncOptions | null = null;
  private batcher: OutboxBatcher | null = null;
  /** The connection publishes go to; null while disconnected. */
  private session: Session | null = null;
  /** The client of the attempt in progress (connected or not), for stop(). */
  private client: MqttClient | null = null;
  private state: SyncState = 'stopped';
  private protocolVersion: 4 | 5 = 5;
  private protocolInUse: 'mqtt5' | 'mqtt311' | null = null;
  private stopping = false;
  private running: Promise<void> | null = null;
  private readonly inFlight = new Map<number, InFlight>();
  private effectiveWindow = 1;
  private pumping = false;
  /** Batches to send one frame at a time (after a batch that failed only as a whole). */
  private singleFrameBatches = 0;
  private pollTimer: NodeJS.Timeout | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private metricsTimer: NodeJS.Timeout | null = null;
  /** The reconnect delay, cut short by stop(). */
  private readonly reconnectPause = new WakeableSleep();
  private drained: (() => void) | null = null;
  private durableRowId = 0;
  /** Largest possible DetectionBatch header (device id, batch id, sent_at) in bytes. */
  private headerBytes = 0;
  private batchCounter = 0;
  private startedAt = 0;
  private readonly counters = {
    connects: 0,
    reconnects: 0,
    publishedBatches: 0,
    ackedBatches: 0,
    ackedFrames: 0,
    ackedDetections: 0,
    rejectedFrames: 0,
    rejectedDetections: 0,
  };
  private lastError: string | null = null;
  private lastErrorAt: number | null = null;
  private lastAckAt: number | null = null;
  private lastLag = 0;
  private abortSignal: AbortSignal | null = null;
  private readonly onAbort = (): void => void this.stop();

  constructor(private readonly deps: MqttSyncWorkerDeps) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /**
   * Starts connecting in the background and returns at once: the agent must run (and fill the outbox)
   * whether or not the broker is reachable. Throws RangeError for invalid settings. Aborting `signal`
   * stops the worker like `stop()`.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.running) throw new Error('sync worker already started');
    const options = resolveSyncOptions(this.deps.settings, this.deps.deviceId);
    // The topic builders validate the device id and prefix now rather than at the first publish.
    detectionsTopic(this.deps.deviceId, options.topicPrefix);
    this.options = options;
    this.headerBytes = batchHeaderWireSize(this.deps.deviceId, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    this.batcher = new OutboxBatcher(this.deps.outbox, {
      maxFrames: options.batchMaxFrames,
      maxBytes: options.batchMaxBytes - this.headerBytes,
    });
    this.protocolVersion = options.protocol === 'mqtt311' ? 4 : 5;
    this.stopping = false;
    this.startedAt = this.now();
    this.running = this.run().catch((err: unknown) => {
      // run() handles its own failures; reaching this is a bug worth a loud log, not a crash.
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
    const running = this.running;
    if (!running) return;
    if (this.stopping) {
      await running;
      return;
    }
    this.stopping = true;
    this.abortSignal?.removeEventListener('abort', this.onAbort);
    this.clearPoll();
    // No periodic online status may overtake the offline one.
    this.clearReportTimers();
    const options = this.options as MqttSyncOptions;
    const session = this.session;
    if (session) {
      if (this.inFlight.size > 0) await this.waitDrained(options.drainTimeoutMs);
      if (session.live) {
        await this.publishOffline(session.client);
        // Batches still unacknowledged stay in the outbox for next time; mqtt.js would hold the DISCONNECT
        // until they are acknowledged, so they are dropped from its store first.
        for (const id of Object.keys(session.client.outgoing)) session.client.removeOutgoingMessage(Number(id));
        // A clean DISCONNECT: the broker discards the will [MQTT-3.1.2-10]; the offline status is already retained.
        session.client.end(false);
        // A connection too stuck to even write the DISCONNECT is cut.
        const force = setTimeout(() => session.client.stream?.destroy(), STOP_STEP_TIMEOUT_MS);
        await running;
        clearTimeout(force);
      }
    }
    this.client?.end(true);
    this.reconnectPause.wake();
    await running;
    this.running = null;
  }

  stats(): SyncStats {
    let outboxFrames = 0;
    let outboxDetections = 0;
    try {
      const s = this.deps.outbox.stats();
      outboxFrames = s.frames;
      outboxDetections = s.detections;
      const oldest = outboxFrames > 0 ? this.deps.outbox.peekFrames(1).frames[0] : undefined;
      this.lastLag = oldest ? Math.max(0, this.now() - oldest.timestampMs) : 0;
    } catch {
      // A closed outbox (agent shutting down) keeps the last known numbers; stats must not throw.
    }
    return {
      state: this.state,
      protocol: this.protocolInUse,
      ...this.counters,
      inFlightBatches: this.inFlight.size,
      outboxFrames,
      outboxDetections,
      syncLagMs: this.lastLag,
      lastError: this.lastError,
      lastErrorAtMs: this.lastErrorAt,
      lastAckAtMs: this.lastAckAt,
    };
  }

  // ---- connection loop ------------------------------------------------------------------------

  private async run(): Promise<void> {
    const options = this.options as MqttSyncOptions;
    const backoff = new Backoff(
      { initialMs: options.reconnectMinMs, maxMs: options.reconnectMaxMs, factor: 2, jitter: 0.2 },
      this.deps.random,
    );
    while (!this.stopping) {
      this.state = 'connecting';
      const end = await this.connectOnce(options);
      if (this.stopping) break;
      if (end.retryNow) continue;
      if (end.healthy) backoff.reset();
      const delay = backoff.next();
      this.state = 'waiting';
      this.deps.logger.info('sync reconnecting', { inMs: delay, attempt: backoff.attempts, lastError: this.lastError });
      await this.reconnectPause.sleep(delay);
      if (!this.stopping) this.counters.reconnects++;
    }
    this.state = 'stopped';
  }

  /** One connection, from connect to close. Resolves when it is over; never rejects. */
  private connectOnce(options: MqttSyncOptions): Promise<SessionEnd> {
    return new Promise((resolve) => {
      let refusedProtocol = false;
      let client: MqttClient;
      try {
        client = mqtt.connect(options.url, this.clientOptions(options));
      } catch (err) {
        this.recordError('connect', err);
        resolve({ healthy: false, retryNow: false });
        return;
      }
      const session: Session = { client, live: true, connectedAt: 0, acks: 0 };
      this.client = client;
      client.on('connect', (connack) => {
        if (!session.live || this.stopping) return;
        session.connectedAt = this.now();
        this.onConnected(session, connack.properties?.receiveMaximum, connack.properties?.maximumPacketSize);
      });
      // Always listened to: an 'error' event without a listener would throw.
      client.on('error', (err) => {
        const code = (err as { code?: unknown }).code;
        if (
          session.connectedAt === 0 &&
          typeof code === 'number' &&
          PROTOCOL_REFUSED.has(code) &&
          options.protocol === 'auto' &&
          this.protocolVersion === 5
        ) {
          refusedProtocol = true;
          this.protocolVersion = 4;
          this.deps.logger.info('broker refused MQTT 5, using MQTT 3.1.1', {
            url: redactUrl(options.url, { hideUser: true }),
          });
          return;
        }
        this.recordError(session.connectedAt === 0 ? 'connect' : 'connection', err);
      });
      client.once('close', () => {
        session.live = false;
        const lost = this.inFlight.size;
        if (this.session === session) this.onDisconnected(lost);
        if (this.client === client) this.client = null;
        client.end(true);
        const healthy =
          session.connectedAt > 0 && (session.acks > 0 || this.now() - session.connectedAt >= STABLE_CONNECTION_MS);
        resolve({ healthy, retryNow: refusedProtocol });
      });
    });
  }

  private clientOptions(options: MqttSyncOptions): IClientOptions {
    const deviceId = this.deps.deviceId;
    const will = encodeDeviceStatus(this.statusMessage(false));
    return {
      protocolVersion: this.protocolVersion,
      clientId: options.clientId,
      username: options.username,
      password: options.password,
      clean: true,
      keepalive: options.keepaliveSeconds,
      connectTimeout: options.connectTimeoutMs,
      // The worker reconnects itself (with backoff) and never publishes while offline.
      reconnectPeriod: 0,
      queueQoSZero: false,
      resubscribe: false,
      will: { topic: statusTopic(deviceId, options.topicPrefix), payload: Buffer.from(will), qos: 1, retain: true },
      ...(options.tls
        ? {
            ca: options.tls.ca,
            cert: options.tls.cert,
            key: options.tls.key,
            rejectUnauthorized: options.tls.rejectUnauthorized,
          }
        : {}),
    };
  }

  private onConnected(
    session: Session,
    receiveMaximum: number | undefined,
    maximumPacketSize: number | undefined,
  ): void {
    const options = this.options as MqttSyncOptions;
    this.session = session;
    // [MQTT-3.2.2-15] a packet above the broker's Maximum Packet Size gets the connection closed; keep
    // batches below it (the PUBLISH header, topic included, stays under 512 bytes).
    const maxBytes = maximumPacketSize
      ? Math.max(1024, Math.min(options.batchMaxBytes, maximumPacketSize - 512))
      : options.batchMaxBytes;
    this.batcher?.setLimits({ maxFrames: options.batchMaxFrames, maxBytes: maxBytes - this.headerBytes });
    this.state = 'connected';
    this.protocolInUse = this.protocolVersion === 5 ? 'mqtt5' : 'mqtt311';
    this.counters.connects++;
    this.inFlight.clear();
    this.batcher?.rewind();
    // [MQTT-3.3.4-7] no more unacknowledged QoS 1 publishes than the broker's Receive Maximum;
    // one slot stays free for the status message.
    this.effectiveWindow = receiveMaximum
      ? Math.max(1, Math.min(options.inFlightWindow, receiveMaximum - 1))
      : options.inFlightWindow;
    this.deps.logger.info('sync connected', {
      url: redactUrl(options.url, { hideUser: true }),
      clientId: options.clientId,
      protocol: this.protocolInUse,
      window: this.effectiveWindow,
    });
    this.deps.observer?.connectionChanged?.(true);
    this.publishStatus(session);
    if (options.statusIntervalMs > 0)
      this.statusTimer = setInterval(() => this.publishStatus(session), options.statusIntervalMs);
    if (options.metricsIntervalMs > 0)
      this.metricsTimer = setInterval(() => this.publishMetrics(session), options.metricsIntervalMs);
    this.pump();
  }

  private onDisconnected(lostBatches: number): void {
    this.session = null;
    // Unacknowledged batches are unsent: their rows are still in the outbox and go again next time.
    this.inFlight.clear();
    this.batcher?.rewind();
    this.clearPoll();
    this.clearReportTimers();
    this.drained?.();
    // A disconnect we asked for (stop) is routine; any other one is worth a warning.
    if (this.stopping) this.deps.logger.info('sync disconnected', { unackedBatches: lostBatches });
    else this.deps.logger.warn('sync disconnected', { unackedBatches: lostBatches, lastError: this.lastError });
    this.deps.observer?.connectionChanged?.(false);
  }

  // ---- publishing -----------------------------------------------------------------------------

  /** Publishes batches until the window is full or the outbox has nothing unsent. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      const batcher = this.batcher as OutboxBatcher;
      for (;;) {
        const session = this.session;
        if (!session || this.stopping || this.inFlight.size >= this.effectiveWindow) return;
        const batch = batcher.next(this.singleFrameBatches > 0 ? 1 : undefined);
        if (!batch) {
          this.schedulePoll();
          return;
        }
        if (this.singleFrameBatches > 0) this.singleFrameBatches--;
        this.publishBatch(session, batcher, batch);
      }
    } catch (err) {
      // Outbox trouble (disk, I/O): keep the connection, try again at the next poll.
      this.recordError('outbox', err);
      this.schedulePoll();
    } finally {
      this.pumping = false;
    }
  }

  private publishBatch(session: Session, batcher: OutboxBatcher, batch: OutboxBatch): void {
    const options = this.options as MqttSyncOptions;
    let payload: Uint8Array;
    const batchId = this.batchCounter + 1;
    try {
      if (batch.lastRowId > this.durableRowId) {
        // Every row read so far was committed before this checkpoint, so all of it is durable after it.
        const readUpTo = batcher.readUpTo;
        this.deps.outbox.checkpoint();
        this.durableRowId = readUpTo;
      }
      payload = encodeDetectionBatch(
        {
          deviceId: this.deps.deviceId,
          batchId,
          sentAtMs: this.now(),
          frames: batch.frames.map((f) => f.frame),
          detections: batch.frames.flatMap((f) => f.detections),
        },
        { maxBytes: DEFAULT_MAX_PAYLOAD_BYTES },
      );
    } catch (err) {
      if (err instanceof ProtoError) {
        this.quarantine(batcher, batch.frames, err);
        return;
      }
      // Not sent: back to the front of the queue, in order.
      batcher.unshift(batch.frames);
      throw err;
    }
    this.batchCounter = batchId;
    const entry: InFlight = {
      batchId,
      rowIds: batch.frames.map((f) => f.rowId),
      frames: batch.frames.length,
      detections: batch.detections,
      sentAt: this.now(),
    };
    this.inFlight.set(batchId, entry);
    this.counters.publishedBatches++;
    session.client.publish(
      detectionsTopic(this.deps.deviceId, options.topicPrefix),
      Buffer.from(payload.buffer, payload.byteOffset, payload.length),
      { qos: 1 },
      (err) => this.onPuback(session, entry, err),
    );
  }

  /** PUBACK (or failure) of one batch. */
  private onPuback(session: Session, entry: InFlight, err: Error | undefined): void {
    // A callback of a connection that is gone: its rows are read again on the next connection.
    if (!session.live || this.session !== session) return;
    this.inFlight.delete(entry.batchId);
    if (err && this.stopping) return;
    if (err) {
      // A negative PUBACK (MQTT 5 reason code >= 0x80: not authorized, quota exceeded, …): the broker did
      // not take the batch. Keep the rows and start over on a new connection after the backoff.
      this.recordError('publish', err);
      session.client.end(true);
      return;
    }
    session.acks++;
    this.lastAckAt = this.now();
    try {
      this.deps.outbox.ack(entry.rowIds);
    } catch (ackErr) {
      // The broker has the rows; they stay in the outbox and are sent again after the next reconnect.
      this.recordError('outbox ack', ackErr);
    }
    this.counters.ackedBatches++;
    this.counters.ackedFrames += entry.frames;
    this.counters.ackedDetections += entry.detections;
    this.deps.observer?.batchAcked?.(entry.frames, entry.detections, this.now() - entry.sentAt);
    if (this.inFlight.size === 0) this.drained?.();
    this.pump();
  }

  /**
   * A batch the contract rejects (a NaN score, a label over 256 characters, one frame alone over 1 MiB) can
   * never be ingested, and keeping it would block every row behind it forever. Its bad frames are deleted,
   * counted and logged with their sequence numbers; the good ones go back to the front of the queue.
   */
  private quarantine(batcher: OutboxBatcher, frames: readonly PendingFrame[], cause: ProtoError): void {
    const good: PendingFrame[] = [];
    const bad: { frame: PendingFrame; error: ProtoError }[] = [];
    for (const f of frames) {
      try {
        encodeDetectionBatch(
          { deviceId: this.deps.deviceId, batchId: 0, sentAtMs: 1, frames: [f.frame], detections: f.detections },
          { maxBytes: DEFAULT_MAX_PAYLOAD_BYTES },
        );
        good.push(f);
      } catch (err) {
        if (!(err instanceof ProtoError)) throw err;
        bad.push({ frame: f, error: err });
      }
    }
    batcher.unshift(good);
    if (bad.length === 0) {
      // Only the combination failed (not expected: sizes are exact and batchMaxBytes <= 1 MiB). Send these
      // frames one per batch instead of building the same batch again.
      this.recordError('encode', cause);
      this.singleFrameBatches = good.length;
      return;
    }
    const detections = bad.reduce((s, b) => s + b.frame.detections.length, 0);
    this.recordError('contract', bad[0]?.error);
    this.deps.logger.error('sync dropped frames the wire contract rejects', {
      frames: bad.length,
      detections,
      rejected: bad
        .slice(0, 10)
        .map((b) => ({ camera: b.frame.frame.cameraId, frameSeq: b.frame.frame.frameSeq, error: b.error.message })),
    });
    this.deps.outbox.ack(bad.map((b) => b.frame.rowId));
    this.counters.rejectedFrames += bad.length;
    this.counters.rejectedDetections += detections;
  }

  private statusMessage(online: boolean): DeviceStatus {
    const report = online
      ? safeCall(() => this.deps.reports?.status?.(), this.deps.logger, 'status report')
      : undefined;
    const stats = online ? this.stats() : null;
    let evicted = 0;
    try {
      evicted = this.deps.outbox.stats().evictedDetections;
    } catch {
      // A closed outbox reports 0 here rather than failing the status.
    }
    return {
      deviceId: this.deps.deviceId,
      online,
      agentVersion: report?.agentVersion ?? '',
      startedAtMs: report?.startedAtMs ?? this.startedAt,
      reportedAtMs: Math.max(1, Math.round(this.now())),
      cameras: report?.cameras ?? [],
      outboxFrames: stats?.outboxFrames ?? 0,
      outboxDetections: stats?.outboxDetections ?? 0,
      outboxEvictedDetections: evicted,
      syncLagMs: Math.round(stats?.syncLagMs ?? 0),
      hardware: report?.hardware ?? '',
      providers: report?.providers ?? [],
    };
  }

  private publishStatus(session: Session): void {
    if (!session.live || this.session !== session || this.stopping) return;
    let payload: Uint8Array;
    try {
      payload = encodeDeviceStatus(this.statusMessage(true));
    } catch (err) {
      this.recordError('status', err);
      return;
    }
    const options = this.options as MqttSyncOptions;
    session.client.publish(
      statusTopic(this.deps.deviceId, options.topicPrefix),
      Buffer.from(payload),
      { qos: 1, retain: true },
      (err) => {
        if (err && session.live) this.recordError('status publish', err);
      },
    );
  }

  private publishMetrics(session: Session): void {
    if (!session.live || this.session !== session || this.stopping) return;
    const options = this.options as MqttSyncOptions;
    const report = safeCall(() => this.deps.reports?.metrics?.(), this.deps.logger, 'metrics report');
    const stats = this.stats();
    let payload: Uint8Array;
    try {
      payload = encodeDeviceMetrics({
        deviceId: this.deps.deviceId,
        reportedAtMs: Math.max(1, Math.round(this.now())),
        cameras: report?.cameras ?? [],
        outboxFrames: stats.outboxFrames,
        outboxDetections: stats.outboxDetections,
        syncLagMs: Math.round(stats.syncLagMs),
        publishedBatches: stats.publishedBatches,
      });
    } catch (err) {
      this.recordError('metrics', err);
      return;
    }
    session.client.publish(metricsTopic(this.deps.deviceId, options.topicPrefix), Buffer.from(payload), { qos: 0 });
  }

  private publishOffline(client: MqttClient): Promise<void> {
    const options = this.options as MqttSyncOptions;
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, STOP_STEP_TIMEOUT_MS);
      const payload = Buffer.from(encodeDeviceStatus(this.statusMessage(false)));
      client.publish(statusTopic(this.deps.deviceId, options.topicPrefix), payload, { qos: 1, retain: true }, (err) => {
        if (err) this.recordError('offline status', err);
        clearTimeout(timer);
        resolve();
      });
    });
  }

  // ---- timers -----------------------------------------------------------------------------------

  private schedulePoll(): void {
    if (this.pollTimer || this.stopping) return;
    const options = this.options as MqttSyncOptions;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      this.pump();
    }, options.pollIntervalMs);
  }

  private clearReportTimers(): void {
    if (this.statusTimer) clearInterval(this.statusTimer);
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    this.statusTimer = null;
    this.metricsTimer = null;
  }

  private clearPoll(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  /** Resolves when no batch is in flight (or the connection is gone), or after `timeoutMs`. */
  private waitDrained(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.drained = null;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.drained = done;
    });
  }

  private recordError(where: string, err: unknown): void {
    this.lastError = `${where}: ${describeError(err)}`;
    this.lastErrorAt = this.now();
    this.deps.logger.warn('sync error', { where, error: describeError(err) });
  }
}

function safeCall<T>(fn: () => T, logger: Logger, what: string): T | undefined {
  try {
    return fn();
  } catch (err) {
    logger.warn(`${what} failed`, { error: describeError(err) });
    return undefined;
  }
}
