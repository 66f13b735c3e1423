import { EdgeError } from '../errors.js';

/** EDGE_ERR_OUTBOX carrying the SQLite result code (e.g. 'SQLITE_FULL'), so callers can decide what to do. */
export class OutboxError extends EdgeError {
  /** SQLite extended result code name, or null when the failure did not come from SQLite. */
  readonly sqliteCode: string | null;

  constructor(operation: string, detail: string, options: { cause?: unknown; sqliteCode?: string | null } = {}) {
    const sqliteCode = options.sqliteCode ?? null;
    super('EDGE_ERR_OUTBOX', `${operation}${sqliteCode ? ` (${sqliteCode})` : ''}: ${detail}`, {
      cause: options.cause,
      details: { operation, sqliteCode },
    });
    this.name = 'OutboxError';
    this.sqliteCode = sqliteCode;
  }

  /** Wraps whatever a storage call threw; SqliteError's `code` becomes `sqliteCode`. */
  static from(operation: string, err: unknown): OutboxError {
    if (err instanceof OutboxError) return err;
    const code = (err as { code?: unknown } | null)?.code;
    const sqliteCode = typeof code === 'string' && code.startsWith('SQLITE_') ? code : null;
    const detail = err instanceof Error ? err.message : String(err);
    return new OutboxError(operation, detail, { cause: err, sqliteCode });
  }
}
