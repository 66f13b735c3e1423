import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { CP_ERRORS, CpError, type CpErrorCode } from '../errors.js';

/**
 * The REST client of the admin commands: bearer token, JSON in and out, and the API's error answers
 * turned back into CpErrors with the server's code, so the CLI prints `CP_ERR_…: message` as the API
 * said it.
 */
export interface ApiClientOptions {
  /** e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly token: string;
}

export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.send<T>(
      method,
      path,
      body === undefined ? undefined : { body: JSON.stringify(body), contentType: 'application/json' },
    );
  }

  /** Streams a file as `application/octet-stream` (model uploads), never reading it whole into memory. */
  async uploadFile<T>(path: string, file: string): Promise<T> {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (err) {
      throw new CpError(
        'CP_ERR_ARGS',
        `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { cause: err },
      );
    }
    const body = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
    return this.send<T>('POST', path, { body, contentType: 'application/octet-stream', contentLength: size });
  }

  private async send<T>(
    method: string,
    path: string,
    payload?: { body: string | ReadableStream<Uint8Array>; contentType: string; contentLength?: number },
  ): Promise<T> {
    const url = new URL(path, this.options.url).toString();
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          ...(payload ? { 'content-type': payload.contentType } : {}),
          ...(payload?.contentLength !== undefined ? { 'content-length': String(payload.contentLength) } : {}),
        },
        ...(payload ? { body: payload.body, duplex: 'half' } : {}),
      } as RequestInit);
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CpError('CP_ERR_API', `${method} ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, {
        cause: err,
      });
    }
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page, say): reported below with the status.
      parsed = null;
    }
    if (!res.ok) {
      const error = (parsed as { error?: { code?: string; message?: string; fields?: unknown } } | null)?.error;
      if (error?.code && error.code in CP_ERRORS) {
        // The server's message already starts with the catalogue text; keep it whole.
        const err = new CpError(error.code as CpErrorCode, undefined, { details: error.fields });
        err.message = error.message ?? err.message;
        throw err;
      }
      throw new CpError('CP_ERR_API', `${method} ${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
    }
    return parsed as T;
  }
}
