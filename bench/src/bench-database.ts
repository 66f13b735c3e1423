import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Server where the benchmark may CREATE DATABASE (trust auth on the loopback by default). */
export const BENCH_POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TempDatabase {
  readonly name: string;
  readonly url: string;
  /** Drops the database, open connections included; safe to call twice. */
  drop(): Promise<void>;
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: BENCH_POSTGRES_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL for the benchmark is not reachable at ${BENCH_POSTGRES_URL} (set BENCH_POSTGRES_URL): ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh `<prefix>_<random>` database, so a run never measures (or leaves behind) another run's rows. */
export async function createTempDatabase(prefix: string): Promise<TempDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix))
    throw new Error(`database prefix must be a lower-case SQL identifier, got ${JSON.stringify(prefix)}`);
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(BENCH_POSTGRES_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      dropped = true;
    },
  };
}
