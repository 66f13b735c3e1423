import { Derived, type Resolved } from '@edgefleet/service-kit/config';
import { Type, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';

/**
 * The edge agent's configuration schema: the single source of its TypeScript type, defaults,
 * validation and documentation (`edge-agent config-reference` renders it as Markdown).
 * Every object rejects unknown keys so typos fail at start-up instead of being ignored.
 */

const strict = { additionalProperties: false } as const;

/** A string enum as a union of literals (TypeBox's idiom; the static type is the union of the values). */
function literals<const T extends readonly string[]>(
  values: T,
  options: { default?: T[number]; description: string },
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as TUnion<TLiteral<T[number]>[]>;
}

export const EXECUTION_PROVIDERS = ['tensorrt', 'cuda', 'cpu'] as const;
export const MODEL_ADAPTERS = ['auto', 'yolov8', 'yolox'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export const ModelConfigSchema = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      description: 'ONNX model file; relative paths are resolved against the config file directory.',
    }),
    id: Derived(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'Model id written with every detection. Default: the model file name without extension.',
      }),
    ),
    version: Derived(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'Model version written with every detection. Default: "local".',
      }),
    ),
    adapter: literals(MODEL_ADAPTERS, {
      default: 'auto',
      description:
        'Output decoder: `yolov8` (Ultralytics YOLOv8/YOLO11, `[1, 4+nc, N]`), `yolox` (`[1, N, 5+nc]`), or `auto` to detect it from the output shape and metadata.',
    }),
    letterbox: Type.Optional(
      literals(['center', 'top-left'] as const, {
        description:
          "Where the picture sits in the model input. Default: the adapter's own (`center` for Ultralytics exports, `top-left` for YOLOX).",
      }),
    ),
    providers: Type.Array(literals(EXECUTION_PROVIDERS, { description: 'execution provider' }), {
      minItems: 1,
      uniqueItems: true,
      default: ['tensorrt', 'cuda', 'cpu'],
      description:
        'Execution providers in preference order; the first one that loads is used (and reported in metrics).',
    }),
    tensorrtFp16: Type.Boolean({ default: true, description: 'Let TensorRT build FP16 engines.' }),
    inferenceThread: literals(['worker', 'caller'] as const, {
      default: 'worker',
      description:
        "Where ONNX Runtime runs: `worker`, threads of the model's own, so capture, decode + NMS and the outbox overlap inference (a camera keeps one frame more in flight than the model has sessions); `caller`, the agent's event loop, which each run blocks for its whole duration (one frame at a time, one session, less memory).",
    }),
    sessions: Type.Union([Type.Literal('auto'), Type.Integer({ minimum: 1, maximum: 16 })], {
      default: 'auto',
      description:
        'ONNX Runtime sessions of the model, each in its own worker thread, frames going to the least busy (with `inferenceThread: worker`). `auto`: one single-threaded session per core, at most 4, when the model runs on the CPU (more frames/s than one session splitting each run over the cores, at a higher latency per frame); one session on TensorRT or CUDA. A number N > 1: N single-threaded sessions.',
    }),
    engineCacheDir: Derived(
      Type.String({
        minLength: 1,
        description:
          'TensorRT engine cache directory. Default: `<dataDir>/trt-engines`. Relative paths are resolved against the config file directory.',
      }),
    ),
    conf: Type.Number({ minimum: 0, maximum: 1, default: 0.25, description: 'Confidence threshold.' }),
    iou: Type.Number({ minimum: 0, maximum: 1, default: 0.45, description: 'IoU threshold of the class-wise NMS.' }),
    maxDetections: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 300,
      description: 'Detections kept per frame after NMS.',
    }),
  },
  {
    ...strict,
    description:
      'The detection model every camera uses unless it names its own; with `control`, the baseline a camera runs until the control plane assigns it a model.',
  },
);

export const CameraConfigSchema = Type.Object(
  {
    id: Type.String({
      pattern: '^[A-Za-z0-9_-]+$',
      maxLength: 64,
      description:
        'Camera id, unique on the device: letters, digits, `_` and `-` (it appears in metrics labels and MQTT topics).',
    }),
    uri: Type.String({
      minLength: 1,
      description:
        'Source: `file:///abs/video.mp4`, `file:///abs/photo.jpg`, `dir:///abs/images` or `file:///abs/dir/*.jpg` (image sequence), `rtsp://…`, `v4l2:///dev/video0`, `csi://0` (Jetson), `testsrc://?pattern=ball`, `synthetic://?schedule=day:300,fog:300~30&seed=7` (a generated street scene whose domain follows the schedule).',
    }),
    enabled: Type.Boolean({ default: true, description: 'Disabled cameras are validated but not started.' }),
    platform: literals(['generic', 'jetson'] as const, {
      default: 'generic',
      description: '`jetson` selects the NVMM pipelines (nvv4l2decoder, nvvidconv, nvarguscamerasrc).',
    }),
    fps: Type.Optional(
      Type.Number({
        minimum: 0.1,
        maximum: 1000,
        description:
          'Frame rate for image sequences and still images (default 10), V4L2, CSI (default 30), testsrc and synthetic (default 10, at most 240).',
      }),
    ),
    loop: Type.Optional(
      Type.Boolean({
        description:
          'Files and image sequences: start again at the end instead of finishing; synthetic: repeat the schedule instead of holding its last domain. Default false.',
      }),
    ),
    realtime: Type.Optional(
      Type.Boolean({
        description:
          'Files and image sequences: pace frames at their native rate and drop like a live source. Default false.',
      }),
    ),
    width: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 16384,
        description: 'V4L2, CSI, testsrc and synthetic (default 640): capture width.',
      }),
    ),
    height: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 16384,
        description: 'V4L2, CSI, testsrc and synthetic (default 480): capture height.',
      }),
    ),
    format: Type.Optional(
      Type.String({ minLength: 1, description: 'V4L2: `mjpeg` or a raw GStreamer format such as `YUY2`.' }),
    ),
    latencyMs: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 60_000, description: 'RTSP jitter-buffer latency in ms. Default 200.' }),
    ),
    transport: Type.Optional(
      literals(['tcp', 'udp', 'auto'] as const, { description: 'RTSP transport. Default `tcp`.' }),
    ),
    codec: Type.Optional(
      literals(['auto', 'h264', 'h265'] as const, {
        description: 'Jetson files and RTSP: pins the hardware decoder chain. Default `auto`.',
      }),
    ),
    pattern: Type.Optional(
      Type.String({ minLength: 1, description: 'testsrc: videotestsrc pattern, e.g. `ball`. Default `smpte`.' }),
    ),
    schedule: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'synthetic: domain schedule `DOMAIN:DURATION_S[~TRANSITION_S],…` in seconds since the camera started, e.g. `day:300,fog:300~30` (fog fades in over 30 s); domains day, night, fog, rain, camera, style or mixes like `night@0.5+fog`. Default `day`.',
      }),
    ),
    seed: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 4_294_967_295,
        description: 'synthetic: scene seed (street layout, traffic, noise). Default 0.',
      }),
    ),
    stallTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 10_000,
      description: 'No frame for this long while one is awaited → the source is restarted (with backoff).',
    }),
    maxRestarts: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Restarts before the camera is marked failed. Default unlimited.' }),
    ),
    model: Type.Optional(
      Type.Object(ModelConfigSchema.properties, {
        ...strict,
        // Read by the reference generator: documented once, under `model`.
        sameAs: 'model',
        description: 'Per-camera model instead of the top-level `model` (same fields and defaults).',
      }),
    ),
  },
  strict,
);

export const OutboxConfigSchema = Type.Object(
  {
    path: Derived(
      Type.String({
        minLength: 1,
        description:
          'SQLite file. Default: `<dataDir>/outbox.sqlite`. Relative paths are resolved against the config file directory.',
      }),
    ),
    maxRows: Type.Integer({
      minimum: 100,
      default: 2_000_000,
      description: 'Bound on stored rows, frames plus detections; past it the oldest frames are evicted and counted.',
    }),
    maxBytes: Type.Integer({
      minimum: 65_536,
      default: 512 * 1024 * 1024,
      description:
        'Bound on the accounted row size in bytes (the file ends up about 0.9x this, plus up to 16 MiB of WAL); past it the oldest frames are evicted and counted.',
    }),
    synchronous: literals(['normal', 'full'] as const, {
      default: 'normal',
      description:
        '`normal`: durable across process crashes, no fsync per frame (rows are fsynced before they are sent). `full`: fsync every commit, survives power loss.',
    }),
  },
  { ...strict, default: {}, description: 'Durable store-and-forward queue of detections (SQLite, WAL).' },
);

export const MetricsConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Serve /metrics and /healthz.' }),
    host: Type.String({
      minLength: 1,
      default: '127.0.0.1',
      description: 'Listen address; keep it on loopback unless a scraper on the network needs it.',
    }),
    port: Type.Integer({
      minimum: 0,
      maximum: 65_535,
      default: 9464,
      description: 'Listen port (0 picks a free one).',
    }),
  },
  { ...strict, default: {}, description: 'Local Prometheus and health endpoint.' },
);

export const LogConfigSchema = Type.Object(
  {
    level: literals(LOG_LEVELS, { default: 'info', description: 'Lowest level written to the journal.' }),
  },
  { ...strict, default: {}, description: 'Structured JSON logs on stderr (the journal).' },
);

export const SyncConfigSchema = Type.Object(
  {
    url: Type.String({
      pattern: '^(mqtts?|tcp|ssl|wss?)://[^/]',
      description:
        'MQTT broker of the control plane: `mqtt://host:1883`, `mqtts://host:8883` (TLS), `ws://` or `wss://`. Put credentials in `username`/`password`, not in the URL.',
    }),
    username: Type.Optional(
      Type.String({ minLength: 1, description: "MQTT user name (the device's broker credential). Default: none." }),
    ),
    password: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'MQTT password; never logged. Prefer `EDGE_AGENT_SYNC__PASSWORD` or `passwordFile` over the config file.',
      }),
    ),
    passwordFile: Type.Optional(
      Type.String({
        pattern: '^/',
        description:
          'Absolute path of a file holding the MQTT password (e.g. a systemd `LoadCredential=`); trailing newline ignored.',
      }),
    ),
    clientId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'MQTT client id. Default: `edge-<deviceId>`.' }),
    ),
    topicPrefix: Type.String({
      pattern: '^[^+#$/][^+#]*[^+#/]$',
      default: 'fleet/v1',
      description: 'Topic prefix; the agent publishes `<prefix>/<deviceId>/detections|status|metrics`.',
    }),
    protocol: literals(['auto', 'mqtt5', 'mqtt311'] as const, {
      default: 'auto',
      description:
        '`auto`: MQTT 5, falling back to 3.1.1 when the broker refuses it (the embedded aedes broker speaks 3.1.1).',
    }),
    batchMaxFrames: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 1000,
      description: 'Frames per detection batch at most.',
    }),
    batchMaxBytes: Type.Integer({
      minimum: 1024,
      maximum: 1_048_576,
      default: 262_144,
      description:
        'Encoded size of a detection batch at most (about 50 bytes per detection); the wire contract allows 1 MiB.',
    }),
    inFlightWindow: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 8,
      description: 'Detection batches published and not yet acknowledged (PUBACK), at most.',
    }),
    pollIntervalMs: Type.Integer({
      minimum: 1,
      maximum: 60_000,
      default: 50,
      description:
        'How often an idle sync worker looks for new rows (each send of new rows costs one outbox checkpoint, an fsync).',
    }),
    reconnectMinMs: Type.Integer({
      minimum: 1,
      maximum: 3_600_000,
      default: 500,
      description: 'First reconnect delay; doubles per failed attempt (±20 % jitter).',
    }),
    reconnectMaxMs: Type.Integer({
      minimum: 1,
      maximum: 3_600_000,
      default: 30_000,
      description: 'Longest reconnect delay.',
    }),
    keepaliveSeconds: Type.Integer({
      minimum: 0,
      maximum: 65_535,
      default: 30,
      description: 'MQTT keepalive; a dead connection is noticed after about 1.5x this.',
    }),
    connectTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 10_000,
      description: 'Time allowed for the TCP/TLS connect and CONNACK.',
    }),
    statusIntervalMs: Type.Integer({
      minimum: 0,
      maximum: 86_400_000,
      default: 30_000,
      description: 'Retained online status is re-published this often (0: on connect only).',
    }),
    metricsIntervalMs: Type.Integer({
      minimum: 0,
      maximum: 86_400_000,
      default: 10_000,
      description: 'Device metrics are published this often (0: never).',
    }),
    drainTimeoutMs: Type.Integer({
      minimum: 0,
      maximum: 600_000,
      default: 2000,
      description:
        'On shutdown, time to wait for batches in flight to be acknowledged (unacknowledged rows stay in the outbox and are sent after the restart).',
    }),
    tlsCaFile: Type.Optional(
      Type.String({
        pattern: '^/',
        description: 'Absolute path of the PEM CA bundle for `mqtts://`/`wss://`. Default: the system store.',
      }),
    ),
    tlsCertFile: Type.Optional(
      Type.String({
        pattern: '^/',
        description: 'Absolute path of the PEM client certificate (brokers that authenticate devices by certificate).',
      }),
    ),
    tlsKeyFile: Type.Optional(Type.String({ pattern: '^/', description: 'Absolute path of the PEM client key.' })),
    tlsRejectUnauthorized: Type.Boolean({
      default: true,
      description: 'Verify the broker certificate; turn off only for tests.',
    }),
  },
  {
    ...strict,
    description:
      'Store-and-forward sync of the outbox to the control plane over MQTT (QoS 1). Absent: detections stay in the outbox.',
  },
);

/** Rollback budgets used where an assignment's `policy` field is 0 (field names as in fleet.v1 RollbackPolicy). */
export const RollbackDefaultsSchema = Type.Object(
  {
    maxErrorRate: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.1,
      description:
        'Inference errors per frame above which an activated model is rolled back, over its last `errorWindowFrames` frames.',
    }),
    errorWindowFrames: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 100,
      description: 'Frames of one model the error rate is measured over.',
    }),
    p95LatencyBudgetMs: Type.Number({
      minimum: 0,
      maximum: 600_000,
      default: 0,
      description:
        'p95 of inference time (ms) above which an activated model is rolled back, over its last `latencyWindowFrames` frames; 0: no latency budget.',
    }),
    latencyWindowFrames: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 100,
      description: 'Frames of one model the p95 is measured over (judged once the window is full).',
    }),
    crashLoopRestarts: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 3,
      description:
        'Agent restarts (without a clean stop) within `crashLoopWindowS` after an activation that count as a crash loop: the agent then boots on the previous model.',
    }),
    crashLoopWindowS: Type.Integer({
      minimum: 1,
      maximum: 604_800,
      default: 300,
      description:
        'Seconds after an activation during which restarts count; an activation that survives them is stable.',
    }),
  },
  {
    ...strict,
    default: {},
    description: "Automatic rollback defaults, used where the assignment's policy leaves a field 0.",
  },
);

/** `host:port`, `[v6]:port`. */
export const CONTROL_URL_PATTERN = '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._-]+):[0-9]{1,5}$';

export const ControlConfigSchema = Type.Object(
  {
    url: Type.String({
      pattern: CONTROL_URL_PATTERN,
      description: 'gRPC address of the control plane, `host:port` (e.g. `fleet.example.com:7443`).',
    }),
    insecure: Type.Boolean({
      default: false,
      description:
        'Plain-text gRPC (tests, a local fleet on loopback). Default: TLS, verified against `tlsCaFile` or the system store.',
    }),
    tlsCaFile: Type.Optional(
      Type.String({
        pattern: '^/',
        description:
          "Absolute path of the PEM CA bundle that signs the control plane's certificate. Default: the system store.",
      }),
    ),
    tlsCertFile: Type.Optional(
      Type.String({
        pattern: '^/',
        description:
          'Absolute path of the PEM client certificate (mTLS; its subject CN is the device id). Needs `tlsKeyFile`.',
      }),
    ),
    tlsKeyFile: Type.Optional(
      Type.String({ pattern: '^/', description: 'Absolute path of the PEM client key (mTLS).' }),
    ),
    tlsServerName: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        description: 'Name expected in the server certificate instead of the host in `url`.',
      }),
    ),
    username: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Device credential user (sent as HTTP Basic in the gRPC metadata). Default: `sync.username`, else the device id.',
      }),
    ),
    password: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Device credential password; never logged. Default: `sync.password`/`sync.passwordFile`.',
      }),
    ),
    passwordFile: Type.Optional(
      Type.String({
        pattern: '^/',
        description:
          'Absolute path of a file holding the password (trailing newline ignored). Default: `sync.passwordFile`.',
      }),
    ),
    publicKey: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Pinned model-signing key: base64 of the raw 32-byte ed25519 public key. Exactly one of `publicKey` and `publicKeyFile` is required.',
      }),
    ),
    publicKeyFile: Type.Optional(
      Type.String({
        pattern: '^/',
        description: 'Absolute path of the pinned ed25519 public key: PEM (SPKI) or the raw 32 bytes.',
      }),
    ),
    keepVersions: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 3,
      description:
        'Model artifacts kept in `<dataDir>/models` (newest first); one in use, assigned or the previous primary of a camera is never deleted.',
    }),
    reconnectMinMs: Type.Integer({
      minimum: 1,
      maximum: 3_600_000,
      default: 500,
      description:
        'First reconnect delay of the assignment stream and retried reports; doubles per failed attempt (±20 % jitter).',
    }),
    reconnectMaxMs: Type.Integer({
      minimum: 1,
      maximum: 3_600_000,
      default: 30_000,
      description: 'Longest reconnect delay.',
    }),
    callTimeoutMs: Type.Integer({
      minimum: 100,
      maximum: 600_000,
      default: 10_000,
      description: 'Deadline of one status report, and the longest silence of a download stream.',
    }),
    downloadChunkBytes: Type.Integer({
      minimum: 4096,
      maximum: 1_048_576,
      default: 262_144,
      description: 'Chunk size asked for when downloading a model.',
    }),
    warmupRuns: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 3,
      description: 'Detections on a synthetic grey frame before a new model serves (the first is the slow one).',
    }),
    rollback: RollbackDefaultsSchema,
  },
  {
    ...strict,
    description:
      'Model rollout from the control plane over gRPC: assignments pushed to the agent, signed artifacts downloaded into `<dataDir>/models`, per-camera A/B and automatic rollback. Absent: every camera runs its configured model.',
  },
);

export const AgentConfigSchema = Type.Object(
  {
    deviceId: Type.String({
      pattern: '^[A-Za-z0-9._-]+$',
      maxLength: 128,
      description: "This device's id, as registered with the control plane; written into every outbox row.",
    }),
    dataDir: Type.String({
      minLength: 1,
      default: '/var/lib/edge-agent',
      description:
        "State directory (outbox, engine cache); systemd's StateDirectory. Relative paths are resolved against the config file directory.",
    }),
    model: ModelConfigSchema,
    cameras: Type.Array(CameraConfigSchema, { minItems: 1, description: 'Cameras; ids must be unique.' }),
    outbox: OutboxConfigSchema,
    sync: Type.Optional(SyncConfigSchema),
    control: Type.Optional(ControlConfigSchema),
    metrics: MetricsConfigSchema,
    log: LogConfigSchema,
  },
  strict,
);

/** The validated, defaulted, resolved and frozen configuration (derived defaults such as `model.id` filled). */
export type AgentConfig = Resolved<typeof AgentConfigSchema>;
export type ModelConfig = AgentConfig['model'];
export type CameraConfig = AgentConfig['cameras'][number];
export type OutboxConfig = AgentConfig['outbox'];
export type SyncConfig = NonNullable<AgentConfig['sync']>;
export type MetricsConfig = AgentConfig['metrics'];
export type ControlConfig = NonNullable<AgentConfig['control']>;
export type RollbackDefaults = ControlConfig['rollback'];

/** For generic walkers (env overrides, reference docs). */
export type AnySchema = TSchema;
