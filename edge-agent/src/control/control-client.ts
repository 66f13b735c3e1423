import * as grpc from '@grpc/grpc-js';
import {
  FLEET_CONTROL_CLIENT_DEFINITION,
  type AssignmentSnapshot,
  type ModelChunk,
  type ModelStatusReport,
  type WatchAssignmentsRequest,
} from '@edgefleet/proto';
import { Backoff, type Clock, type Component, ReconnectLoop } from '@edgefleet/service-kit';
import { EdgeError, describeError } from '../errors.js';
import type { Logger } from '@edgefleet/service-kit';
import type { ArtifactSource } from '../models/model-store.js';
import { ArtifactDownloader } from './artifact-downloader.js';
import type { ControlSettings } from './control-settings.js';

export interface ControlClientDeps {
  readonly settings: Pick<
    ControlSettings,
    'url' | 'tls' | 'authorization' | 'reconnectMinMs' | 'reconnectMaxMs' | 'callTimeoutMs' | 'downloadChunkBytes'
  >;
  readonly deviceId: string;
  readonly logger: Logger;
  /** The request of each watch, built when it starts (cameras, providers, the revision known by then). */
  readonly watchRequest: () => WatchAssignmentsRequest;
  /** Each snapshot of the assignment stream; called synchronously, must not throw. */
  readonly onSnapshot: (snapshot: AssignmentSnapshot) => void;
  readonly onConnection?: (watching: boolean) => void;
  /** [0, 1) for the backoff jitter; default Math.random. */
  readonly random?: () => number;
  readonly clock: Clock;
}

export type ControlState = 'stopped' | 'connecting' | 'watching' | 'waiting';

export interface ControlStats {
  readonly state: ControlState;
  readonly url: string;
  /** Watches that received a snapshot. */
  readonly connects: number;
  readonly reconnects: number;
  readonly snapshots: number;
  readonly lastSnapshotAtMs: number | null;
  readonly lastError: string | null;
  readonly lastErrorAtMs: number | null;
}

const methods = FLEET_CONTROL_CLIENT_DEFINITION;

function describeGrpc(err: unknown): string {
  const e = err as Partial<grpc.ServiceError>;
  if (typeof e?.code === 'number') return `${grpc.status[e.code] ?? e.code}: ${e.details ?? e.message ?? ''}`;
  return describeError(err);
}

/**
 * The agent's side of fleet.v1.FleetControl over one gRPC channel:
 * - `WatchAssignments` kept open in the background: the current snapshot arrives first, then one per
 *   change. A lost stream is reopened after exponential backoff with jitter (reconnectMinMs…reconnectMaxMs),
 *   reset once a stream delivered a snapshot. Detection never waits for any of it.
 * - `DownloadModel` streams for the model store (resume from an offset), by the ArtifactDownloader: the
 *   same call spoken over an HTTP/2 session of its own, without grpc-js' per-message copies;
 * - `ReportModelStatus` unary calls for the status reporter.
 * Device authentication: `authorization: Basic …` metadata on every call, and the client certificate under mTLS.
 */
export class ControlClient implements ArtifactSource, Component {
  readonly name = 'control client';
  private client: grpc.Client | null = null;
  private downloader: ArtifactDownloader | null = null;
  private state: ControlState = 'stopped';
  /** Aborted by stop(): ends the watch loop. */
  private watching: AbortController | null = null;
  private running: Promise<void> | null = null;
  private call: grpc.ClientReadableStream<AssignmentSnapshot> | null = null;
  private readonly counters = { connects: 0, reconnects: 0, snapshots: 0 };
  private lastSnapshotAt: number | null = null;
  private lastError: string | null = null;
  private lastErrorAt: number | null = null;

  constructor(private readonly deps: ControlClientDeps) {}

  private get clock(): Clock {
    return this.deps.clock;
  }

  private backoff(): Backoff {
    const { reconnectMinMs, reconnectMaxMs } = this.deps.settings;
    return new Backoff({ initialMs: reconnectMinMs, maxMs: reconnectMaxMs, factor: 2, jitter: 0.2 }, this.deps.random);
  }

  /** Delay before retry number `attempt` (0-based) of anything that failed on the control plane. */
  retryDelay(attempt: number): number {
    return this.backoff().delay(attempt);
  }

  /**
   * Opens the channel and starts watching in the background; resolves at once. The watch runs until
   * stop() (not until `signal` aborts: status reports still go out while the agent shuts down).
   */
  async start(_signal?: AbortSignal): Promise<void> {
    if (this.running) throw new Error('control client already started');
    const { settings } = this.deps;
    const credentials = settings.tls
      ? grpc.credentials.createSsl(settings.tls.ca ?? null, settings.tls.key ?? null, settings.tls.cert ?? null)
      : grpc.credentials.createInsecure();
    const options: grpc.ChannelOptions = {
      // A watch over a dead network path is noticed within about 40 s instead of the TCP timeout.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.max_receive_message_length': 8 * 1024 * 1024,
      // HTTP/2's default 64 KiB receive window stalls a model download every 64 KiB for a round trip; 8 MiB
      // lets the control plane keep sending.
      'grpc-node.flow_control_window': 8 * 1024 * 1024,
      // Channelz (grpc-js' introspection registry, on by default) is read by nobody here; it counts every message.
      'grpc.enable_channelz': 0,
      ...(settings.tls?.serverName
        ? {
            'grpc.ssl_target_name_override': settings.tls.serverName,
            'grpc.default_authority': settings.tls.serverName,
          }
        : {}),
    };
    this.client = new grpc.Client(settings.url, credentials, options);
    this.downloader = new ArtifactDownloader(settings);
    const watching = new AbortController();
    this.watching = watching;
    this.running = this.watchLoop(watching.signal).catch((err: unknown) =>
      this.deps.logger.error('control watch loop failed', { error: describeError(err) }),
    );
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.watching?.abort();
    this.call?.cancel();
    await this.running;
    this.running = null;
    this.client?.close();
    this.client = null;
    this.downloader?.close();
    this.downloader = null;
    this.state = 'stopped';
  }

  stats(): ControlStats {
    return {
      state: this.state,
      url: this.deps.settings.url,
      ...this.counters,
      lastSnapshotAtMs: this.lastSnapshotAt,
      lastError: this.lastError,
      lastErrorAtMs: this.lastErrorAt,
    };
  }

  private metadata(): grpc.Metadata {
    const m = new grpc.Metadata();
    if (this.deps.settings.authorization) m.set('authorization', this.deps.settings.authorization);
    return m;
  }

  private recordError(where: string, err: unknown): void {
    this.lastError = `${where}: ${describeGrpc(err)}`;
    this.lastErrorAt = this.clock.now();
  }

  // ---- WatchAssignments -------------------------------------------------------------------------

  private async watchLoop(signal: AbortSignal): Promise<void> {
    const loop = new ReconnectLoop({
      backoff: this.backoff(),
      attempt: async () => ({ healthy: await this.watchOnce(signal) }),
      onConnecting: () => {
        this.state = 'connecting';
      },
      onWaiting: ({ delayMs, attempt }) => {
        this.state = 'waiting';
        this.deps.logger.info('control plane watch reconnecting', {
          url: this.deps.settings.url,
          inMs: delayMs,
          attempt,
          lastError: this.lastError,
        });
      },
      onReconnect: () => {
        this.counters.reconnects++;
      },
    });
    await loop.run(signal);
    this.state = 'stopped';
  }

  /** One watch, until the stream ends; resolves whether it delivered any snapshot. Never rejects. */
  private watchOnce(stopping: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      let delivered = false;
      let request: WatchAssignmentsRequest;
      try {
        request = this.deps.watchRequest();
      } catch (err) {
        this.recordError('watch request', err);
        resolve(false);
        return;
      }
      const m = methods.watchAssignments;
      const call = (this.client as grpc.Client).makeServerStreamRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        request,
        this.metadata(),
      );
      this.call = call;
      call.on('data', (snapshot: AssignmentSnapshot) => {
        if (snapshot.deviceId !== this.deps.deviceId) {
          this.recordError('watch', new Error(`snapshot for device ${snapshot.deviceId}, not ${this.deps.deviceId}`));
          call.cancel();
          return;
        }
        if (!delivered) {
          delivered = true;
          this.counters.connects++;
          this.state = 'watching';
          this.deps.logger.info('control plane watch connected', {
            url: this.deps.settings.url,
            revision: snapshot.revision,
          });
          this.deps.onConnection?.(true);
        }
        this.counters.snapshots++;
        this.lastSnapshotAt = this.clock.now();
        this.deps.onSnapshot(snapshot);
      });
      call.on('error', (err: grpc.ServiceError) => {
        if (stopping.aborted && err.code === grpc.status.CANCELLED) return;
        this.recordError('watch', err);
        this.deps.logger.warn('control plane watch failed', { url: this.deps.settings.url, error: describeGrpc(err) });
      });
      call.on('status', () => {
        if (this.call === call) this.call = null;
        if (delivered) this.deps.onConnection?.(false);
        resolve(delivered);
      });
    });
  }

  // ---- DownloadModel ----------------------------------------------------------------------------

  download(
    request: { sha256: string; offset: number },
    onChunk: (chunk: ModelChunk) => void,
    signal: AbortSignal,
  ): Promise<void> {
    if (!this.downloader)
      return Promise.reject(
        new EdgeError('EDGE_ERR_MODEL_DOWNLOAD', `${request.sha256}: control client not started`, {
          details: { retryable: true },
        }),
      );
    return this.downloader.download(request, onChunk, signal);
  }

  // ---- ReportModelStatus ------------------------------------------------------------------------

  /** One report; rejects with EDGE_ERR_CONTROL when it did not arrive (the reporter retries). */
  report(report: ModelStatusReport): Promise<void> {
    return new Promise((resolve, reject) => {
      const client = this.client;
      if (!client) {
        reject(new EdgeError('EDGE_ERR_CONTROL', 'control client not started'));
        return;
      }
      const m = methods.reportModelStatus;
      client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        report,
        this.metadata(),
        { deadline: this.clock.now() + this.deps.settings.callTimeoutMs },
        (err) => {
          if (err) {
            this.recordError('report', err);
            reject(
              new EdgeError('EDGE_ERR_CONTROL', `ReportModelStatus: ${describeGrpc(err)}`, {
                cause: err,
                details: { grpcCode: err.code },
              }),
            );
          } else resolve();
        },
      );
    });
  }
}
