import { DEVICE_ID_PATTERN, isDeviceId } from './ids.js';
import { ProtoError } from './proto-error.js';
import { render } from './uint64.js';

/**
 * MQTT topic layout of fleet.v1 (README "Topics"):
 *
 *   {prefix}/{device}/detections   DetectionBatch  QoS 1, not retained   device → control plane
 *   {prefix}/{device}/status       DeviceStatus    QoS 1, retained, last will (online = false)
 *   {prefix}/{device}/metrics      DeviceMetrics   QoS 0, not retained
 *
 * `prefix` is `fleet/v1` unless a deployment (or a test run sharing a broker) chooses its own; the version
 * is part of it, so fleet.v2 would live beside v1 on the same broker.
 */

export const DEFAULT_TOPIC_PREFIX = 'fleet/v1';

export const TOPIC_KINDS = ['detections', 'status', 'metrics'] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

const KIND_SET: ReadonlySet<string> = new Set(TOPIC_KINDS);

export interface ParsedTopic {
  readonly deviceId: string;
  readonly kind: TopicKind;
}

/** Topic levels that are safe to publish to: no wildcards, no empty level, no `$` system prefix. */
function checkPrefix(prefix: string): void {
  const levels = typeof prefix === 'string' ? prefix.split('/') : [];
  // biome-ignore lint/suspicious/noControlCharactersInRegex: MQTT topics must not contain U+0000 [MQTT-4.7.3-2]
  if (levels.length === 0 || levels.some((l) => l === '' || /[+#\u0000]/.test(l)) || prefix.startsWith('$')) {
    throw new ProtoError(
      'PROTO_ERR_INVALID',
      `topic prefix must be non-empty levels without wildcards or a leading $, got ${render(prefix)}`,
      {
        field: 'topic',
      },
    );
  }
}

function checkDevice(deviceId: string): void {
  if (!isDeviceId(deviceId)) {
    throw new ProtoError(
      'PROTO_ERR_INVALID',
      `device id must match ${String(DEVICE_ID_PATTERN)}, got ${render(deviceId)}`,
      { field: 'topic' },
    );
  }
}

/** `{prefix}/{device}/{kind}`; PROTO_ERR_INVALID for a bad device id or prefix. */
export function deviceTopic(deviceId: string, kind: TopicKind, prefix: string = DEFAULT_TOPIC_PREFIX): string {
  checkPrefix(prefix);
  checkDevice(deviceId);
  if (!KIND_SET.has(kind))
    throw new ProtoError('PROTO_ERR_INVALID', `unknown topic kind ${render(kind)}`, { field: 'topic' });
  return `${prefix}/${deviceId}/${kind}`;
}

export const detectionsTopic = (deviceId: string, prefix?: string): string =>
  deviceTopic(deviceId, 'detections', prefix);
export const statusTopic = (deviceId: string, prefix?: string): string => deviceTopic(deviceId, 'status', prefix);
export const metricsTopic = (deviceId: string, prefix?: string): string => deviceTopic(deviceId, 'metrics', prefix);

/**
 * The device and kind of a fleet topic, or null when the topic is not one (other prefix, unknown kind,
 * extra levels, invalid device id). Never throws on any string.
 */
export function parseTopic(topic: string, prefix: string = DEFAULT_TOPIC_PREFIX): ParsedTopic | null {
  if (typeof topic !== 'string' || !topic.startsWith(`${prefix}/`)) return null;
  const rest = topic.slice(prefix.length + 1).split('/');
  if (rest.length !== 2) return null;
  const [deviceId, kind] = rest as [string, string];
  if (!isDeviceId(deviceId) || !KIND_SET.has(kind)) return null;
  return { deviceId, kind: kind as TopicKind };
}

/** `{prefix}/+/{kind}`: every device's topic of one kind. */
export function kindFilter(kind: TopicKind, prefix: string = DEFAULT_TOPIC_PREFIX): string {
  checkPrefix(prefix);
  if (!KIND_SET.has(kind))
    throw new ProtoError('PROTO_ERR_INVALID', `unknown topic kind ${render(kind)}`, { field: 'topic' });
  return `${prefix}/+/${kind}`;
}

/**
 * MQTT 5 shared subscription `$share/{group}/{prefix}/+/{kind}` [MQTT-4.8.2]: the broker hands each
 * message to one member of the group, so ingest replicas split the load. Ordering between batches is then
 * not preserved across replicas; the ingest's idempotent key (device, camera, seq) makes that harmless.
 */
export function sharedSubscription(
  group: string,
  kind: TopicKind = 'detections',
  prefix: string = DEFAULT_TOPIC_PREFIX,
): string {
  // [MQTT-4.8.2-2] ShareName must not contain '/', '+' or '#'.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: MQTT topics must not contain U+0000 [MQTT-4.7.3-2]
  if (typeof group !== 'string' || !/^[^/+#\u0000]+$/.test(group)) {
    throw new ProtoError(
      'PROTO_ERR_INVALID',
      `shared subscription group must be non-empty without '/', '+' or '#', got ${render(group)}`,
      {
        field: 'topic',
      },
    );
  }
  return `$share/${group}/${kindFilter(kind, prefix)}`;
}

/** `{prefix}/{device}/`: the only topic space a device may publish under (the broker's ACL). */
export function deviceTopicRoot(deviceId: string, prefix: string = DEFAULT_TOPIC_PREFIX): string {
  checkPrefix(prefix);
  checkDevice(deviceId);
  return `${prefix}/${deviceId}/`;
}
