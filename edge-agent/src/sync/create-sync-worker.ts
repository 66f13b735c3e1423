import type { Clock } from '@edgefleet/service-kit';
import type { AgentConfig, SyncConfig } from '../config/agent-config-schema.js';
import { readPasswordFile, readSecretFile } from '@edgefleet/service-kit/config';
import { agentConfigErrors as errors } from '../config/agent-config-errors.js';
import { EdgeError } from '../errors.js';
import type { Logger } from '@edgefleet/service-kit';
import type { Outbox } from '../outbox/outbox.js';
import { MqttSyncWorker } from './mqtt-sync-worker.js';
import type { DeviceReports, SyncObserver } from './sync-reports.js';
import type { MqttSyncSettings } from './sync-options.js';

export interface CreateSyncWorkerDeps {
  readonly config: Pick<AgentConfig, 'deviceId' | 'sync'>;
  readonly outbox: Outbox;
  readonly logger: Logger;
  readonly reports?: DeviceReports;
  readonly observer?: SyncObserver;
  readonly clock: Clock;
}

/** The worker's settings from the `sync` section: secrets and TLS files read here, once, at start-up. */
export function syncSettings(sync: SyncConfig): MqttSyncSettings {
  if (sync.password !== undefined && sync.passwordFile !== undefined) {
    throw new EdgeError('EDGE_ERR_CONFIG_INVALID', 'sync: set either password or passwordFile, not both', {
      details: ['/sync/passwordFile: not allowed together with /sync/password'],
    });
  }
  const password =
    sync.passwordFile !== undefined
      ? readPasswordFile({ path: sync.passwordFile, what: 'sync passwordFile', errors })
      : sync.password;
  const tls =
    sync.tlsCaFile !== undefined ||
    sync.tlsCertFile !== undefined ||
    sync.tlsKeyFile !== undefined ||
    !sync.tlsRejectUnauthorized
      ? {
          ca:
            sync.tlsCaFile !== undefined
              ? readSecretFile({ path: sync.tlsCaFile, what: 'sync tlsCaFile', errors })
              : undefined,
          cert:
            sync.tlsCertFile !== undefined
              ? readSecretFile({ path: sync.tlsCertFile, what: 'sync tlsCertFile', errors })
              : undefined,
          key:
            sync.tlsKeyFile !== undefined
              ? readSecretFile({ path: sync.tlsKeyFile, what: 'sync tlsKeyFile', errors })
              : undefined,
          rejectUnauthorized: sync.tlsRejectUnauthorized,
        }
      : undefined;
  return {
    url: sync.url,
    clientId: sync.clientId,
    username: sync.username,
    password,
    protocol: sync.protocol,
    topicPrefix: sync.topicPrefix,
    keepaliveSeconds: sync.keepaliveSeconds,
    connectTimeoutMs: sync.connectTimeoutMs,
    batchMaxFrames: sync.batchMaxFrames,
    batchMaxBytes: sync.batchMaxBytes,
    inFlightWindow: sync.inFlightWindow,
    pollIntervalMs: sync.pollIntervalMs,
    reconnectMinMs: sync.reconnectMinMs,
    reconnectMaxMs: sync.reconnectMaxMs,
    statusIntervalMs: sync.statusIntervalMs,
    metricsIntervalMs: sync.metricsIntervalMs,
    drainTimeoutMs: sync.drainTimeoutMs,
    tls,
  };
}

/**
 * The sync worker for the agent's configuration, or null when it has no `sync` section (detections then
 * stay in the outbox, bounded by its limits). Throws EDGE_ERR_CONFIG_READ when a password or TLS file
 * cannot be read.
 */
export function createSyncWorker(deps: CreateSyncWorkerDeps): MqttSyncWorker | null {
  const sync = deps.config.sync;
  if (!sync) return null;
  return new MqttSyncWorker({
    outbox: deps.outbox,
    deviceId: deps.config.deviceId,
    logger: deps.logger.child({ component: 'sync' }),
    settings: syncSettings(sync),
    reports: deps.reports,
    observer: deps.observer,
    clock: deps.clock,
  });
}
