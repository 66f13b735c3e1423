import { DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_TOPIC_PREFIX, MAX_BATCH_FRAMES } from '@edgefleet/proto';
import { redactUrl } from '@edgefleet/service-kit';

/**
 * `auto` tries MQTT 5 and falls back to 3.1.1 when the broker refuses the protocol version (the embedded
 * aedes broker speaks 3.1.1 only); the choice is kept for later reconnects.
 */
export type SyncProtocol = 'auto' | 'mqtt5' | 'mqtt311';

export interface SyncTlsOptions {
  /** PEM CA bundle that signs the broker's certificate (default: the system store). */
  readonly ca?: Buffer;
  /** PEM client certificate and key, for brokers that authenticate devices by certificate. */
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly rejectUnauthorized: boolean;
}

export interface MqttSyncOptions {
  /** `mqtt://host:1883`, `mqtts://host:8883`, `ws://…`, `wss://…`. */
  readonly url: string;
  readonly clientId: string;
  readonly username?: string;
  /** Never logged. */
  readonly password?: string;
  readonly protocol: SyncProtocol;
  readonly topicPrefix: string;
  readonly keepaliveSeconds: number;
  readonly connectTimeoutMs: number;
  /** Frames per DetectionBatch at most. */
  readonly batchMaxFrames: number;
  /** Encoded DetectionBatch size at most (header included); <= the contract's 1 MiB. */
  readonly batchMaxBytes: number;
  /** Detection batches published and not yet acknowledged, at most. */
  readonly inFlightWindow: number;
  /** How often an idle worker looks for new rows. */
  readonly pollIntervalMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  /** Retained online status is re-published this often (0: only on connect). */
  readonly statusIntervalMs: number;
  /** DeviceMetrics (QoS 0) every this often (0: never). */
  readonly metricsIntervalMs: number;
  /** On stop, how long to wait for batches in flight to be acknowledged before disconnecting. */
  readonly drainTimeoutMs: number;
  readonly tls?: SyncTlsOptions;
}

export type MqttSyncSettings = Pick<MqttSyncOptions, 'url'> & Partial<MqttSyncOptions>;

export const DEFAULT_SYNC_OPTIONS = {
  protocol: 'auto',
  topicPrefix: DEFAULT_TOPIC_PREFIX,
  keepaliveSeconds: 30,
  connectTimeoutMs: 10_000,
  batchMaxFrames: 1000,
  batchMaxBytes: 256 * 1024,
  inFlightWindow: 8,
  pollIntervalMs: 50,
  reconnectMinMs: 500,
  reconnectMaxMs: 30_000,
  statusIntervalMs: 30_000,
  metricsIntervalMs: 10_000,
  drainTimeoutMs: 2000,
} as const satisfies Partial<MqttSyncOptions>;

/** Fills defaults and checks ranges; throws RangeError naming every bad option. */
export function resolveSyncOptions(settings: MqttSyncSettings, deviceId: string): MqttSyncOptions {
  const o: MqttSyncOptions = {
    ...DEFAULT_SYNC_OPTIONS,
    clientId: `edge-${deviceId}`,
    ...stripUndefined(settings),
    url: settings.url,
  };
  const problems: string[] = [];
  const int = (name: keyof MqttSyncOptions, min: number, max: number) => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      problems.push(`${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  };
  if (typeof o.url !== 'string' || !/^(mqtts?|tcp|ssl|wss?):\/\/[^/]/.test(o.url))
    problems.push(
      `url must be mqtt://, mqtts://, tcp://, ssl://, ws:// or wss://, got ${JSON.stringify(redactUrl(String(o.url), { hideUser: true }))}`,
    );
  if (typeof o.clientId !== 'string' || o.clientId.length === 0 || o.clientId.length > 128)
    problems.push('clientId must be 1..128 characters');
  if (!['auto', 'mqtt5', 'mqtt311'].includes(o.protocol))
    problems.push(`protocol must be auto, mqtt5 or mqtt311, got ${String(o.protocol)}`);
  int('keepaliveSeconds', 0, 65_535);
  int('connectTimeoutMs', 100, 600_000);
  int('batchMaxFrames', 1, MAX_BATCH_FRAMES);
  int('batchMaxBytes', 1024, DEFAULT_MAX_PAYLOAD_BYTES);
  int('inFlightWindow', 1, 1000);
  int('pollIntervalMs', 1, 60_000);
  int('reconnectMinMs', 1, 3_600_000);
  int('reconnectMaxMs', 1, 3_600_000);
  int('statusIntervalMs', 0, 86_400_000);
  int('metricsIntervalMs', 0, 86_400_000);
  int('drainTimeoutMs', 0, 600_000);
  if (o.reconnectMaxMs < o.reconnectMinMs)
    problems.push(`reconnectMaxMs (${o.reconnectMaxMs}) must be >= reconnectMinMs (${o.reconnectMinMs})`);
  if (problems.length > 0) throw new RangeError(`invalid sync options: ${problems.join('; ')}`);
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
