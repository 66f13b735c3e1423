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
 * `grpc`: DownloadModel by the agent's ControlClient (its channel options). `raw`: the loopback TCP
 * baseline. `http2`: the same bytes as the body of a bare cleartext HTTP/2 response (one session reused,
 * as a channel is; 8 MiB receive windows, as the ControlClient sets them): the ceiling of Node's HTTP/2.
 */
export type DownloadVia = 'grpc' | 'http2' | 'raw';

/** The receive windows (session and stream) of the `http2` path's client: the ControlClient's. */
export const HTTP2_WINDOW_BYTES = 8 * 1024 * 1024;

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
   * from a raw TCP server at `rawPort` that writes the bytes and closes, or from a bare HTTP/2 server at
   * `http2Port` (see DownloadVia). Bytes are counted.
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
      readonly http2Port: number;
      readonly verify: boolean;
    }
  | { readonly type: 'stop' };

export type FromAgents =
  | { readonly type: 'connecting'; readonly watching: number; readonly total: number }
  /** Every device has its first snapshot: its watch is open and the control plane knows its camera. */
  | { readonly type: 'ready'; readonly connectMs: number }
  | { readonly type: 'acks'; readonly acks: readonly AckRecord[] }
  /** `cpuMs`: CPU time (user + system) of this process during the downloads. */
  | {
      readonly type: 'downloaded';
      readonly id: number;
      readonly bytes: number;
      readonly ms: number;
      readonly cpuMs: number;
      readonly digests: readonly string[];
    }
  /** Anything that makes the run invalid: a watch that ended, a report that failed, a download error. */
  | { readonly type: 'failure'; readonly message: string }
  | { readonly type: 'stopped' };

/** The device credential for gRPC metadata: `authorization: Basic base64(<device>:<password>)`. */
export function basicAuthorization(deviceId: string, password: string): string {
  return `Basic ${Buffer.from(`${deviceId}:${password}`).toString('base64')}`;
}
