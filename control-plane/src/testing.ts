/**
 * Internals of @edgefleet/control-plane that cross-package tests (test/) and benchmarks (bench/) drive directly.
 * Not part of the package's public surface (src/index.ts); production code does not import this entry.
 */
export { loadImage } from './evaluation/load-image.js';
export type { IngestStatsSnapshot } from './ingest/ingest-stats.js';
export { dayOf } from './storage/day-partitions.js';
export { createPgStore } from './storage/pg-store.js';
export { createPgliteStore } from './storage/pglite-store.js';
export type { DetectionRow, FrameRow, Store } from './storage/store.js';
