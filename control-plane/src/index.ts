/**
 * Public API of the control plane package.
 */

export { CP_ERRORS, CpError, describeError, isCpError, type CpErrorCode } from './errors.js';
export {
  averagePrecision,
  boxIou,
  cocoMap,
  IOU_THRESHOLDS,
  matchDetections,
  RECALL_THRESHOLDS,
  type ClassMetrics,
  type CocoMapOptions,
  type CocoMapResult,
  type EvalBox,
  type EvalGroundTruth,
  type EvalImage,
  type EvalPrediction,
} from './evaluation/coco-map.js';
export { parseDataYaml, type YamlValue } from './evaluation/data-yaml.js';
export {
  IMAGE_EXTENSIONS,
  labelPathFor,
  loadSplit,
  parseLabelFile,
  readYoloDataset,
  type DatasetSplit,
  type LabelledImage,
  type YoloDataset,
  type YoloLabel,
} from './evaluation/yolo-dataset.js';
export { mapClasses, type ClassMapping } from './evaluation/class-mapping.js';
export { checkImageFormat, loadImage } from './evaluation/load-image.js';
export {
  evaluateModel,
  type ClassEvaluation,
  type EvaluateModelOptions,
  type EvaluationResult,
} from './evaluation/evaluate-model.js';
export { main, USAGE } from './cli/main.js';
export type { CliIo } from './cli/cli-io.js';
export { ApiClient, type ApiClientOptions } from './cli/api-client.js';

// Configuration
export {
  ControlPlaneConfigSchema,
  type ControlPlaneConfig,
  type ControlPlaneConfigInput,
  type HttpConfig,
  type IngestConfig,
  type MqttConfig,
  type RetentionConfig,
  type AuthConfig,
  type GrpcConfig,
} from './config/control-plane-config-schema.js';
export {
  loadControlPlaneConfig,
  parseControlPlaneConfig,
  type ParseConfigOptions,
} from './config/load-control-plane-config.js';
export { redactUrl } from './config/redact-url.js';
export { configReference } from './config/config-reference.js';

// Storage
export type {
  CountFilter,
  DetectionRow,
  DeviceMetricsUpdate,
  DeviceRecord,
  DeviceStatusUpdate,
  FrameRow,
  InsertResult,
  PartitionInfo,
  Store,
} from './storage/store.js';
export { SqlStore } from './storage/sql-store.js';
export type {
  AgentInfo,
  AssignmentAction,
  AssignmentHistoryRow,
  AssignmentHistoryWrite,
  AssignmentRow,
  AssignmentWrite,
  AuditFilter,
  AuditInput,
  AuditRecord,
  CameraRecord,
  CameraUpdate,
  HistoryFingerprint,
  ModelListFilter,
  ModelRecord,
  ModelStatusRow,
  ModelStatusWrite,
  NewModel,
  RegistryQueries,
  RegistryStore,
} from './storage/registry-store.js';
export { ASSIGNMENT_ACTIONS } from './storage/registry-store.js';
export { SqlRegistryStore } from './storage/sql-registry-store.js';
export type { SqlExecutor, SqlQueryable, SqlResult } from './storage/sql-executor.js';
export { createPgStore, type PgStoreOptions } from './storage/pg-store.js';
export { createPgliteExecutor, createPgliteStore, type PgliteStoreOptions } from './storage/pglite-store.js';
export { openStore, type OpenedStore, type OpenStoreOptions } from './storage/open-store.js';
export { MIGRATIONS, SCHEMA_VERSION, type Migration } from './storage/migrations.js';
export { addDays, dayOf, partitionName } from './storage/day-partitions.js';
export { isDataError, sqlStateOf } from './storage/storage-errors.js';

// Artifacts
export type { ArtifactStore, ByteSource, OpenOptions, PutOptions, StoredArtifact } from './artifacts/artifact-store.js';
export { EncodedChunkCache, type CachedArtifact } from './grpc/encoded-chunk-cache.js';
export { FileArtifactStore } from './artifacts/file-artifact-store.js';
export { writeHashed } from './artifacts/hashed-write.js';

// Broker
export {
  EmbeddedBroker,
  type EmbeddedBrokerDeps,
  type EmbeddedBrokerOptions,
  type PublishGate,
} from './broker/embedded-broker.js';
export {
  DeviceCredentials,
  generatePassword,
  hashPassword,
  hashPasswordScrypt,
  verifyPassword,
  type EnrolledDevice,
} from './broker/device-credentials.js';
export { TopicAuthorizer, type AuthResult, type Principal, type TopicAuthorizerDeps } from './broker/authorizer.js';

// Ingest
export {
  IngestStats,
  MESSAGE_KINDS,
  REJECT_REASONS,
  type IngestStatsSnapshot,
  type MessageKind,
  type RejectReason,
} from './ingest/ingest-stats.js';
export { BatchWriter, type BatchWriterOptions, type WriteOutcome } from './ingest/batch-writer.js';
export { IngestPipeline, type IngestPipelineDeps } from './ingest/ingest-pipeline.js';
export type { HandlerOutcome, MessageHandler } from './ingest/message-handler.js';
export { DetectionsHandler, batchToRows } from './ingest/handlers/detections-handler.js';
export { StatusHandler } from './ingest/handlers/status-handler.js';
export { MetricsHandler } from './ingest/handlers/metrics-handler.js';
export { embeddedIngestGate } from './ingest/embedded-ingest-gate.js';
export { MqttIngestClient, type MqttIngestClientOptions } from './ingest/mqtt-ingest-client.js';

// Registry: signing, uploads, assignments, events
export { ModelSigner, type SignedFields, type SigningKeyInfo } from './signing/model-signer.js';
export { ModelRegistry, type ModelRegistryDeps, type UploadRequest } from './models/model-registry.js';
export { validateOnnxDetector, type ModelFacts, type ModelValidator } from './models/model-validator.js';
export { UploadSpool } from './models/upload-spool.js';
export {
  AssignmentService,
  descriptor,
  MAX_PREVIOUS_PRIMARIES,
  type AssignmentServiceDeps,
  type AssignmentView,
  type AssignSpec,
  type ModelRef,
} from './assignments/assignment-service.js';
export { AssignmentResync, type AssignmentResyncDeps } from './assignments/assignment-resync.js';
export { EventBus, type AssignmentChanged, type ControlPlaneEvents } from './events/event-bus.js';
export {
  createRegistryServices,
  type RegistryServices,
  type RegistryServicesOptions,
} from './server/registry-services.js';

// Auth
export {
  API_ROLES,
  generateApiToken,
  hashApiToken,
  matchApiToken,
  type ApiRole,
  type ApiTokenEntry,
  type ApiPrincipal,
} from './auth/api-token.js';
export { loadOrCreateBootstrapToken } from './auth/bootstrap-token.js';

// gRPC
export { FleetControlServer, type FleetControlServerOptions, type GrpcSecurity } from './grpc/grpc-server.js';
export {
  DeviceAuthenticator,
  type CallIdentity,
  type DeviceAuthenticatorOptions,
} from './grpc/device-authenticator.js';
export { WatchRegistry } from './grpc/watch-registry.js';
export { toGrpcStatus } from './grpc/grpc-status.js';
export { chunkSizeFor, MIN_CHUNK_BYTES } from './grpc/handlers/download-model.js';
export { inPlaceResponse, type InPlaceResponse } from './grpc/in-place-response.js';

// REST API and composition
export { buildHttpApp, type HttpAppOptions } from './api/http-app.js';
export type { ApiContext, RouteAccess } from './api/api-context.js';
export { ControlPlane, type ControlPlaneDeps, type ControlPlaneInfo } from './server/control-plane.js';
export { PartitionMaintainer } from './server/partition-maintainer.js';
export { createLogger, silentLogger, type Logger, type LogLevel } from './server/logger.js';
export { startCommand, START_USAGE } from './cli/start-command.js';
