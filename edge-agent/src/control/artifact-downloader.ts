import {
  connect,
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
} from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import {
  FLEET_CONTROL_CLIENT_DEFINITION,
  GrpcMessageReader,
  MAX_MODEL_CHUNK_BYTES,
  decodeModelChunk,
  encodeDownloadModelRequest,
  frameGrpcMessage,
  type ModelChunk,
} from '@edgefleet/proto';
import { EdgeError, describeError } from '../errors.js';
import type { ControlSettings } from './control-settings.js';

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
/** A chunk message is its data plus a few bytes of offsets; anything much larger is not a chunk. */
const MAX_CHUNK_MESSAGE_BYTES = MAX_MODEL_CHUNK_BYTES + 64;

/** gRPC codes after which a download may succeed if tried again (the rest: the artifact or the request is the problem). */
const RETRYABLE = new Set([
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.CANCELLED,
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.ABORTED,
]);

/** gRPC's mapping of an HTTP status without a gRPC status (a proxy's error page, say). */
function codeOfHttpStatus(status: number): grpc.status {
  if (status === 400) return grpc.status.INTERNAL;
  if (status === 401) return grpc.status.UNAUTHENTICATED;
  if (status === 403) return grpc.status.PERMISSION_DENIED;
  if (status === 404) return grpc.status.UNIMPLEMENTED;
  if (status === 429 || status === 502 || status === 503 || status === 504) return grpc.status.UNAVAILABLE;
  return grpc.status.UNKNOWN;
}

function decodeGrpcMessage(raw: string | string[] | undefined): string {
  const text = Array.isArray(raw) ? raw.join(', ') : (raw ?? '');
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export class ArtifactDownloader {
  private session: ClientHttp2Session | null = null;
  private closed = false;

  constructor(private readonly settings: DownloadSettings) {}

  /**
   * Streams the artifact from `request.offset` to its end, calling `onChunk` for each chunk in order;
   * resolves when the control plane ended the call with OK. A throw from `onChunk` cancels the call and
   * is what rejects.
   */
  download(
    request: { sha256: string; offset: number },
    onChunk: (chunk: ModelChunk) => void,
    signal: AbortSignal,
  ): Promise<void> {
    return this.attempt(request, onChunk, signal, true);
  }

  /**
   * One call. `mayRetry`: a call that failed with the connection before any response came (the session was
   * one the server had just closed: a restart, a drain) is made once more on a new session, as grpc-js does
   * for a stream the server never saw. Reading an artifact again is harmless.
   */
  private attempt(
    request: { sha256: string; offset: number },
    onChunk: (chunk: ModelChunk) => void,
    signal: AbortSignal,
    mayRetry: boolean,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const what = `${request.sha256} from offset ${request.offset}`;
      const failWith = (code: grpc.status, details: string, cause?: unknown): EdgeError =>
        new EdgeError('EDGE_ERR_MODEL_DOWNLOAD', `${what}: ${grpc.status[code] ?? code}: ${details}`, {
          ...(cause === undefined ? {} : { cause }),
          details: { retryable: RETRYABLE.has(code), grpcCode: code },
        });
      if (this.closed) {
        reject(
          new EdgeError('EDGE_ERR_MODEL_DOWNLOAD', `${request.sha256}: control client not started`, {
            details: { retryable: true },
          }),
        );
        return;
      }
      let failure: unknown = null;
      let status: grpc.status | null = null;
      let details = '';
      let responded = false;
      let connectionLost = false;
      let stream: ClientHttp2Stream;
      let session: ClientHttp2Session | null = null;
      const retryOrReject = (err: EdgeError): void => {
        if (connectionLost && !responded && mayRetry && !signal.aborted && !this.closed) {
          if (session) this.forget(session);
          this.attempt(request, onChunk, signal, false).then(resolve, reject);
        } else reject(err);
      };
      try {
        session = this.sessionFor();
        stream = session.request(this.headers());
      } catch (err) {
        connectionLost = true;
        retryOrReject(failWith(grpc.status.UNAVAILABLE, describeError(err), err));
        return;
      }
      const cancel = (why: unknown): void => {
        failure ??= why;
        if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
      };
      // What onChunk throws rejects as it is; anything else the reader or the decoder throws is a bad response.
      const fromOnChunk = new WeakSet<object>();
      const reader = new GrpcMessageReader(MAX_CHUNK_MESSAGE_BYTES, (message) => {
        const chunk = decodeModelChunk(message);
        try {
          onChunk(chunk);
        } catch (err) {
          if (typeof err === 'object' && err !== null) fromOnChunk.add(err);
          throw err;
        }
      });
      const statusFrom = (headers: IncomingHttpHeaders): void => {
        const raw = headers['grpc-status'];
        if (raw === undefined) return;
        const code = Number(raw);
        status = Number.isInteger(code) && code >= 0 && code <= 16 ? (code as grpc.status) : grpc.status.UNKNOWN;
        details = decodeGrpcMessage(headers['grpc-message']);
      };
      const onAbort = (): void =>
        cancel(
          new EdgeError('EDGE_ERR_MODEL_DOWNLOAD', `${request.sha256}: stopped`, { details: { retryable: false } }),
        );
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      // No overall deadline (artifacts can be large on a slow link): a stream silent this long is cut.
      stream.setTimeout(this.settings.callTimeoutMs, () =>
        cancel(
          new EdgeError('EDGE_ERR_MODEL_DOWNLOAD', `${request.sha256}: no data for ${this.settings.callTimeoutMs} ms`, {
            details: { retryable: true },
          }),
        ),
      );
      stream.on('response', (headers) => {
        responded = true;
        statusFrom(headers); // a trailers-only response carries its status here
        const http = Number(headers[':status']);
        if (http !== 200 && status === null) cancel(failWith(codeOfHttpStatus(http), `HTTP status ${http}`));
        else if (status === null && !String(headers['content-type'] ?? '').startsWith('application/grpc'))
          cancel(failWith(grpc.status.UNKNOWN, `content-type ${String(headers['content-type'])} is not gRPC`));
        else if (headers['grpc-encoding'] !== undefined && headers['grpc-encoding'] !== 'identity')
          cancel(failWith(grpc.status.INTERNAL, `grpc-encoding ${String(headers['grpc-encoding'])} was not asked for`));
      });
      stream.on('trailers', statusFrom);
      stream.on('data', (piece: Buffer) => {
        if (failure !== null) return;
        try {
          reader.push(piece);
        } catch (err) {
          cancel(
            typeof err === 'object' && err !== null && fromOnChunk.has(err)
              ? err
              : failWith(grpc.status.INTERNAL, `bad response: ${describeError(err)}`, err),
          );
        }
      });
      stream.on('error', (err) => {
        if (failure === null) connectionLost = true;
        failure ??= failWith(grpc.status.UNAVAILABLE, describeError(err), err);
      });
      stream.once('close', () => {
        signal.removeEventListener('abort', onAbort);
        if (failure !== null) {
          if (connectionLost) retryOrReject(failure as EdgeError);
          else reject(failure);
        } else if (status === grpc.status.OK && reader.atBoundary) resolve();
        else if (status === grpc.status.OK)
          reject(failWith(grpc.status.INTERNAL, 'the response ended inside a message'));
        else if (status !== null) reject(failWith(status, details));
        else {
          connectionLost = true;
          retryOrReject(
            failWith(
              grpc.status.UNAVAILABLE,
              `the stream closed without a gRPC status (HTTP/2 code ${stream.rstCode ?? 'none'})`,
            ),
          );
        }
      });
      stream.end(
        frameGrpcMessage(
          encodeDownloadModelRequest({
            sha256: request.sha256,
            offset: request.offset,
            chunkBytes: this.settings.downloadChunkBytes,
          }),
        ),
      );
    });
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
