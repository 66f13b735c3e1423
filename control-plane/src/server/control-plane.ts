import { type Clock, systemClock } from '@edgefleet/service-kit';
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { buildHttpApp } from '../api/http-app.js';
import { AssignmentResync } from '../assignments/assignment-resync.js';
import { hashApiToken, type ApiTokenEntry } from '../auth/api-token.js';
import { loadOrCreateBootstrapToken } from '../auth/bootstrap-token.js';
import { TopicAuthorizer } from '../broker/authorizer.js';
import { DeviceCredentials } from '../broker/device-credentials.js';
import { EmbeddedBroker } from '../broker/embedded-broker.js';
import type { ControlPlaneConfig } from '../config/control-plane-config-schema.js';
import { redactUrl } from '@edgefleet/service-kit';
import { describeError } from '../errors.js';
import { BatchWriter } from '../ingest/batch-writer.js';
import { embeddedIngestGate } from '../ingest/embedded-ingest-gate.js';
import { DetectionsHandler } from '../ingest/handlers/detections-handler.js';
import { MetricsHandler } from '../ingest/handlers/metrics-handler.js';
import { StatusHandler } from '../ingest/handlers/status-handler.js';
import { IngestPipeline } from '../ingest/ingest-pipeline.js';
import { IngestStats } from '../ingest/ingest-stats.js';
import { MqttIngestClient } from '../ingest/mqtt-ingest-client.js';
import { DeviceAuthenticator } from '../grpc/device-authenticator.js';
import { EncodedChunkCache } from '../grpc/encoded-chunk-cache.js';
import { FleetControlServer, type GrpcSecurity } from '../grpc/grpc-server.js';
import { WatchRegistry } from '../grpc/watch-registry.js';
import type { ModelValidator } from '../models/model-validator.js';
import type { SigningKeyInfo } from '../signing/model-signer.js';
import { openStore } from '../storage/open-store.js';
import type { Store } from '../storage/store.js';
import { createLogger, type Logger } from '@edgefleet/service-kit';
import { ComponentStack } from '@edgefleet/service-kit';
import { PartitionMaintainer } from '../storage/partition-maintainer.js';
import { createRegistryServices, type RegistryServices } from '../registry/registry-services.js';

/**
 * The control plane's composition root: configuration → store (migrated) → partitions → registry services
 * (artifact store, signing key, model registry, assignments, event bus) → ingest → broker (embedded, with
 * the ingest as its publish gate) or ingest client (external broker) → REST (bearer tokens) → gRPC for
 * agents → assignment resync. Stop runs the other way, committing what the ingest holds before the
 * broker goes.
 */

export interface ControlPlaneDeps {
  readonly logger?: Logger;
  /** The time seam of the whole control plane; default systemClock. */
  readonly clock?: Clock;
  /** Only for tests: an already opened store (otherwise built from the configuration). */
  readonly store?: Store;
  /** Only for tests: how uploads are validated (default: loaded with ONNX Runtime). */
  readonly validateModel?: ModelValidator;
}

export interface ControlPlaneInfo {
  readonly mqtt: {
    readonly mode: 'embedded' | 'external';
    readonly host: string | null;
    readonly port: number | null;
    readonly url: string | null;
  };
  readonly http: { readonly host: string; readonly port: number };
  /** null when gRPC is disabled. */
  readonly grpc: { readonly host: string; readonly port: number; readonly security: GrpcSecurity } | null;
  readonly signingKey: SigningKeyInfo;
  /** Where the generated admin token is kept; null when `auth.tokens` are configured. */
  readonly adminTokenFile: string | null;
  readonly dataDir: string;
  /** `pglite <dir>` or `postgres <redacted URL>`. */
  readonly database: string;
}

/** What a started control plane holds; absent before start and after stop. */
interface Running {
  readonly store: Store;
  readonly services: RegistryServices;
  readonly http: FastifyInstance;
  readonly info: ControlPlaneInfo;
}

export class ControlPlane {
  readonly stats = new IngestStats();
  private readonly logger: Logger;
  private readonly components = new ComponentStack();
  private running: Running | null = null;
  private adminTokenRef: string | null = null;

  constructor(
    private readonly config: ControlPlaneConfig,
    private readonly deps: ControlPlaneDeps = {},
  ) {
    this.logger = deps.logger ?? createLogger({ level: config.log.level });
  }

  private get clock(): Clock {
    return this.deps.clock ?? systemClock;
  }

  private get started(): Running {
    if (!this.running) throw new Error('control plane is not started');
    return this.running;
  }

  get store(): Store {
    return this.started.store;
  }

  get info(): ControlPlaneInfo {
    return this.started.info;
  }

  /** Registry services (model registry, assignments, event bus…), for tests and embedding. */
  get services(): RegistryServices {
    return this.started.services;
  }

  /**
   * The bootstrap admin token (generated at the first start into `auth.adminTokenFile`) when no
   * `auth.tokens` are configured; null otherwise. For tests and the local fleet script: it is never logged.
   */
  get adminToken(): string | null {
    return this.adminTokenRef;
  }

  /** The fastify instance (tests use `inject`). */
  get httpApp(): FastifyInstance {
    return this.started.http;
  }

  async start(signal: AbortSignal = new AbortController().signal): Promise<ControlPlaneInfo> {
    try {
      this.running = await this.startComponents(signal);
      this.logger.info('control plane started', { ...this.running.info });
      return this.running.info;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async startComponents(signal: AbortSignal): Promise<Running> {
    const { config, logger, components } = this;
    const { store, database } = await this.openStore();
    await components.start(
      new PartitionMaintainer(
        {
          partitionsAhead: config.retention.partitionsAhead,
          retentionDays: config.retention.days,
          intervalMs: config.retention.maintenanceIntervalMs,
        },
        { store, logger, clock: this.clock },
      ),
      signal,
    );
    const services = await createRegistryServices({
      store,
      dataDir: config.dataDir,
      signingKeyFile: config.signing.keyFile,
      maxUploadBytes: config.models.maxUploadBytes,
      logger,
      ...(this.deps.validateModel ? { validate: this.deps.validateModel } : {}),
      clock: this.clock,
    });
    const tokens = await this.apiTokens();
    const credentials = new DeviceCredentials({ store, passwordBytes: config.enrolment.passwordBytes });
    const writer = new BatchWriter(config.ingest, { store, stats: this.stats, logger });
    const mqtt = await this.startMqtt(this.ingestPipeline(store, writer), credentials, signal);
    // Stopped before the broker: what the writer commits while draining is still acknowledged to devices.
    components.adopt(writer);
    const http = await this.startHttp({ store, credentials, services, tokens, mqtt });
    const watches = new WatchRegistry();
    const grpc = config.grpc.enabled ? await this.startGrpc({ store, credentials, services, watches }, signal) : null;
    await components.start(
      new AssignmentResync({
        registry: store.registry,
        bus: services.bus,
        watchedDevices: () => watches.devices(),
        intervalMs: config.assignments.resyncIntervalMs,
        logger,
      }),
      signal,
    );
    const address = http.server.address() as AddressInfo;
    const info: ControlPlaneInfo = {
      mqtt:
        config.mqtt.mode === 'embedded'
          ? { mode: 'embedded', host: config.mqtt.host, port: mqtt.broker?.port ?? null, url: null }
          : { mode: 'external', host: null, port: null, url: redactUrl(config.mqtt.url) },
      http: { host: config.http.host, port: address.port },
      grpc: grpc ? { host: config.grpc.host, port: grpc.port, security: grpc.security } : null,
      signingKey: services.signer.info,
      adminTokenFile: this.adminTokenRef === null ? null : config.auth.adminTokenFile,
      dataDir: config.dataDir,
      database,
    };
    return { store, services, http, info };
  }

  /** The injected store (tests) or one opened from the configuration, migrated; closed at stop only if opened here. */
  private async openStore(): Promise<{ store: Store; database: string }> {
    if (this.deps.store) {
      await this.deps.store.migrate();
      return { store: this.deps.store, database: this.deps.store.kind };
    }
    const opened = await openStore({
      databaseUrl: this.config.databaseUrl,
      dataDir: this.config.dataDir,
      onPoolError: (err) => this.logger.warn('idle database connection failed', { error: err.message }),
    });
    const store = opened.store;
    this.components.adopt({ name: 'store', stop: () => store.close() });
    return { store, database: `${store.kind} ${opened.location}` };
  }

  private ingestPipeline(store: Store, writer: BatchWriter): IngestPipeline {
    const { config, logger } = this;
    const maxPayloadBytes = config.ingest.maxPayloadBytes;
    return new IngestPipeline({
      handlers: {
        detections: new DetectionsHandler({ writer, maxPayloadBytes }),
        status: new StatusHandler({ store, maxPayloadBytes, clock: this.clock }),
        metrics: new MetricsHandler({ store, maxPayloadBytes, clock: this.clock }),
      },
      stats: this.stats,
      logger,
      topicPrefix: config.mqtt.topicPrefix,
      clock: this.clock,
    });
  }

  /** The embedded broker (the ingest as its publish gate) or, for an external broker, the ingest client. */
  private async startMqtt(
    pipeline: IngestPipeline,
    credentials: DeviceCredentials,
    signal: AbortSignal,
  ): Promise<MqttEndpoint> {
    const { logger } = this;
    const mqtt = this.config.mqtt;
    if (mqtt.mode === 'embedded') {
      const authorizer = new TopicAuthorizer({
        credentials,
        services: new Map(mqtt.serviceAccounts.map((a) => [a.username, a.password])),
        topicPrefix: mqtt.topicPrefix,
      });
      const broker = new EmbeddedBroker(
        { host: mqtt.host, port: mqtt.port },
        { authorizer, logger, publishGate: embeddedIngestGate(pipeline) },
      );
      return { broker: await this.components.start(broker, signal), client: null };
    }
    const client = new MqttIngestClient(
      {
        url: mqtt.url,
        username: mqtt.username,
        password: mqtt.password,
        clientId: mqtt.clientId,
        connections: mqtt.connections,
        sharedGroup: mqtt.sharedGroup,
        protocolVersion: 5,
        sessionExpirySeconds: mqtt.sessionExpirySeconds,
        topicPrefix: mqtt.topicPrefix,
      },
      { pipeline, logger },
    );
    return { broker: null, client: await this.components.start(client, signal) };
  }

  private async startHttp(parts: {
    store: Store;
    credentials: DeviceCredentials;
    services: RegistryServices;
    tokens: readonly ApiTokenEntry[];
    mqtt: MqttEndpoint;
  }): Promise<FastifyInstance> {
    const { config } = this;
    const { store, credentials, services, tokens, mqtt } = parts;
    const http = await buildHttpApp(
      {
        store,
        credentials,
        ingestStats: this.stats,
        enrolmentEnabled: config.enrolment.enabled,
        broker: () => ({
          mode: config.mqtt.mode,
          port: mqtt.broker?.port ?? null,
          connected: mqtt.broker !== null || (mqtt.client?.connectedCount ?? 0) > 0,
        }),
        models: services.models,
        assignments: services.assignments,
        artifacts: services.artifacts,
        signingKey: services.signer.info,
        maxUploadBytes: config.models.maxUploadBytes,
        tokens,
      },
      this.logger,
      { rateLimit: config.http.rateLimit },
    );
    this.components.adopt({ name: 'http', stop: () => http.close() });
    await http.listen({ host: config.http.host, port: config.http.port });
    return http;
  }

  private async startGrpc(
    parts: { store: Store; credentials: DeviceCredentials; services: RegistryServices; watches: WatchRegistry },
    signal: AbortSignal,
  ): Promise<FleetControlServer> {
    const { config } = this;
    const { store, credentials, services, watches } = parts;
    const server = new FleetControlServer(config.grpc, {
      authenticator: new DeviceAuthenticator({
        credentials,
        ttlMs: config.grpc.authCacheTtlMs,
        requireCertificate: config.grpc.tlsClientCaFile !== undefined,
        clock: this.clock,
      }),
      assignments: services.assignments,
      registry: store.registry,
      artifacts: services.artifacts,
      chunks: new EncodedChunkCache(services.artifacts, config.grpc.chunkCacheBytes),
      bus: services.bus,
      watches,
      logger: this.logger,
      clock: this.clock,
    });
    return this.components.start(server, signal);
  }

  /**
   * The configured tokens, or (none configured) the bootstrap admin token from its file, made at the
   * first start. Only the file's path is logged.
   */
  private async apiTokens(): Promise<readonly ApiTokenEntry[]> {
    const { auth } = this.config;
    if (auth.tokens.length > 0) return auth.tokens;
    const file = auth.adminTokenFile;
    const bootstrap = await loadOrCreateBootstrapToken(file);
    if (bootstrap.exposed)
      this.logger.warn('admin token file is readable by group or others; chmod 600 it', { path: file });
    // `path`, not a name with "token" in it: the logger redacts those fields.
    this.logger.info(bootstrap.created ? 'admin token generated' : 'admin token loaded', { path: file });
    this.adminTokenRef = bootstrap.token;
    return [{ name: 'bootstrap-admin', role: 'admin', tokenSha256: hashApiToken(bootstrap.token) }];
  }

  /**
   * Stops in reverse start order: resync, gRPC and REST stop taking requests, the batch writer commits
   * (or abandons, unacknowledged) what the ingest holds while the broker (or ingest client) can still
   * acknowledge it, then the broker goes, partitions stop being maintained, and the store closes. A component that fails to stop is logged and the rest go on.
   */
  async stop(): Promise<void> {
    this.running = null;
    await this.components.stopAll(({ name, error }) =>
      this.logger.error('component failed to stop', { component: name, error: describeError(error) }),
    );
  }
}

/** Exactly one of the two is set, by the MQTT mode. */
interface MqttEndpoint {
  readonly broker: EmbeddedBroker | null;
  readonly client: MqttIngestClient | null;
}
