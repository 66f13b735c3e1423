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
export type {
  Outbox,
  OutboxFrame,
  OutboxDetection,
  StoredFrame,
  StoredDetection,
  OutboxStats,
} from './outbox/outbox.js';
export type { FrameSource, CameraStatus, CapturedFrame, CameraState } from './capture/frame-source.js';
export { createFrameSource } from './capture/create-frame-source.js';
export { decodeStillImage } from './capture/still-image.js';
export { createLogger, silentLogger, type Logger } from './log/logger.js';
export { EDGE_ERRORS, EdgeError, describeError, type EdgeErrorCode } from './errors.js';
export { main } from './cli/main.js';
export { MqttSyncWorker, type SyncStats } from './sync/mqtt-sync-worker.js';
export { createSyncWorker } from './sync/create-sync-worker.js';
export { DEFAULT_SYNC_OPTIONS, type MqttSyncSettings } from './sync/sync-options.js';
export type { ControlConfig, RollbackDefaults } from './config/agent-config-schema.js';
export { ControlClient, type ControlClientDeps, type ControlStats } from './control/control-client.js';
export { controlSettings, type ControlSettings } from './control/control-settings.js';
export { pinnedKeyFromBase64, pinnedKeyFromRaw, readPinnedKeyFile, type PinnedKey } from './control/pinned-key.js';
export { StatusReporter, type StatusReporterStats } from './control/status-reporter.js';
export { redactSourceUri, watchRequest } from './control/watch-request.js';
export { ModelRejectedError, verifyArtifact, type RejectionKind } from './models/artifact-verifier.js';
export type { ActiveModel, CameraRouting, ModelIdentity } from './models/camera-models.js';
export { ModelManager, type ModelObserver, type RollbackKind } from './models/model-manager.js';
export { ModelStore, type ArtifactSource } from './models/model-store.js';
export { SplitSequence } from './models/split-sequence.js';
