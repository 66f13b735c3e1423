import { type ClientHttp2Session, connect } from 'node:http2';
import { FLEET_CONTROL_CLIENT_DEFINITION, type ModelChunk } from '@edgefleet/proto';
import { EdgeError } from '../errors.js';
import type { ControlSettings } from './control-settings.js';
import { DownloadCall, type DownloadRequest } from './download-call.js';

/**
 * `DownloadModel` of fleet.v1.FleetControl, spoken over an HTTP/2 session of its own with gRPC's wire
 * format (length-prefixed protobuf messages, status in the trailers) instead of through grpc-js.
 *
 * Why not grpc-js: its client copies every message out of its HTTP/2 frames into a fresh buffer and
 * pauses and resumes the stream for each one, which made a model download cost the agent about twice
 * what the bytes cost over bare HTTP/2 (see the README's rollout benchmark). Here a chunk that arrives
 * in one piece is decoded where it lies, one spread over several is assembled in a buffer that is reused,
 * and the stream is never paused: `onChunk` runs synchronously and `chunk.data` is valid only during it
 * (the model store writes it with `writeSync`).
 *
 * Same contract as the watch and report calls on the grpc-js channel: the same `host:port`, TLS settings
 * (CA, mTLS client certificate and key, server name) and `authorization` metadata, so the control plane
 * sees an ordinary gRPC call. The session is opened on the first download, shared by later ones, and
 * closed after IDLE_SESSION_MS without a call. Errors are EDGE_ERR_MODEL_DOWNLOAD with `details.retryable`
 * (a dropped connection, UNAVAILABLE, … may succeed if tried again; NOT_FOUND, OUT_OF_RANGE, … will not)
 * and `details.grpcCode`.
 */

export type DownloadSettings = Pick<
  ControlSettings,
  'url' | 'tls' | 'authorization' | 'callTimeoutMs' | 'downloadChunkBytes'
>;

/** HTTP/2 receive windows (session and stream): the default 64 KiB would stall a download every 64 KiB. */
export const DOWNLOAD_WINDOW_BYTES = 8 * 1024 * 1024;
/** A session with no download for this long is closed. */
export const IDLE_SESSION_MS = 30_000;
export class ArtifactDownloader {
  private session: ClientHttp2Session | null = null;
  private closed = false;

  constructor(private readonly settings: DownloadSettings) {}

  /**
   * Streams the artifact from `request.offset` to its end, calling `onChunk` for each chunk in order;
   * resolves when the control plane ended the call with OK. A throw from `onChunk` cancels the call and
   * is what rejects.
   */
  download(request: DownloadRequest, onChunk: (chunk: ModelChunk) => void, signal: AbortSignal): Promise<void> {
    return this.attempt(request, onChunk, signal, true);
  }

  /**
   * One call. `mayRetry`: a call that failed with the connection before any response came (the session was
   * one the server had just closed: a restart, a drain) is made once more on a new session, as grpc-js does
   * for a stream the server never saw. Reading an artifact again is harmless.
   */
  private async attempt(
    request: DownloadRequest,
    onChunk: (chunk: ModelChunk) => void,
    signal: AbortSignal,
    mayRetry: boolean,
  ): Promise<void> {
    if (this.closed)
      throw new EdgeError('EDGE_ERR_MODEL_DOWNLOAD', `${request.sha256}: control client not started`, {
        details: { retryable: true },
      });
    let session: ClientHttp2Session | null = null;
    const call = new DownloadCall({
      request,
      onChunk,
      signal,
      callTimeoutMs: this.settings.callTimeoutMs,
      chunkBytes: this.settings.downloadChunkBytes,
    });
    const outcome = await call.run(() => {
      session = this.sessionFor();
      return session.request(this.headers());
    });
    if (outcome.ok) return;
    if (outcome.connectionLostBeforeResponse && mayRetry && !signal.aborted && !this.closed) {
      if (session) this.forget(session);
      return await this.attempt(request, onChunk, signal, false);
    }
    throw outcome.error;
  }

  /** Closes the session once downloads in flight are done (abort them through their signals to stop them now); later ones are refused as not started. */
  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = null;
  }

  /** New downloads open a new session; the old one closes by itself (calls in flight on it may finish). */
  private forget(session: ClientHttp2Session): void {
    if (this.session === session) this.session = null;
  }

  private headers(): Record<string, string> {
    return {
      ':method': 'POST',
      ':path': FLEET_CONTROL_CLIENT_DEFINITION.downloadModel.path,
      'content-type': 'application/grpc+proto',
      te: 'trailers',
      'grpc-accept-encoding': 'identity',
      'user-agent': 'edgefleet-edge-agent artifact-downloader',
      ...(this.settings.authorization ? { authorization: this.settings.authorization } : {}),
    };
  }

  private sessionFor(): ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const { url, tls } = this.settings;
    const session = connect(`${tls ? 'https' : 'http'}://${url}`, {
      settings: { initialWindowSize: DOWNLOAD_WINDOW_BYTES, enablePush: false },
      ...(tls
        ? {
            ...(tls.ca ? { ca: tls.ca } : {}),
            ...(tls.cert ? { cert: tls.cert } : {}),
            ...(tls.key ? { key: tls.key } : {}),
            ...(tls.serverName ? { servername: tls.serverName } : {}),
            ALPNProtocols: ['h2'],
          }
        : {}),
    });
    // Connection errors reach the streams that were waiting on it; the session only has to go.
    session.on('error', () => undefined);
    session.once('connect', () => session.setLocalWindowSize(DOWNLOAD_WINDOW_BYTES));
    // A session the server is closing (GOAWAY: a restart, a drain) or has closed takes no new download.
    session.once('goaway', () => this.forget(session));
    session.once('close', () => this.forget(session));
    session.setTimeout(IDLE_SESSION_MS, () => session.close());
    session.unref();
    this.session = session;
    return session;
  }
}
