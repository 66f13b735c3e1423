import { batchHeaderWireSize, detectionsTopic, metricsTopic, statusTopic } from '@edgefleet/proto';
import type { Clock, Logger } from '@edgefleet/service-kit';
import type { Outbox } from '../outbox/outbox.js';
import { DeviceReportPublisher } from './device-report-publisher.js';
import { MqttConnector } from './mqtt-connector.js';
import { OutboxBatcher } from './outbox-batcher.js';
import { PublishPump } from './publish-pump.js';
import { type MqttSyncOptions, type MqttSyncSettings, resolveSyncOptions } from './sync-options.js';
import type { DeviceReports, SyncObserver } from './sync-reports.js';
import type { BrokerLimits, SyncSession } from './sync-session.js';
import type { SyncStatus } from './sync-status.js';

export interface SyncRunDeps {
  readonly outbox: Outbox;
  readonly deviceId: string;
  readonly logger: Logger;
  readonly settings: MqttSyncSettings;
  readonly reports: DeviceReports | undefined;
  readonly observer: SyncObserver | undefined;
  readonly clock: Clock;
  readonly status: SyncStatus;
  readonly onConnected: (run: SyncRun, session: SyncSession, limits: BrokerLimits) => void;
  readonly onClosed: (run: SyncRun, session: SyncSession) => void;
}

/** What one start() of the sync worker sets up and one stop() tears down. */
export interface SyncRun {
  readonly options: MqttSyncOptions;
  /** Aborted by stop(): the reconnect loop ends and nothing more is published. */
  readonly stopping: AbortController;
  readonly connector: MqttConnector;
  readonly pump: PublishPump;
  readonly publisher: DeviceReportPublisher;
}

/** Validates the settings (RangeError) and the topics, and builds the run's parts. */
export function createSyncRun(deps: SyncRunDeps): SyncRun {
  const { deviceId, clock, status } = deps;
  const options = resolveSyncOptions(deps.settings, deviceId);
  // The topic builders validate the device id and prefix now rather than at the first publish.
  const topic = detectionsTopic(deviceId, options.topicPrefix);
  const headerBytes = batchHeaderWireSize(deviceId, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const batcher = new OutboxBatcher(deps.outbox, {
    maxFrames: options.batchMaxFrames,
    maxBytes: options.batchMaxBytes - headerBytes,
  });
  const stopping = new AbortController();
  const common = { outbox: deps.outbox, deviceId, logger: deps.logger, clock, status, options };
  const pump = new PublishPump({
    ...common,
    observer: deps.observer,
    batcher,
    headerBytes,
    topic,
    stopping: stopping.signal,
  });
  const publisher = new DeviceReportPublisher({
    ...common,
    reports: deps.reports,
    statusTopic: statusTopic(deviceId, options.topicPrefix),
    metricsTopic: metricsTopic(deviceId, options.topicPrefix),
    startedAt: clock.now(),
    stats: () => status.snapshot(pump.inFlightBatches),
    isCurrent: (session) => pump.session === session,
    stopping: stopping.signal,
  });
  const connector = new MqttConnector({
    options,
    logger: deps.logger,
    clock,
    status,
    stopping: stopping.signal,
    will: () => publisher.offlineStatus(),
    willTopic: statusTopic(deviceId, options.topicPrefix),
    onConnected: (session, limits) => deps.onConnected(run, session, limits),
    onClosed: (session) => deps.onClosed(run, session),
  });
  const run: SyncRun = { options, stopping, connector, pump, publisher };
  return run;
}
