/**
 * Messages between the rollout benchmark (parent) and its simulated-agent process (child, `fork`ed with
 * an IPC channel). Times are `epochMs()` of the process that took them: the same machine clock in both.
 */

export interface SimulatedDevice {
  readonly deviceId: string;
  readonly password: string;
  readonly cameraId: string;
  /** Highest revision of the camera this device has acknowledged before (0: none); not acknowledged again. */
  readonly knownRevision: number;
}

/** One acknowledgement: the `ModelStatusAck` of the `received` report for a new camera revision. */
export interface AckRecord {
  /** Index of the device in the `start` message. */
  readonly device: number;
  readonly revision: number;
  /** When the snapshot carrying the revision arrived. */
  readonly snapshotAt: number;
  /** When the ack of the report came back. */
  readonly ackAt: number;
}

/**
 * `grpc`: the agent's ControlClient (its channel options). `grpc-window`: the same DownloadModel call on a
 * channel that also sets grpc-js' `grpc-node.flow_control_window` (the agent's client leaves HTTP/2's
 * 64 KiB window). `raw`: the loopback TCP baseline.
 */
export type DownloadVia = 'grpc' | 'grpc-window' | 'raw';

/** `grpc-node.flow_control_window` of the `grpc-window` variant. */
export const LARGE_FLOW_CONTROL_WINDOW = 8 * 1024 * 1024;

export type ToAgents =
  /**
   * Open one channel and one watch per device, at most `connectConcurrency` watches waiting for their
   * first snapshot. `downloader`: the device (no cameras) whose ControlClient downloads.
   */
  | {
      readonly type: 'start';
      readonly target: string;
      readonly devices: readonly SimulatedDevice[];
      readonly downloader: SimulatedDevice;
      readonly connectConcurrency: number;
    }
  /**
   * Download `count` times, one after the other, as `downloader`: over gRPC `DownloadModel` (see DownloadVia)
   * or from a raw TCP server at `rawPort` that writes the bytes and closes. Bytes are counted.
   * `verify`: also SHA-256 the bytes and answer the digest of each download (untimed rounds only).
   */
  | {
      readonly type: 'download';
      readonly id: number;
      readonly via: DownloadVia;
      readonly sha256: string;
      readonly sizeBytes: number;
      readonly chunkBytes: number;
      readonly count: number;
      readonly rawPort: number;
      readonly verify: boolean;
    }
  | { readonly type: 'stop' };

export type FromAgents =
  | { readonly type: 'connecting'; readonly watching: number; readonly total: number }
  /** Every device has its first snapshot: its watch is open and the control plane knows its camera. */
  | { readonly type: 'ready'; readonly connectMs: number }
  | { readonly type: 'acks'; readonly acks: readonly AckRecord[] }
  /** `cpuMs`: CPU time (user + system) of this process during the downloads. */
  | { readonly type: 'downloaded'; readonly id: number; readonly bytes: number; readonly ms: number; readonly cpuMs: number; readonly digests: readonly string[] }
  /** Anything that makes the run invalid: a watch that ended, a report that failed, a download error. */
  | { readonly type: 'failure'; readonly message: string }
  | { readonly type: 'stopped' };

/** The device credential for gRPC metadata: `authorization: Basic base64(<device>:<password>)`. */
export function basicAuthorization(deviceId: string, password: string): string {
  return `Basic ${Buffer.from(`${deviceId}:${password}`).toString('base64')}`;
}
