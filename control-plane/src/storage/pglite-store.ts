import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { CpError } from '../errors.js';
import type { SqlExecutor, SqlQueryable, SqlResult } from './sql-executor.js';
import { SqlStore } from './sql-store.js';

/**
 * Embedded PGlite (PostgreSQL compiled to WebAssembly, in process). It has one connection: PGlite
 * itself queues every query and transaction behind one lock, so statements from concurrent callers
 * never interleave inside a transaction.
 */
class PgliteExecutor implements SqlExecutor {
  constructor(private readonly db: PGlite) {}

  async query<R>(sql: string, params?: readonly unknown[]): Promise<SqlResult<R>> {
    const res = await this.db.query<R>(sql, params as unknown[] | undefined);
    return { rows: res.rows };
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (t) =>
      fn({
        query: async <R>(sql: string, params?: readonly unknown[]) => ({
          rows: (await t.query<R>(sql, params as unknown[] | undefined)).rows,
        }),
        exec: async (sql: string) => {
          await t.exec(sql);
        },
      }),
    );
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}

export interface PgliteStoreOptions {
  /** Database directory; omitted → in memory (tests). */
  readonly dataDir?: string;
}

/** The PGlite executor alone (tests use it to reach the database beside a store). */
export async function createPgliteExecutor(options: PgliteStoreOptions = {}): Promise<SqlExecutor> {
  let db: PGlite;
  try {
    if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true });
    db = options.dataDir === undefined ? await PGlite.create() : await PGlite.create(options.dataDir);
  } catch (err) {
    throw new CpError(
      'CP_ERR_STORAGE',
      `cannot open PGlite database${options.dataDir ? ` in ${options.dataDir}` : ''}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return new PgliteExecutor(db);
}

export async function createPgliteStore(options: PgliteStoreOptions = {}): Promise<SqlStore> {
  return new SqlStore('pglite', await createPgliteExecutor(options));
}
