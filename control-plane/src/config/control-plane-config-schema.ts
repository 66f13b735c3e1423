import { DEFAULT_MAX_PAYLOAD_BYTES } from '@edgefleet/proto';
import { Derived, type Resolved } from '@edgefleet/service-kit/config';
import { Type, type Static, type TLiteral, type TUnion } from '@sinclair/typebox';

/**
 * The control plane's configuration schema: the single source of its TypeScript type, defaults,
 * validation and the reference in control-plane/README.md. Every object rejects unknown keys so a
 * typo fails at start-up instead of being ignored.
 */

const strict = { additionalProperties: false } as const;

function literals<const T extends readonly string[]>(
  values: T,
  options: { default?: T[number]; description: string },
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as TUnion<TLiteral<T[number]>[]>;
}

export const MQTT_MODES = ['embedded', 'external'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export const MqttConfigSchema = Type.Object(
  {
    mode: literals(MQTT_MODES, {
      default: 'embedded',
      description:
        '`embedded`: an aedes broker inside this process (devices authenticate with enrolled credentials). `external`: connect to an MQTT 5 broker at `url` (Mosquitto, EMQX) and share ingest with other replicas through a shared subscription.',
    }),
    host: Type.String({
      minLength: 1,
      default: '0.0.0.0',
      description:
        'Embedded broker: listen address. Devices authenticate, so it listens on every interface by default.',
    }),
    port: Type.Integer({
      minimum: 0,
      maximum: 65_535,
      default: 1883,
      description: 'Embedded broker: TCP port (0 picks a free one; the chosen port is printed at start).',
    }),
    url: Type.Optional(
      Type.String({
        pattern: '^(mqtts?|tcp|tls)://',
        description: 'External broker URL, e.g. `mqtt://127.0.0.1:1883`. Required in `external` mode.',
      }),
    ),
    username: Type.Optional(
      Type.String({ minLength: 1, description: 'External broker: user name of the ingest client.' }),
    ),
    password: Type.Optional(
      Type.String({ description: 'External broker: password of the ingest client (never logged).' }),
    ),
    clientId: Derived(
      Type.String({
        pattern: '^[A-Za-z0-9._-]+$',
        maxLength: 64,
        description:
          'External broker: stable client id prefix of this replica (`-0`, `-1`… per connection). It must survive restarts: the broker keeps unacknowledged messages in the session of that id and redelivers them when it reconnects. Default: `cp-<hostname>`.',
      }),
    ),
    topicPrefix: Type.String({
      pattern: '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$',
      default: 'fleet/v1',
      description:
        "Topic prefix of the telemetry topics (`{prefix}/{device}/detections|status|metrics`, see proto/README.md); it must match the agents' `topicPrefix`.",
    }),
    serviceAccounts: Type.Array(
      Type.Object(
        {
          username: Type.String({
            pattern: '^svc:[A-Za-z0-9._-]{1,64}$',
            description: 'Starts with `svc:` so it can never be a device id.',
          }),
          password: Type.String({ minLength: 16, description: 'Never logged.' }),
        },
        strict,
      ),
      {
        default: [],
        description:
          "Embedded broker: accounts for integrations that may subscribe to every device's topics (`{prefix}/+/…`) and publish under the prefix.",
      },
    ),
    sharedGroup: Type.String({
      pattern: '^[A-Za-z0-9._-]+$',
      default: 'ingest',
      description:
        'External broker: shared subscription group (`$share/<group>/fleet/v1/+/detections`); replicas in one group split the messages.',
    }),
    connections: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 4,
      description:
        'External broker: ingest connections of this replica, all in the shared group. An MQTT client handles one message at a time and acknowledges it only after its rows are committed, so parallel connections keep several commits in flight.',
    }),
    sessionExpirySeconds: Type.Integer({
      minimum: 0,
      default: 3600,
      description:
        "External broker: how long the broker keeps this replica's session (and its unacknowledged messages) while it is disconnected.",
    }),
  },
  { ...strict, default: {}, description: 'MQTT broker and ingest connection.' },
);

export const RateLimitConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description:
        'Limit REST requests per client address (`@fastify/rate-limit`); over the limit: 429 `CP_ERR_RATE_LIMITED`. `/healthz` is exempt.',
    }),
    max: Type.Integer({ minimum: 1, default: 600, description: 'Requests per client address and window.' }),
    timeWindowMs: Type.Integer({ minimum: 100, default: 60_000, description: 'Length of the window in ms.' }),
  },
  { ...strict, default: {}, description: 'REST rate limiting.' },
);

export const HttpConfigSchema = Type.Object(
  {
    host: Type.String({
      minLength: 1,
      default: '127.0.0.1',
      description:
        'REST API listen address. Every route but `/healthz`, `/openapi.json` and `/docs` needs a bearer token; loopback by default all the same, since the API speaks plain HTTP (put a TLS proxy in front to expose it).',
    }),
    port: Type.Integer({
      minimum: 0,
      maximum: 65_535,
      default: 8080,
      description: 'REST API port (0 picks a free one).',
    }),
    rateLimit: RateLimitConfigSchema,
  },
  { ...strict, default: {}, description: 'REST API (fastify).' },
);

export const API_ROLE_NAMES = ['admin', 'viewer'] as const;

export const AuthConfigSchema = Type.Object(
  {
    tokens: Type.Array(
      Type.Object(
        {
          name: Type.String({
            pattern: '^[A-Za-z0-9._-]{1,64}$',
            description: 'Who holds the token; the audit log records `token:<name>`.',
          }),
          role: literals(API_ROLE_NAMES, { description: '`admin`: every route. `viewer`: GET routes only.' }),
          tokenSha256: Type.String({
            pattern: '^[0-9a-f]{64}$',
            description:
              'Lower-case hex SHA-256 of the token (`printf %s "$TOKEN" | sha256sum`); the token itself is never stored.',
          }),
        },
        strict,
      ),
      {
        default: [],
        description:
          'REST bearer tokens (`Authorization: Bearer <token>`). When empty, an admin token is generated at the first start into `adminTokenFile` and only its path is printed.',
      },
    ),
    adminTokenFile: Derived(
      Type.String({
        minLength: 1,
        description:
          'Where the generated admin token is kept (mode 0600) when `tokens` is empty. Default: `<dataDir>/admin.token`.',
      }),
    ),
  },
  { ...strict, default: {}, description: 'REST API authentication: bearer tokens with roles.' },
);

export const GrpcConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Serve `fleet.v1.FleetControl` (assignment watch, model download, model status) to agents.',
    }),
    host: Type.String({
      minLength: 1,
      default: '0.0.0.0',
      description:
        'gRPC listen address. Devices authenticate on every call, so it listens on every interface by default.',
    }),
    port: Type.Integer({
      minimum: 0,
      maximum: 65_535,
      default: 50_051,
      description: 'gRPC port (0 picks a free one; the chosen port is printed at start as `grpc port: N`).',
    }),
    tlsCertFile: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'PEM certificate chain of the server. With `tlsKeyFile`: TLS; without both: plaintext.',
      }),
    ),
    tlsKeyFile: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key of the server certificate.' })),
    tlsClientCaFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'mTLS: PEM CA bundle that client certificates must chain to. Every client must present one whose subject CN is its device id (checked against the device of the call), besides its Basic credentials.',
      }),
    ),
    chunkCacheBytes: Type.Integer({
      minimum: 0,
      default: 256 * 1024 * 1024,
      description:
        'Memory for model artifacts kept as encoded download chunks, shared by every agent that downloads them (least recently used first out; an artifact above it streams from the store per download; 0 turns the cache off).',
    }),
    authCacheTtlMs: Type.Integer({
      minimum: 0,
      maximum: 3_600_000,
      default: 30_000,
      description:
        'How long a verified device credential is trusted without checking the store again (keyed by a hash of the credential). A rotated password keeps working for at most this long. 0 disables the cache.',
    }),
    keepaliveTimeMs: Type.Integer({
      minimum: 1_000,
      default: 30_000,
      description: "HTTP/2 keepalive ping interval towards agents, so a silently dead agent's watch stream is closed.",
    }),
  },
  { ...strict, default: {}, description: 'gRPC server for agents (proto/fleet/v1/control.proto).' },
);

export const ModelsConfigSchema = Type.Object(
  {
    maxUploadBytes: Type.Integer({
      minimum: 1024,
      default: 512 * 1024 * 1024,
      description:
        'Largest ONNX upload (bytes); bigger uploads get 413 `CP_ERR_MODEL_TOO_LARGE`. Streamed to disk, never held in memory.',
    }),
  },
  {
    ...strict,
    default: {},
    description: 'Model registry: uploads and artifacts (content-addressed under `<dataDir>/artifacts`).',
  },
);

export const SigningConfigSchema = Type.Object(
  {
    keyFile: Derived(
      Type.String({
        minLength: 1,
        description:
          'ed25519 private key (PKCS#8 PEM, mode 0600) that signs model artifacts; generated at the first start when missing. Replicas must share it. Default: `<dataDir>/keys/model-signing-key.pem`.',
      }),
    ),
  },
  { ...strict, default: {}, description: 'Model signing.' },
);

export const AssignmentsConfigSchema = Type.Object(
  {
    resyncIntervalMs: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 2_000,
      description:
        "How often the assignment history is polled for changes made by other replicas (sharing one PostgreSQL), so this replica's agents get them too.",
    }),
  },
  { ...strict, default: {}, description: 'Per-camera model assignments.' },
);

export const IngestConfigSchema = Type.Object(
  {
    batchMaxRows: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 20_000,
      description: 'Rows (frames plus detections) that trigger a flush; one flush is one transaction.',
    }),
    flushIntervalMs: Type.Integer({
      minimum: 0,
      maximum: 60_000,
      default: 5,
      description:
        'Longest time a message waits for more rows before its flush starts while no flush is running (group commit: while one runs, the next batch gathers).',
    }),
    maxPayloadBytes: Type.Integer({
      minimum: 64,
      maximum: 256 * 1024 * 1024,
      default: DEFAULT_MAX_PAYLOAD_BYTES,
      description:
        "Bigger MQTT payloads are rejected (counted as `oversized`) without decoding. Default: the wire contract's limit (1 MiB, proto/README.md).",
    }),
    retryMaxDelayMs: Type.Integer({
      minimum: 10,
      default: 5_000,
      description:
        'Cap of the backoff between retries of a flush that failed for a database reason (messages stay unacknowledged meanwhile).',
    }),
    drainTimeoutMs: Type.Integer({
      minimum: 0,
      default: 10_000,
      description:
        'On stop, how long queued rows may take to commit; what is left is not acknowledged, so devices (embedded broker) or the broker session (external) send it again.',
    }),
  },
  { ...strict, default: {}, description: 'Batching of decoded telemetry into the database.' },
);

export const RetentionConfigSchema = Type.Object(
  {
    days: Type.Integer({
      minimum: 1,
      maximum: 36_500,
      default: 30,
      description: 'Day partitions of frames and detections older than this many days are dropped.',
    }),
    partitionsAhead: Type.Integer({
      minimum: 0,
      maximum: 366,
      default: 3,
      description: 'Day partitions created ahead of today (at start and by the maintenance timer).',
    }),
    maintenanceIntervalMs: Type.Integer({
      minimum: 1_000,
      default: 3_600_000,
      description: 'How often partitions are created ahead and old ones dropped.',
    }),
  },
  { ...strict, default: {}, description: 'Day partitioning and retention of frames and detections.' },
);

export const EnrolmentConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Allow `POST /api/v1/devices` to enrol devices (and rotate credentials with `rotate: true`).',
    }),
    passwordBytes: Type.Integer({
      minimum: 16,
      maximum: 128,
      default: 24,
      description: 'Random bytes of each generated device password (base64url).',
    }),
  },
  {
    ...strict,
    default: {},
    description:
      'Device enrolment: per-device MQTT and gRPC credentials, stored as salted SHA-256 hashes of random passwords.',
  },
);

export const LogConfigSchema = Type.Object(
  {
    level: literals(LOG_LEVELS, { default: 'info', description: 'Lowest level written (JSON lines on stderr).' }),
  },
  { ...strict, default: {}, description: 'Structured logs.' },
);

export const ControlPlaneConfigSchema = Type.Object(
  {
    dataDir: Type.String({
      minLength: 1,
      default: './.data/control-plane',
      description:
        'State directory (the embedded PGlite database lives in `<dataDir>/pglite`). Relative paths are resolved against the config file directory (or the working directory without a file).',
    }),
    databaseUrl: Type.Optional(
      Type.String({
        pattern: '^postgres(ql)?://',
        description:
          'PostgreSQL connection URL (`postgres://user:pass@host:5432/db`). Without it the control plane runs on embedded PGlite in `<dataDir>/pglite` with the same SQL.',
      }),
    ),
    mqtt: MqttConfigSchema,
    http: HttpConfigSchema,
    ingest: IngestConfigSchema,
    retention: RetentionConfigSchema,
    enrolment: EnrolmentConfigSchema,
    auth: AuthConfigSchema,
    grpc: GrpcConfigSchema,
    models: ModelsConfigSchema,
    signing: SigningConfigSchema,
    assignments: AssignmentsConfigSchema,
    log: LogConfigSchema,
  },
  strict,
);

/**
 * The validated, defaulted, resolved and frozen configuration: `mqtt.clientId`, `auth.adminTokenFile` and
 * `signing.keyFile` are derived by the loader when the file leaves them out, so they are always present.
 */
export type ControlPlaneConfig = Omit<ResolvedConfig, 'mqtt'> & { readonly mqtt: ResolvedConfig['mqtt'] & MqttModes };
type ResolvedConfig = Resolved<typeof ControlPlaneConfigSchema>;
/** The loader's rule `/mqtt/url: required when /mqtt/mode is "external"` makes `mode` a discriminant. */
type MqttModes = { readonly mode: 'embedded' } | { readonly mode: 'external'; readonly url: string };
export type MqttConfig = ControlPlaneConfig['mqtt'];
export type HttpConfig = ControlPlaneConfig['http'];
export type IngestConfig = ControlPlaneConfig['ingest'];
export type RetentionConfig = ControlPlaneConfig['retention'];
export type AuthConfig = ControlPlaneConfig['auth'];
export type GrpcConfig = ControlPlaneConfig['grpc'];
/** What a config file may contain: every field optional where the schema has a default. */
export type ControlPlaneConfigInput = Static<typeof ControlPlaneConfigSchema> extends infer C ? DeepPartial<C> : never;
type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
