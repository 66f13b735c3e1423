/**
 * Public API of the edge agent package (used by cross-package tests, benchmarks and the control plane's
 * local-fleet runner). The CLI lives in bin/edge-agent.js.
 */
export { Agent, type AgentDeps, type AgentStatus } from './agent/agent.js';
export { CameraWorker, type FrameObserver } from './agent/camera-worker.js';
export { loadConfig, parseConfig } from './config/load-config.js';
export type { AgentConfig, CameraConfig, ModelConfig } from './config/agent-config-schema.js';
export { configReferenceMarkdown } from './config/config-reference.js';
export { SqliteOutbox, type SqliteOutboxOptions } from './outbox/sqlite-outbox.js';
export type { Outbox, OutboxFrame, OutboxDetection, StoredFrame, StoredDetection, OutboxStats } from './outbox/outbox.js';
export type { FrameSource, CameraStatus, CapturedFrame, CameraState } from './capture/frame-source.js';
export { createFrameSource } from './capture/create-frame-source.js';
export { decodeStillImage } from './capture/still-image.js';
export { createLogger, silentLogger, type Logger } from './log/logger.js';
export { EDGE_ERRORS, EdgeError, describeError, type EdgeErrorCode } from './errors.js';
export { main } from './cli/main.js';
export { MqttSyncWorker, type SyncStats } from './sync/mqtt-sync-worker.js';
export { createSyncWorker } from './sync/create-sync-worker.js';
export { DEFAULT_SYNC_OPTIONS, type MqttSyncSettings } from './sync/sync-options.js';
