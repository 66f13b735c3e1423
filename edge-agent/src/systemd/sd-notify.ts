import { isAbsolute } from 'node:path';
import { constants as osConstants } from 'node:os';
import unixDgram from 'unix-dgram';
import { EdgeError } from '../errors.js';

/**
 * The sd_notify(3) protocol, spoken directly: one AF_UNIX datagram of newline-separated `KEY=VALUE`
 * lines to the socket named by NOTIFY_SOCKET. Sending from the agent's own process (not via
 * systemd-notify(1), a child process) is what lets the unit use `NotifyAccess=main`.
 *
 * Supported addresses: absolute filesystem paths (what systemd uses for services: /run/systemd/notify).
 * Not supported: abstract-namespace addresses (`@name`) and `vsock:` — unix-dgram copies the path with
 * strncpy and a fixed address length, so it cannot address an abstract socket; those are reported as
 * EDGE_ERR_SD_NOTIFY instead of being dropped silently.
 */

/** Field names as in sd_notify(3); values must not contain newlines. */
export type NotifyFields = Readonly<Record<string, string | number>>;

/** The notifications the agent sends; the seam the watchdog and the agent depend on. */
export interface Notifier {
  /** True when NOTIFY_SOCKET is set (running under systemd with Type=notify). */
  readonly enabled: boolean;
  /** Sends the fields; false (and nothing sent) when not enabled. Throws EDGE_ERR_SD_NOTIFY on failure. */
  notify(fields: NotifyFields): boolean;
  ready(status?: string): boolean;
  status(text: string): boolean;
  stopping(status?: string): boolean;
  watchdog(): boolean;
}

// sun_path is 108 bytes including the terminating NUL (unix(7)).
const SUN_PATH_MAX = 107;
const KEY = /^[A-Z][A-Z0-9_]*$/;

function errnoName(errno: number | undefined): string {
  if (errno === undefined) return 'unknown error';
  const n = Math.abs(errno);
  const name = Object.entries(osConstants.errno).find(([, v]) => v === n)?.[0];
  return name ?? `errno ${n}`;
}

/** One line of a STATUS= text: the protocol is line-based, so newlines become spaces. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

export class SdNotifier implements Notifier {
  /** `env` defaults to process.env; tests pass their own. */
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  get enabled(): boolean {
    const v = this.env.NOTIFY_SOCKET;
    return v !== undefined && v !== '';
  }

  notify(fields: NotifyFields): boolean {
    const address = this.resolveAddress();
    if (address === null) return false;
    const message = Buffer.from(encode(fields));
    let failure: (Error & { errno?: number }) | undefined;
    // A socket per message, as libsystemd does: nothing stays open (or keeps the event loop alive).
    let socket: ReturnType<typeof unixDgram.createSocket> | undefined;
    try {
      socket = unixDgram.createSocket('unix_dgram');
      socket.on('error', (err) => {
        failure = err;
      });
      socket.send(message, 0, message.length, address, (err) => {
        failure = err;
      });
    } catch (err) {
      // socket() itself failed (e.g. EMFILE).
      failure = err as Error & { errno?: number };
    } finally {
      socket?.close();
    }
    if (failure) {
      throw new EdgeError(
        'EDGE_ERR_SD_NOTIFY',
        `sending to NOTIFY_SOCKET ${address} failed: ${errnoName(failure.errno)}`,
        {
          cause: failure,
          details: { address, errno: failure.errno },
        },
      );
    }
    return true;
  }

  /** READY=1: start-up finished (sd_notify(3)); Type=notify units count as started from here. */
  ready(status?: string): boolean {
    return this.notify(status === undefined ? { READY: 1 } : { READY: 1, STATUS: oneLine(status) });
  }

  /** STATUS=…: free-form one-line status shown by `systemctl status`. */
  status(text: string): boolean {
    return this.notify({ STATUS: oneLine(text) });
  }

  /** STOPPING=1: shutdown began (sd_notify(3)). */
  stopping(status?: string): boolean {
    return this.notify(status === undefined ? { STOPPING: 1 } : { STOPPING: 1, STATUS: oneLine(status) });
  }

  /** WATCHDOG=1: keep-alive ping (sd_notify(3)); use Watchdog rather than calling this directly. */
  watchdog(): boolean {
    return this.notify({ WATCHDOG: 1 });
  }

  /** Nothing to release (a socket per message); here so components can close what they own uniformly. */
  close(): void {}

  /** null when NOTIFY_SOCKET is unset; throws for addresses this implementation cannot reach. */
  private resolveAddress(): string | null {
    const raw = this.env.NOTIFY_SOCKET;
    if (raw === undefined || raw === '') return null;
    if (raw.startsWith('@')) {
      throw new EdgeError(
        'EDGE_ERR_SD_NOTIFY',
        `NOTIFY_SOCKET ${raw} is an abstract-namespace socket, which unix-dgram cannot address; run the agent under systemd's own notify socket (a filesystem path)`,
      );
    }
    if (!isAbsolute(raw)) {
      throw new EdgeError(
        'EDGE_ERR_SD_NOTIFY',
        `NOTIFY_SOCKET ${raw} is not an absolute socket path (vsock and relative addresses are not supported)`,
      );
    }
    if (Buffer.byteLength(raw) > SUN_PATH_MAX) {
      throw new EdgeError('EDGE_ERR_SD_NOTIFY', `NOTIFY_SOCKET path is longer than ${SUN_PATH_MAX} bytes: ${raw}`);
    }
    return raw;
  }
}

/** `KEY=VALUE\n` lines; rejects keys and values the protocol cannot carry. */
export function encode(fields: NotifyFields): string {
  const entries = Object.entries(fields);
  if (entries.length === 0) throw new EdgeError('EDGE_ERR_SD_NOTIFY', 'nothing to notify: no fields given');
  let out = '';
  for (const [key, value] of entries) {
    if (!KEY.test(key))
      throw new EdgeError('EDGE_ERR_SD_NOTIFY', `invalid notification field name ${JSON.stringify(key)}`);
    const text = String(value);
    if (/[\n\0]/.test(text)) {
      throw new EdgeError('EDGE_ERR_SD_NOTIFY', `notification field ${key} must be one line without NUL bytes`);
    }
    out += `${key}=${text}\n`;
  }
  return out;
}
