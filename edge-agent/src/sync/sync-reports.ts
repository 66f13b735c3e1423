import type { DeviceMetrics, DeviceStatus } from '@edgefleet/proto';

/** Fields of DeviceStatus the agent supplies; the worker fills the device, sync and outbox fields. */
export type StatusReport = Partial<
  Pick<DeviceStatus, 'agentVersion' | 'startedAtMs' | 'cameras' | 'hardware' | 'providers'>
>;
/** Fields of DeviceMetrics the agent supplies. */
export type MetricsReport = Partial<Pick<DeviceMetrics, 'cameras'>>;

/** What the agent adds to the status and metrics messages the sync worker publishes. */
export interface DeviceReports {
  status?(): StatusReport;
  metrics?(): MetricsReport;
}

/** Optional hooks, e.g. for Prometheus. Called synchronously; they must not throw. */
export interface SyncObserver {
  batchAcked?(frames: number, detections: number, roundTripMs: number): void;
  connectionChanged?(connected: boolean): void;
}
