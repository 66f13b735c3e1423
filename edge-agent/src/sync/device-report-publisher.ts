import { type DeviceStatus, encodeDeviceMetrics, encodeDeviceStatus } from '@edgefleet/proto';
import type { Clock, Logger } from '@edgefleet/service-kit';
import type { MqttClient } from 'mqtt';
import { describeError } from '../errors.js';
import type { Outbox } from '../outbox/outbox.js';
import type { MqttSyncOptions } from './sync-options.js';
import type { DeviceReports } from './sync-reports.js';
import type { SyncSession } from './sync-session.js';
import type { SyncStats, SyncStatus } from './sync-status.js';

/** Give the offline status this long to be acknowledged on stop. */
const OFFLINE_STATUS_TIMEOUT_MS = 1000;

export interface DeviceReportPublisherDeps {
  readonly outbox: Outbox;
  readonly deviceId: string;
  readonly logger: Logger;
  readonly reports: DeviceReports | undefined;
  readonly clock: Clock;
  readonly status: SyncStatus;
  readonly options: MqttSyncOptions;
  readonly statusTopic: string;
  readonly metricsTopic: string;
  /** When the worker started (the status' startedAtMs unless the agent reports its own). */
  readonly startedAt: number;
  readonly stats: () => SyncStats;
  /** Whether `session` is still the one publishes go to. */
  readonly isCurrent: (session: SyncSession) => boolean;
  /** Aborted when the worker stops: no periodic online status may overtake the offline one. */
  readonly stopping: AbortSignal;
}

/**
 * Availability and metrics on MQTT: the online status (retained) on connect and every `statusIntervalMs`,
 * metrics every `metricsIntervalMs`, and online = false (retained) before a clean disconnect; the same
 * offline status is the connection's last will.
 */
export class DeviceReportPublisher {
  private statusTimer: NodeJS.Timeout | null = null;
  private metricsTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: DeviceReportPublisherDeps) {}

  /** On connect: the online status now, then status and metrics periodically while `session` lasts. */
  startReporting(session: SyncSession): void {
    const { options } = this.deps;
    this.publishStatus(session);
    if (options.statusIntervalMs > 0)
      this.statusTimer = setInterval(() => this.publishStatus(session), options.statusIntervalMs);
    if (options.metricsIntervalMs > 0)
      this.metricsTimer = setInterval(() => this.publishMetrics(session), options.metricsIntervalMs);
  }

  stopReporting(): void {
    if (this.statusTimer) clearInterval(this.statusTimer);
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    this.statusTimer = null;
    this.metricsTimer = null;
  }

  /** The offline status, encoded (the last will of every connection). */
  offlineStatus(): Uint8Array {
    return encodeDeviceStatus(this.statusMessage(false));
  }

  /** Publishes online = false (retained) and resolves once acknowledged, or after a second. */
  publishOffline(client: MqttClient): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, OFFLINE_STATUS_TIMEOUT_MS);
      const payload = Buffer.from(this.offlineStatus());
      client.publish(this.deps.statusTopic, payload, { qos: 1, retain: true }, (err) => {
        if (err) this.deps.status.recordError('offline status', err);
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private usable(session: SyncSession): boolean {
    return session.live && this.deps.isCurrent(session) && !this.deps.stopping.aborted;
  }

  private publishStatus(session: SyncSession): void {
    if (!this.usable(session)) return;
    let payload: Uint8Array;
    try {
      payload = encodeDeviceStatus(this.statusMessage(true));
    } catch (err) {
      this.deps.status.recordError('status', err);
      return;
    }
    session.client.publish(this.deps.statusTopic, Buffer.from(payload), { qos: 1, retain: true }, (err) => {
      if (err && session.live) this.deps.status.recordError('status publish', err);
    });
  }

  private publishMetrics(session: SyncSession): void {
    if (!this.usable(session)) return;
    const report = this.safeCall(() => this.deps.reports?.metrics?.(), 'metrics report');
    const stats = this.deps.stats();
    let payload: Uint8Array;
    try {
      payload = encodeDeviceMetrics({
        deviceId: this.deps.deviceId,
        reportedAtMs: Math.max(1, Math.round(this.deps.clock.now())),
        cameras: report?.cameras ?? [],
        outboxFrames: stats.outboxFrames,
        outboxDetections: stats.outboxDetections,
        syncLagMs: Math.round(stats.syncLagMs),
        publishedBatches: stats.publishedBatches,
      });
    } catch (err) {
      this.deps.status.recordError('metrics', err);
      return;
    }
    session.client.publish(this.deps.metricsTopic, Buffer.from(payload), { qos: 0 });
  }

  private statusMessage(online: boolean): DeviceStatus {
    const report = online ? this.safeCall(() => this.deps.reports?.status?.(), 'status report') : undefined;
    const stats = online ? this.deps.stats() : null;
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
      startedAtMs: report?.startedAtMs ?? this.deps.startedAt,
      reportedAtMs: Math.max(1, Math.round(this.deps.clock.now())),
      cameras: report?.cameras ?? [],
      outboxFrames: stats?.outboxFrames ?? 0,
      outboxDetections: stats?.outboxDetections ?? 0,
      outboxEvictedDetections: evicted,
      syncLagMs: Math.round(stats?.syncLagMs ?? 0),
      hardware: report?.hardware ?? '',
      providers: report?.providers ?? [],
    };
  }

  private safeCall<T>(fn: () => T, what: string): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.deps.logger.warn(`${what} failed`, { error: describeError(err) });
      return undefined;
    }
  }
}
