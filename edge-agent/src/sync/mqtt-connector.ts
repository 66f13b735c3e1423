import { type AttemptEnd, type Clock, type Logger, redactUrl } from '@edgefleet/service-kit';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { MqttSyncOptions } from './sync-options.js';
import type { SyncStatus } from './sync-status.js';
import type { BrokerLimits, SyncSession } from './sync-session.js';

/** A connection that lasted this long counts as healthy even without traffic. */
const STABLE_CONNECTION_MS = 10_000;
/** CONNACK codes for "unsupported protocol version": 3.1.1 return code 1, MQTT 5 reason code 0x84. */
const PROTOCOL_REFUSED = new Set([1, 0x84]);

export interface MqttConnectorDeps {
  readonly options: MqttSyncOptions;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly status: SyncStatus;
  /** Aborted when the worker stops: a connection that comes up then is ignored. */
  readonly stopping: AbortSignal;
  /** The retained online = false status left as the last will. */
  readonly will: () => Uint8Array;
  readonly willTopic: string;
  readonly onConnected: (session: SyncSession, limits: BrokerLimits) => void;
  /** The session closed (whether or not it ever connected). */
  readonly onClosed: (session: SyncSession) => void;
}

/**
 * The sync worker's connection attempts: one mqtt.js client per attempt, no mqtt.js auto-reconnect and no
 * offline queue (the outbox is the queue). Under protocol 'auto' a broker that refuses MQTT 5 is asked
 * again at once with 3.1.1.
 */
export class MqttConnector {
  private protocolVersion: 4 | 5;
  /** The client of the attempt in progress (connected or not), for stop(). */
  private client: MqttClient | null = null;

  constructor(private readonly deps: MqttConnectorDeps) {
    this.protocolVersion = deps.options.protocol === 'mqtt311' ? 4 : 5;
  }

  get protocol(): 'mqtt5' | 'mqtt311' {
    return this.protocolVersion === 5 ? 'mqtt5' : 'mqtt311';
  }

  /** Ends the attempt in progress at once (nothing when none). */
  endAttempt(): void {
    this.client?.end(true);
  }

  /** One connection, from connect to close. Resolves when it is over; never rejects. */
  connectOnce(): Promise<AttemptEnd> {
    return new Promise((resolve) => {
      let client: MqttClient;
      try {
        client = mqtt.connect(this.deps.options.url, this.clientOptions());
      } catch (err) {
        this.deps.status.recordError('connect', err);
        resolve({ healthy: false, retryNow: false });
        return;
      }
      const session: SyncSession = { client, live: true, connectedAt: 0, acks: 0 };
      this.client = client;
      let refusedProtocol = false;
      client.on('connect', (connack) => {
        if (!session.live || this.deps.stopping.aborted) return;
        session.connectedAt = this.deps.clock.now();
        this.deps.onConnected(session, {
          receiveMaximum: connack.properties?.receiveMaximum,
          maximumPacketSize: connack.properties?.maximumPacketSize,
        });
      });
      // Always listened to: an 'error' event without a listener would throw.
      client.on('error', (err) => {
        if (this.refusesMqtt5(session, err)) {
          refusedProtocol = true;
          return;
        }
        this.deps.status.recordError(session.connectedAt === 0 ? 'connect' : 'connection', err);
      });
      client.once('close', () => {
        session.live = false;
        this.deps.onClosed(session);
        if (this.client === client) this.client = null;
        client.end(true);
        resolve({ healthy: this.wasHealthy(session), retryNow: refusedProtocol });
      });
    });
  }

  /** Whether `err` is a refusal of MQTT 5 under protocol 'auto'; switches to 3.1.1 when it is. */
  private refusesMqtt5(session: SyncSession, err: Error): boolean {
    const code = (err as { code?: unknown }).code;
    if (
      session.connectedAt !== 0 ||
      typeof code !== 'number' ||
      !PROTOCOL_REFUSED.has(code) ||
      this.deps.options.protocol !== 'auto' ||
      this.protocolVersion !== 5
    )
      return false;
    this.protocolVersion = 4;
    this.deps.logger.info('broker refused MQTT 5, using MQTT 3.1.1', {
      url: redactUrl(this.deps.options.url, { hideUser: true }),
    });
    return true;
  }

  /** Connected and useful (acks or a stable connection): the backoff starts over. */
  private wasHealthy(session: SyncSession): boolean {
    return (
      session.connectedAt > 0 &&
      (session.acks > 0 || this.deps.clock.now() - session.connectedAt >= STABLE_CONNECTION_MS)
    );
  }

  private clientOptions(): IClientOptions {
    const { options } = this.deps;
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
      will: { topic: this.deps.willTopic, payload: Buffer.from(this.deps.will()), qos: 1, retain: true },
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
}
