import { type ClientHttp2Stream, constants, type IncomingHttpHeaders } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import {
  decodeModelChunk,
  encodeDownloadModelRequest,
  frameGrpcMessage,
  GrpcMessageReader,
  MAX_MODEL_CHUNK_BYTES,
  type ModelChunk,
} from '@edgefleet/proto';
import { describeError, EdgeError } from '../errors.js';

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

export interface DownloadRequest {
  readonly sha256: string;
  readonly offset: number;
}

export interface DownloadCallOptions {
  readonly request: DownloadRequest;
  readonly onChunk: (chunk: ModelChunk) => void;
  readonly signal: AbortSignal;
  readonly callTimeoutMs: number;
  readonly chunkBytes: number;
}

/**
 * How one call ended. `connectionLostBeforeResponse`: the connection failed before any response came
 * (the session was one the server had just closed), so the same call on a new session may succeed.
 */
export type CallOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: unknown; readonly connectionLostBeforeResponse: boolean };

/**
 * Where a call is:
 * - `awaitingResponse`: the request is sent, no response headers yet;
 * - `receiving`: the response came; chunks go to `onChunk` as they complete;
 * - `failing`: the call failed (cancelled by us, or the connection broke) and waits for its stream to close;
 * - `settled`: the stream closed (or could not be opened) and the outcome is given, by `finish` alone.
 */
type CallState =
  | { readonly name: 'awaitingResponse' }
  | { readonly name: 'receiving' }
  | { readonly name: 'failing'; readonly error: unknown; readonly connectionLost: boolean; readonly responded: boolean }
  | { readonly name: 'settled' };

/** The gRPC status of the call, once headers or trailers carried one. */
interface CallStatus {
  readonly code: grpc.status;
  readonly details: string;
}

/** One `DownloadModel` call on one HTTP/2 stream, as a small state machine. */
export class DownloadCall {
  private state: CallState = { name: 'awaitingResponse' };
  private status: CallStatus | null = null;
  private settle: (outcome: CallOutcome) => void = () => undefined;
  /** What onChunk throws rejects as it is; anything else the reader or the decoder throws is a bad response. */
  private readonly fromOnChunk = new WeakSet<object>();

  constructor(private readonly options: DownloadCallOptions) {}

  /** Opens the stream with `open` and runs the call to its end; never rejects. */
  run(open: () => ClientHttp2Stream): Promise<CallOutcome> {
    return new Promise((resolve) => {
      this.settle = resolve;
      let stream: ClientHttp2Stream;
      try {
        stream = open();
      } catch (err) {
        const error = this.error(grpc.status.UNAVAILABLE, describeError(err), err);
        this.finish({ ok: false, error, connectionLostBeforeResponse: true });
        return;
      }
      this.wire(stream);
      stream.end(
        frameGrpcMessage(
          encodeDownloadModelRequest({
            sha256: this.options.request.sha256,
            offset: this.options.request.offset,
            chunkBytes: this.options.chunkBytes,
          }),
        ),
      );
    });
  }

  private wire(stream: ClientHttp2Stream): void {
    const { signal, callTimeoutMs, request } = this.options;
    const reader = this.reader();
    const onAbort = (): void =>
      this.cancel(
        stream,
        new EdgeError('EDGE_ERR_MODEL_DOWNLOAD', `${request.sha256}: stopped`, { details: { retryable: false } }),
      );
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    // No overall deadline (artifacts can be large on a slow link): a stream silent this long is cut.
    stream.setTimeout(callTimeoutMs, () =>
      this.cancel(
        stream,
        new EdgeError('EDGE_ERR_MODEL_DOWNLOAD', `${request.sha256}: no data for ${callTimeoutMs} ms`, {
          details: { retryable: true },
        }),
      ),
    );
    stream.on('response', (headers) => this.onResponse(stream, headers));
    stream.on('trailers', (headers) => this.statusFrom(headers));
    stream.on('data', (piece: Buffer) => this.onData({ stream, reader, piece }));
    stream.on('error', (err) => this.onError(err));
    stream.once('close', () => {
      signal.removeEventListener('abort', onAbort);
      this.onClose({ rstCode: stream.rstCode, atBoundary: reader.atBoundary });
    });
  }

  private reader(): GrpcMessageReader {
    return new GrpcMessageReader(MAX_CHUNK_MESSAGE_BYTES, (message) => {
      const chunk = decodeModelChunk(message);
      try {
        this.options.onChunk(chunk);
      } catch (err) {
        if (typeof err === 'object' && err !== null) this.fromOnChunk.add(err);
        throw err;
      }
    });
  }

  private enter(next: CallState): void {
    this.state = next;
  }

  /** Transition to `failing` (the first failure is the one reported), and cut the stream. */
  private cancel(stream: ClientHttp2Stream, why: unknown): void {
    this.fail({ error: why, connectionLost: false });
    if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
  }

  private fail(o: { error: unknown; connectionLost: boolean }): void {
    const s = this.state;
    if (s.name === 'failing' || s.name === 'settled') return;
    this.enter({ name: 'failing', ...o, responded: s.name === 'receiving' });
  }

  private onResponse(stream: ClientHttp2Stream, headers: IncomingHttpHeaders): void {
    const s = this.state;
    if (s.name === 'awaitingResponse') this.enter({ name: 'receiving' });
    else if (s.name === 'failing') this.enter({ ...s, responded: true });
    this.statusFrom(headers); // a trailers-only response carries its status here
    const refusal = this.refusalOf(headers);
    if (refusal) this.cancel(stream, refusal);
  }

  /** Why response headers are not those of a gRPC response we can read; null when they are. */
  private refusalOf(headers: IncomingHttpHeaders): EdgeError | null {
    const http = Number(headers[':status']);
    const withoutStatus = this.status === null;
    if (http !== 200 && withoutStatus) return this.error(codeOfHttpStatus(http), `HTTP status ${http}`);
    if (withoutStatus && !String(headers['content-type'] ?? '').startsWith('application/grpc'))
      return this.error(grpc.status.UNKNOWN, `content-type ${String(headers['content-type'])} is not gRPC`);
    if (headers['grpc-encoding'] !== undefined && headers['grpc-encoding'] !== 'identity')
      return this.error(grpc.status.INTERNAL, `grpc-encoding ${String(headers['grpc-encoding'])} was not asked for`);
    return null;
  }

  private statusFrom(headers: IncomingHttpHeaders): void {
    const raw = headers['grpc-status'];
    if (raw === undefined) return;
    const code = Number(raw);
    this.status = {
      code: Number.isInteger(code) && code >= 0 && code <= 16 ? (code as grpc.status) : grpc.status.UNKNOWN,
      details: decodeGrpcMessage(headers['grpc-message']),
    };
  }

  private onData(o: { stream: ClientHttp2Stream; reader: GrpcMessageReader; piece: Buffer }): void {
    if (this.state.name === 'failing' || this.state.name === 'settled') return;
    try {
      o.reader.push(o.piece);
    } catch (err) {
      this.cancel(
        o.stream,
        typeof err === 'object' && err !== null && this.fromOnChunk.has(err)
          ? err
          : this.error(grpc.status.INTERNAL, `bad response: ${describeError(err)}`, err),
      );
    }
  }

  /** A stream error before any failure of ours is the connection breaking. */
  private onError(err: Error): void {
    this.fail({ error: this.error(grpc.status.UNAVAILABLE, describeError(err), err), connectionLost: true });
  }

  private onClose(o: { rstCode: number | undefined; atBoundary: boolean }): void {
    this.finish(this.outcomeOf({ state: this.state, ...o }));
  }

  /** Transition to `settled`: the one place the outcome is given. */
  private finish(outcome: CallOutcome): void {
    if (this.state.name === 'settled') return;
    this.enter({ name: 'settled' });
    this.settle(outcome);
  }

  private outcomeOf(o: { state: CallState; rstCode: number | undefined; atBoundary: boolean }): CallOutcome {
    const { state } = o;
    const failed = (error: unknown, connectionLostBeforeResponse = false): CallOutcome => ({
      ok: false,
      error,
      connectionLostBeforeResponse,
    });
    if (state.name === 'failing') return failed(state.error, state.connectionLost && !state.responded);
    const status = this.status;
    if (status?.code === grpc.status.OK)
      return o.atBoundary
        ? { ok: true }
        : failed(this.error(grpc.status.INTERNAL, 'the response ended inside a message'));
    if (status !== null) return failed(this.error(status.code, status.details));
    const error = this.error(
      grpc.status.UNAVAILABLE,
      `the stream closed without a gRPC status (HTTP/2 code ${o.rstCode ?? 'none'})`,
    );
    return failed(error, state.name === 'awaitingResponse');
  }

  private error(code: grpc.status, details: string, cause?: unknown): EdgeError {
    const { sha256, offset } = this.options.request;
    return new EdgeError(
      'EDGE_ERR_MODEL_DOWNLOAD',
      `${sha256} from offset ${offset}: ${grpc.status[code] ?? code}: ${details}`,
      {
        ...(cause === undefined ? {} : { cause }),
        details: { retryable: RETRYABLE.has(code), grpcCode: code },
      },
    );
  }
}
