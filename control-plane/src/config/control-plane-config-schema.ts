import { Type, type Static, type TLiteral, type TUnion } from '@sinclair/typebox';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '@edgefleet/proto';

/**
 * The control plane's configuration schema: the single source of its TypeScript type, defaults,
 * validation and the reference in control-plane/README.md. Every object rejects unknown keys so a
 * typo fails at start-up instead of being ignored.
 */

const strict = { additionalProperties: false } as const;

function literals<const T extends readonly string[]>(values: T, options: { default?: T[number]; description: string }): TUnion<TLiteral<T[number]>[]> {
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
      description: '`embedded`: an aedes broker inside this process (devices authenticate with enrolled credentials). `external`: connect to an MQTT 5 broker at `url` (Mosquitto, EMQX) and share ingest with other replicas through a shared subscription.',
    }),
    host: Type.String({ minLength: 1, default: '0.0.0.0', description: 'Embedded broker: listen address. Devices authenticate, so it listens on every interface by default.' }),
    port: Type.Integer({ minimum: 0, maximum: 65_535, default: 1883, description: 'Embedded broker: TCP port (0 picks a free one; the chosen port is printed at start).' }),
    url: Type.Optional(Type.String({ pattern: '^(mqtts?|tcp|tls)://', description: 'External broker URL, e.g. `mqtt://127.0.0.1:1883`. Required in `external` mode.' })),
    username: Type.Optional(Type.String({ minLength: 1, description: 'External broker: user name of the ingest client.' })),
    password: Type.Optional(Type.String({ description: 'External broker: password of the ingest client (never logged).' })),
    clientId: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9._-]+$',
        maxLength: 64,
        description: 'External broker: stable client id prefix of this replica (`-0`, `-1`… per connection). It must survive restarts: the broker keeps unacknowledged messages in the session of that id and redelivers them when it reconnects. Default: `cp-<hostname>`.',
      }),
    ),
    topicPrefix: Type.String({
      pattern: '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$',
      default: 'fleet/v1',
      description: 'Topic prefix of the telemetry topics (`{prefix}/{device}/detections|status|metrics`, see proto/README.md); it must match the agents\' `topicPrefix`.',
    }),
    serviceAccounts: Type.Array(
      Type.Object(
        {
          username: Type.String({ pattern: '^svc:[A-Za-z0-9._-]{1,64}$', description: 'Starts with `svc:` so it can never be a device id.' }),
          password: Type.String({ minLength: 16, description: 'Never logged.' }),
        },
        strict,
      ),
      {
        default: [],
        description: 'Embedded broker: accounts for integrations that may subscribe to every device\'s topics (`{prefix}/+/…`) and publish under the prefix.',
      },
    ),
    sharedGroup: Type.String({ pattern: '^[A-Za-z0-9._-]+$', default: 'ingest', description: 'External broker: shared subscription group (`$share/<group>/fleet/v1/+/detections`); replicas in one group split the messages.' }),
    connections: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 4,
      description: 'External broker: ingest connections of this replica, all in the shared group. An MQTT client handles one message at a time and acknowledges it only after its rows are committed, so parallel connections keep several commits in flight.',
    }),
    sessionExpirySeconds: Type.Integer({
      minimum: 0,
      default: 3600,
      description: 'External broker: how long the broker keeps this replica\'s session (and its unacknowledged messages) while it is disconnected.',
    }),
  },
  { ...strict, default: {}, description: 'MQTT broker and ingest connection.' },
);

export const HttpConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'REST API listen address. Loopback by default: the API has no token auth yet.' }),
    port: Type.Integer({ minimum: 0, maximum: 65_535, default: 8080, description: 'REST API port (0 picks a free one).' }),
  },
  { ...strict, default: {}, description: 'REST API (fastify).' },
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
      description: 'Longest time a message waits for more rows before its flush starts while no flush is running (group commit: while one runs, the next batch gathers).',
    }),
    maxPayloadBytes: Type.Integer({
      minimum: 64,
      maximum: 256 * 1024 * 1024,
      default: DEFAULT_MAX_PAYLOAD_BYTES,
      description: 'Bigger MQTT payloads are rejected (counted as `oversized`) without decoding. Default: the wire contract\'s limit (1 MiB, proto/README.md).',
    }),
    retryMaxDelayMs: Type.Integer({ minimum: 10, default: 5_000, description: 'Cap of the backoff between retries of a flush that failed for a database reason (messages stay unacknowledged meanwhile).' }),
    drainTimeoutMs: Type.Integer({
      minimum: 0,
      default: 10_000,
      description: 'On stop, how long queued rows may take to commit; what is left is not acknowledged, so devices (embedded broker) or the broker session (external) send it again.',
    }),
  },
  { ...strict, default: {}, description: 'Batching of decoded telemetry into the database.' },
);

export const RetentionConfigSchema = Type.Object(
  {
    days: Type.Integer({ minimum: 1, maximum: 36_500, default: 30, description: 'Day partitions of frames and detections older than this many days are dropped.' }),
    partitionsAhead: Type.Integer({ minimum: 0, maximum: 366, default: 3, description: 'Day partitions created ahead of today (at start and by the maintenance timer).' }),
    maintenanceIntervalMs: Type.Integer({ minimum: 1_000, default: 3_600_000, description: 'How often partitions are created ahead and old ones dropped.' }),
  },
  { ...strict, default: {}, description: 'Day partitioning and retention of frames and detections.' },
);

export const EnrolmentConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Allow `POST /api/v1/devices` to enrol devices (and rotate credentials with `rotate: true`).' }),
    passwordBytes: Type.Integer({ minimum: 16, maximum: 128, default: 24, description: 'Random bytes of each generated device password (base64url).' }),
  },
  { ...strict, default: {}, description: 'Device enrolment: per-device MQTT credentials, stored as scrypt hashes.' },
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
      description: 'State directory (the embedded PGlite database lives in `<dataDir>/pglite`). Relative paths are resolved against the config file directory (or the working directory without a file).',
    }),
    databaseUrl: Type.Optional(
      Type.String({
        pattern: '^postgres(ql)?://',
        description: 'PostgreSQL connection URL (`postgres://user:pass@host:5432/db`). Without it the control plane runs on embedded PGlite in `<dataDir>/pglite` with the same SQL.',
      }),
    ),
    mqtt: MqttConfigSchema,
    http: HttpConfigSchema,
    ingest: IngestConfigSchema,
    retention: RetentionConfigSchema,
    enrolment: EnrolmentConfigSchema,
    log: LogConfigSchema,
  },
  strict,
);

type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** The validated, defaulted and frozen configuration. */
export type ControlPlaneConfig = DeepReadonly<Static<typeof ControlPlaneConfigSchema>>;
export type MqttConfig = ControlPlaneConfig['mqtt'];
export type HttpConfig = ControlPlaneConfig['http'];
export type IngestConfig = ControlPlaneConfig['ingest'];
export type RetentionConfig = ControlPlaneConfig['retention'];
/** What a config file may contain: every field optional where the schema has a default. */
export type ControlPlaneConfigInput = Static<typeof ControlPlaneConfigSchema> extends infer C ? DeepPartial<C> : never;
type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
