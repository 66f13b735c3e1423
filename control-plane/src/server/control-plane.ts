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
import { redactUrl } from '../config/redact-url.js';
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
import { createLogger, type Logger } from './logger.js';
import { PartitionMaintainer } from './partition-maintainer.js';
import { createRegistryServices, type RegistryServices } from './registry-services.js';

/**
 * The control plane's composition root: configuration → store (migrated) → partitions → registry services
 * (artifact store, signing key, model registry, assignments, event bus) → ingest → broker (embedded, with
 * the ingest as its publish gate) or ingest client (external broker) → REST (bearer tokens) → gRPC for
 * agents → assignment resync. Stop runs the other way, committing what the ingest holds before the
 * broker goes.
 */

export interface ControlPlaneDeps {
  readonly logger?: Logger;
  readonly now?: () => number;
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

export class ControlPlane {
  readonly stats = new IngestStats();
  private readonly logger: Logger;
  private storeRef: Store | null = null;
  private ownsStore = false;
  private writer: BatchWriter | null = null;
  private broker: EmbeddedBroker | null = null;
  private ingestClient: MqttIngestClient | null = null;
  private http: FastifyInstance | null = null;
  private grpc: FleetControlServer | null = null;
  private resync: AssignmentResync | null = null;
  private maintainer: PartitionMaintainer | null = null;
  private infoRef: ControlPlaneInfo | null = null;
  private servicesRef: RegistryServices | null = null;
  private adminTokenRef: string | null = null;

  constructor(
    private readonly config: ControlPlaneConfig,
    private readonly deps: ControlPlaneDeps = {},
  ) {
    this.logger = deps.logger ?? createLogger({ level: config.log.level });
  }

  get store(): Store {
    if (!this.storeRef) throw new Error('control plane is not started');
    return this.storeRef;
  }

  get info(): ControlPlaneInfo {
    if (!this.infoRef) throw new Error('control plane is not started');
    return this.infoRef;
  }

  /** Registry services (model registry, assignments, event bus…), for tests and embedding. */
  get services(): RegistryServices {
    if (!this.servicesRef) throw new Error('control plane is not started');
    return this.servicesRef;
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
    if (!this.http) throw new Error('control plane is not started');
    return this.http;
  }

  async start(): Promise<ControlPlaneInfo> {
    try {
      return await this.startComponents();
    } catch (err) {
      await this.stop().catch((stopErr: unknown) =>
        this.logger.error('cleanup after a failed start failed', { error: describeError(stopErr) }),
      );
      throw err;
    }
  }

  private async startComponents(): Promise<ControlPlaneInfo> {
    const { config, logger } = this;
    let database: string;
    if (this.deps.store) {
      this.storeRef = this.deps.store;
      await this.storeRef.migrate();
      database = this.storeRef.kind;
    } else {
      const opened = await openStore({
        databaseUrl: config.databaseUrl,
        dataDir: config.dataDir,
        onPoolError: (err) => logger.warn('idle database connection failed', { error: err.message }),
      });
      this.storeRef = opened.store;
      this.ownsStore = true;
      database = `${opened.store.kind} ${opened.location}`;
    }
    const store = this.storeRef;
    this.maintainer = new PartitionMaintainer(
      {
        partitionsAhead: config.retention.partitionsAhead,
        retentionDays: config.retention.days,
        intervalMs: config.retention.maintenanceIntervalMs,
      },
      { store, logger, ...(this.deps.now ? { now: this.deps.now } : {}) },
    );
    await this.maintainer.start();

    const services = await createRegistryServices({
      store,
      dataDir: config.dataDir,
      signingKeyFile: config.signing.keyFile,
      maxUploadBytes: config.models.maxUploadBytes,
      logger,
      ...(this.deps.validateModel ? { validate: this.deps.validateModel } : {}),
      ...(this.deps.now ? { now: this.deps.now } : {}),
    });
    this.servicesRef = services;
    const tokens = await this.apiTokens();

    this.writer = new BatchWriter(config.ingest, { store, stats: this.stats, logger });
    const maxPayloadBytes = config.ingest.maxPayloadBytes;
    const pipeline = new IngestPipeline({
      handlers: {
        detections: new DetectionsHandler({ writer: this.writer, maxPayloadBytes }),
        status: new StatusHandler({ store, maxPayloadBytes, ...(this.deps.now ? { now: this.deps.now } : {}) }),
        metrics: new MetricsHandler({ store, maxPayloadBytes, ...(this.deps.now ? { now: this.deps.now } : {}) }),
      },
      stats: this.stats,
      logger,
      topicPrefix: config.mqtt.topicPrefix,
    });
    const credentials = new DeviceCredentials({ store, passwordBytes: config.enrolment.passwordBytes });

    const mqtt = config.mqtt;
    if (mqtt.mode === 'embedded') {
      const authorizer = new TopicAuthorizer({
        credentials,
        services: new Map(mqtt.serviceAccounts.map((a) => [a.username, a.password])),
        topicPrefix: mqtt.topicPrefix,
      });
      this.broker = new EmbeddedBroker(
        { host: mqtt.host, port: mqtt.port },
        { authorizer, logger, publishGate: embeddedIngestGate(pipeline) },
      );
      await this.broker.start();
    } else {
      this.ingestClient = new MqttIngestClient(
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
      await this.ingestClient.start();
    }

    this.http = await buildHttpApp(
      {
        store,
        credentials,
        ingestStats: this.stats,
        enrolmentEnabled: config.enrolment.enabled,
        broker: () => ({
          mode: mqtt.mode,
          port: this.broker?.port ?? null,
          connected: this.broker !== null || (this.ingestClient?.connectedCount ?? 0) > 0,
        }),
        models: services.models,
        assignments: services.assignments,
        artifacts: services.artifacts,
        signingKey: services.signer.info,
        maxUploadBytes: config.models.maxUploadBytes,
        tokens,
      },
      logger,
      { rateLimit: config.http.rateLimit },
    );
    await this.http.listen({ host: config.http.host, port: config.http.port });
    const address = this.http.server.address() as AddressInfo;

    const watches = new WatchRegistry();
    if (config.grpc.enabled) {
      this.grpc = new FleetControlServer(config.grpc, {
        authenticator: new DeviceAuthenticator({
          credentials,
          ttlMs: config.grpc.authCacheTtlMs,
          requireCertificate: config.grpc.tlsClientCaFile !== undefined,
        }),
        assignments: services.assignments,
        registry: store.registry,
        artifacts: services.artifacts,
        chunks: new EncodedChunkCache(services.artifacts, config.grpc.chunkCacheBytes),
        bus: services.bus,
        watches,
        logger,
        ...(this.deps.now ? { now: this.deps.now } : {}),
      });
      await this.grpc.start();
    }
    this.resync = new AssignmentResync({
      registry: store.registry,
      bus: services.bus,
      watchedDevices: () => watches.devices(),
      intervalMs: config.assignments.resyncIntervalMs,
      logger,
    });
    await this.resync.start();

    this.infoRef = {
      mqtt:
        mqtt.mode === 'embedded'
          ? { mode: 'embedded', host: mqtt.host, port: this.broker?.port ?? null, url: null }
          : { mode: 'external', host: null, port: null, url: redactUrl(mqtt.url) },
      http: { host: config.http.host, port: address.port },
      grpc: this.grpc ? { host: config.grpc.host, port: this.grpc.port, security: this.grpc.security } : null,
      signingKey: services.signer.info,
      adminTokenFile: this.adminTokenRef === null ? null : config.auth.adminTokenFile,
      dataDir: config.dataDir,
      database,
    };
    logger.info('control plane started', { ...this.infoRef });
    return this.infoRef;
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

  /** Stops taking requests, commits (or abandons, unacknowledged) what the ingest holds, then closes broker and store. */
  async stop(): Promise<void> {
    const resync = this.resync;
    this.resync = null;
    if (resync) await resync.stop();
    const grpc = this.grpc;
    this.grpc = null;
    if (grpc) await grpc.stop();
    const http = this.http;
    this.http = null;
    if (http) await http.close();
    const writer = this.writer;
    this.writer = null;
    if (writer) await writer.stop(this.config.ingest.drainTimeoutMs);
    const client = this.ingestClient;
    this.ingestClient = null;
    if (client) await client.stop();
    const broker = this.broker;
    this.broker = null;
    if (broker) await broker.stop();
    const maintainer = this.maintainer;
    this.maintainer = null;
    if (maintainer) await maintainer.stop();
    const store = this.storeRef;
    this.storeRef = null;
    if (store && this.ownsStore) await store.close();
    this.infoRef = null;
    this.servicesRef = null;
  }
}
