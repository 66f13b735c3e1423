import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  Aedes,
  type AedesPublishPacket,
  type AuthenticateError,
  type Client,
  type PublishPacket,
  type Subscription,
} from 'aedes';
import { CpError, describeError } from '../errors.js';
import type { Logger } from '@edgefleet/service-kit';
import type { Principal, TopicAuthorizer } from './authorizer.js';
import type { Component } from '@edgefleet/service-kit';

/**
 * The embedded MQTT broker: aedes 1.x (MQTT 3.1.1) on a plain TCP server. Every connection
 * authenticates; the authorizer keeps devices inside their topic prefix.
 *
 * `publishGate` is how the in-process ingest receives device messages: aedes calls authorizePublish
 * before it sends PUBACK for a QoS 1 message [MQTT-4.3.2], so resolving the gate only after the rows
 * are committed means a device never sees a PUBACK for data the database does not hold. If the control
 * plane dies first, the device still has the rows in its outbox and sends them again. A gate that
 * throws closes the connection without PUBACK (MQTT 3.1.1 has no negative acknowledgement).
 */
export type PublishGate = (principal: Principal, topic: string, payload: Buffer) => Promise<void>;

export interface EmbeddedBrokerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
}

export interface EmbeddedBrokerDeps {
  readonly authorizer: TopicAuthorizer;
  readonly logger: Logger;
  readonly publishGate?: PublishGate;
}

function authError(message: string, returnCode: 2 | 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export class EmbeddedBroker implements Component {
  readonly name = 'mqtt-broker';
  private aedes: Aedes | null = null;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly principals = new WeakMap<Client, Principal>();
  private boundPort = 0;

  constructor(
    private readonly options: EmbeddedBrokerOptions,
    private readonly deps: EmbeddedBrokerDeps,
  ) {}

  /** The TCP port it listens on (after start). */
  get port(): number {
    return this.boundPort;
  }

  get connectedClients(): number {
    return this.aedes?.connectedClients ?? 0;
  }

  async start(_signal?: AbortSignal): Promise<void> {
    if (this.server) return;
    const { authorizer, logger } = this.deps;
    const aedes = await Aedes.createBroker({
      // The agent's default client id is `edge-<device id>`; device ids go up to 128 characters.
      maxClientsIdLength: 256,
      authenticate: (client, username, password, done) => {
        authorizer.authenticate(client.id, username, password?.toString('utf8')).then(
          (result) => {
            if (result.ok) {
              this.principals.set(client, result.principal);
              done(null, true);
            } else if (result.reason === 'client-id') {
              logger.warn('mqtt client id refused', { clientId: client.id, username });
              done(authError('client id must be the device id or edge-<device id>', 2), false);
            } else {
              logger.warn('mqtt authentication failed', { clientId: client.id, username });
              done(authError('bad user name or password', 4), false);
            }
          },
          (err: unknown) => {
            logger.error('mqtt authentication error', { clientId: client.id, error: describeError(err) });
            done(authError('server unavailable', 5), false);
          },
        );
      },
      authorizePublish: (client, packet, done) => this.authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => this.authorizeSubscribe(client, sub, done),
    });
    aedes.on('clientError', (client: Client, err: Error) =>
      logger.debug('mqtt client error', { clientId: client.id, error: err.message }),
    );
    aedes.on('connectionError', (client: Client, err: Error) =>
      logger.debug('mqtt connection error', { clientId: client?.id, error: err.message }),
    );
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      aedes.handle(socket);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.options.port, this.options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw new CpError(
        'CP_ERR_BROKER',
        `cannot listen on ${this.options.host}:${this.options.port} (mqtt.port, CP_MQTT__PORT; 0 picks a free port)`,
        { cause: err },
      );
    }
    server.on('error', (err) => logger.error('mqtt listener error', { error: err.message }));
    this.aedes = aedes;
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
  }

  private authorizePublish(client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void): void {
    // client null: the broker's own publishes (wills replayed at start); nothing to check.
    if (client === null) {
      done(null);
      return;
    }
    const principal = this.principals.get(client);
    if (principal === undefined || !this.deps.authorizer.canPublish(principal, packet.topic)) {
      this.deps.logger.warn('mqtt publish refused', { clientId: client.id, topic: packet.topic });
      done(new Error(`not authorized to publish to ${packet.topic}`));
      return;
    }
    const gate = this.deps.publishGate;
    if (!gate) {
      done(null);
      return;
    }
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    gate(principal, packet.topic, payload).then(
      () => done(null),
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private authorizeSubscribe(
    client: Client,
    sub: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void {
    const principal = this.principals.get(client);
    if (principal === undefined || !this.deps.authorizer.canSubscribe(principal, sub.topic)) {
      this.deps.logger.warn('mqtt subscribe refused', { clientId: client.id, filter: sub.topic });
      // A null subscription answers SUBACK 0x80 (failure) for this filter only [MQTT-3.9.3].
      done(null, null);
      return;
    }
    done(null, sub);
  }

  /** Publishes from the broker itself (tests, future commands to devices). */
  publish(packet: Pick<AedesPublishPacket, 'topic' | 'payload' | 'qos' | 'retain'>): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return Promise.reject(new CpError('CP_ERR_BROKER', 'broker is not running'));
    return new Promise((resolve, reject) =>
      aedes.publish({ cmd: 'publish', dup: false, ...packet } as PublishPacket, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  async stop(): Promise<void> {
    const { aedes, server } = this;
    this.aedes = null;
    this.server = null;
    if (!server || !aedes) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
