import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Real PostgreSQL for tests: a fresh database per call, dropped after the test.
 * CP_TEST_POSTGRES_URL points at a server where the user may CREATE DATABASE
 * (default postgres://postgres@127.0.0.1:5432/postgres).
 */
export const TEST_POSTGRES_URL = process.env.CP_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL for tests is not reachable at ${TEST_POSTGRES_URL} (set CP_TEST_POSTGRES_URL): ${(err as Error).message}`,
      { cause: err },
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates `cp_test_<random>`; `drop` removes it (forcibly, open connections included). */
export async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `cp_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    url: withDatabase(TEST_POSTGRES_URL, name),
    drop: async () => {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** A fresh database dropped after the test; returns its URL. */
export async function createTestDatabase(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const { url, drop } = await createDatabase();
  t.after(drop);
  return url;
}
