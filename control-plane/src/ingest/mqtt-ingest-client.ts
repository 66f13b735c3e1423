import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { kindFilter, sharedSubscription } from '@edgefleet/proto';
import { redactUrl } from '@edgefleet/service-kit';
import { CpError, describeError } from '../errors.js';
import type { Logger } from '@edgefleet/service-kit';
import type { IngestPipeline } from './ingest-pipeline.js';
import type { Component } from '@edgefleet/service-kit';

/**
 * The ingest's transport on an external broker (Mosquitto, EMQX): MQTT 5 clients in a shared
 * subscription group, so several control-plane replicas split the detections between them.
 *
 * Acknowledgement after commit: MQTT.js sends the PUBACK of a QoS 1 message when `handleMessage`
 * calls back, so `handleMessage` is overridden to call back only when the pipeline settled the message.
 * A message the pipeline could not settle (stopping) is called back with an error: MQTT.js then sends no
 * PUBACK and the broker redelivers it to this session when it reconnects [MQTT-4.4.0-1]. Sessions are
 * persistent (clean start off, session expiry) under stable client ids for that reason.
 *
 * MQTT.js handles one message at a time per connection, and each waits for its commit; `connections`
 * parallel connections in the same group keep several messages in the group commit at once.
 */
export interface MqttIngestClientOptions {
  readonly url: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Client ids are `<clientId>-<n>`. */
  readonly clientId: string;
  readonly connections: number;
  /** Shared subscription group (MQTT 5), or null to subscribe plainly on one connection (MQTT 3.1.1 brokers). */
  readonly sharedGroup: string | null;
  readonly protocolVersion: 4 | 5;
  readonly sessionExpirySeconds: number;
  readonly topicPrefix: string;
  readonly reconnectPeriodMs?: number;
}

export interface MqttIngestClientDeps {
  readonly pipeline: IngestPipeline;
  readonly logger: Logger;
}

export class MqttIngestClient implements Component {
  readonly name = 'mqtt-ingest-client';
  private clients: MqttClient[] = [];

  constructor(
    private readonly options: MqttIngestClientOptions,
    private readonly deps: MqttIngestClientDeps,
  ) {}

  /** Subscriptions of connection `n`: detections and metrics shared across the group; status on connection 0 only, unshared, because retained messages are not sent to shared subscriptions (MQTT 5 §4.8.2). */
  subscriptions(n: number): string[] {
    const { sharedGroup, topicPrefix } = this.options;
    if (sharedGroup === null)
      return n === 0 ? (['detections', 'status', 'metrics'] as const).map((k) => kindFilter(k, topicPrefix)) : [];
    const shared = [
      sharedSubscription(sharedGroup, 'detections', topicPrefix),
      sharedSubscription(sharedGroup, 'metrics', topicPrefix),
    ];
    return n === 0 ? [...shared, kindFilter('status', topicPrefix)] : shared;
  }

  get connectedCount(): number {
    return this.clients.filter((c) => c.connected).length;
  }

  async start(_signal?: AbortSignal): Promise<void> {
    const count = this.options.sharedGroup === null ? 1 : this.options.connections;
    const clients: MqttClient[] = [];
    try {
      for (let n = 0; n < count; n++) clients.push(await this.connect(n));
    } catch (err) {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      throw err;
    }
    this.clients = clients;
  }

  private async connect(n: number): Promise<MqttClient> {
    const o = this.options;
    const { logger, pipeline } = this.deps;
    const clientId = `${o.clientId}-${n}`;
    const options: IClientOptions = {
      clientId,
      protocolVersion: o.protocolVersion,
      clean: false,
      reconnectPeriod: o.reconnectPeriodMs ?? 1000,
      connectTimeout: 10_000,
      ...(o.protocolVersion === 5 ? { properties: { sessionExpiryInterval: o.sessionExpirySeconds } } : {}),
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
    };
    const client = mqtt.connect(o.url, { ...options, manualConnect: true });
    client.handleMessage = (packet, callback) => {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      pipeline.handle(packet.topic, payload).then(
        () => callback(),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    };
    const filters = this.subscriptions(n);
    client.on('connect', (connack) => {
      logger.info('ingest connected to broker', { clientId, sessionPresent: connack.sessionPresent });
      // Subscribing again on a present session is harmless; on a new session it is required.
      if (filters.length > 0) {
        client.subscribe(filters, { qos: 1 }, (err, granted) => {
          if (err) logger.error('ingest subscribe failed', { clientId, error: describeError(err) });
          const refused = (granted ?? []).filter((g) => g.qos > 2);
          if (refused.length > 0)
            logger.error('broker refused ingest subscriptions', { clientId, filters: refused.map((g) => g.topic) });
        });
      }
    });
    client.on('error', (err) => logger.warn('ingest broker connection error', { clientId, error: describeError(err) }));
    client.on('offline', () => logger.warn('ingest disconnected from broker; reconnecting', { clientId }));
    await new Promise<void>((resolve, reject) => {
      const onConnect = () => {
        client.off('error', onError);
        resolve();
      };
      const onError = (err: Error) => {
        client.off('connect', onConnect);
        client.end(true);
        reject(
          new CpError('CP_ERR_BROKER', `ingest cannot connect to ${redactUrl(o.url)} as ${clientId}: ${err.message}`, {
            cause: err,
          }),
        );
      };
      client.once('connect', onConnect);
      client.once('error', onError);
      client.connect();
    });
    return client;
  }

  /** Closes the connections without acknowledging anything still unsettled (the broker keeps it for the session). */
  async stop(): Promise<void> {
    const clients = this.clients;
    this.clients = [];
    await Promise.all(clients.map((c) => c.endAsync(true)));
  }
}
