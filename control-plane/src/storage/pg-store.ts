import pg from 'pg';
import type { SqlExecutor, SqlQueryable, SqlResult } from './sql-executor.js';
import { SqlStore } from './sql-store.js';

export interface PgStoreOptions {
  readonly connectionString: string;
  /** Pool size; default 4 (ingest flushes are serialised, the rest is API traffic). */
  readonly maxConnections?: number;
  /** Idle connections that fail (server restart) are reported here instead of crashing the process. */
  readonly onPoolError?: (err: Error) => void;
}

/** PostgreSQL through a `pg` pool. */
class PgExecutor implements SqlExecutor {
  constructor(private readonly pool: pg.Pool) {}

  async query<R>(sql: string, params?: readonly unknown[]): Promise<SqlResult<R>> {
    const res = await this.pool.query(sql, params as unknown[] | undefined);
    return { rows: res.rows as R[] };
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx: SqlQueryable = {
      query: async <R>(sql: string, params?: readonly unknown[]) => ({
        rows: (await client.query(sql, params as unknown[] | undefined)).rows as R[],
      }),
      exec: async (sql: string) => {
        await client.query(sql);
      },
    };
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        // The connection is unusable; destroy it instead of returning it to the pool.
        broken = rollbackErr as Error;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export function createPgStore(options: PgStoreOptions): SqlStore {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 4 });
  pool.on('error', (err) => options.onPoolError?.(err));
  return new SqlStore('postgres', new PgExecutor(pool));
}
