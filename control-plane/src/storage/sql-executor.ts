/**
 * The only thing the two store implementations do differently: how a statement reaches the database.
 * Everything above it (sql-store.ts) is shared SQL.
 */
export interface SqlResult<R> {
  readonly rows: R[];
}

export interface SqlQueryable {
  /** One statement with `$n` parameters; arrays bind as PostgreSQL arrays. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<SqlResult<R>>;
  /** Several statements without parameters (migrations, DDL). */
  exec(sql: string): Promise<void>;
}

export interface SqlExecutor extends SqlQueryable {
  /** Runs `fn` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
