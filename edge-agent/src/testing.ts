/**
 * Internals of @edgefleet/edge-agent that cross-package tests (test/) and benchmarks (bench/) drive directly.
 * Not part of the package's public surface (src/index.ts); production code does not import this entry.
 */
export { decodeStillImage } from './capture/still-image.js';
export { ControlClient } from './control/control-client.js';
export type { OutboxFrame } from './outbox/outbox.js';
export { SqliteOutbox } from './outbox/sqlite-outbox.js';
export { MqttSyncWorker } from './sync/mqtt-sync-worker.js';
export { DEFAULT_SYNC_OPTIONS } from './sync/sync-options.js';
export { imageStatistics } from './metrics/image-statistics.js';
