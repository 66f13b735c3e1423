import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { createPgStore } from '../src/storage/pg-store.js';
import { registryConformance } from './registry-conformance.js';
import { storeConformance } from './store-conformance.js';
import { createDatabase, createTestDatabase } from './storage-test-db.js';

storeConformance('PostgreSQL', async () => {
  const { url, drop } = await createDatabase();
  const store = createPgStore({ connectionString: url });
  await store.migrate();
  return { store, cleanup: drop };
});

registryConformance('PostgreSQL', async () => {
  const { url, drop } = await createDatabase();
  const store = createPgStore({ connectionString: url });
  await store.migrate();
  const sql = async (text: string): Promise<void> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };
  return { store, sql, cleanup: drop };
});

test('PostgreSQL store: two replicas migrating at once apply each migration once', async (t) => {
  const url = await createTestDatabase(t);
  const a = createPgStore({ connectionString: url });
  const b = createPgStore({ connectionString: url });
  t.after(async () => {
    await a.close();
    await b.close();
  });
  const [ra, rb] = await Promise.all([a.migrate(), b.migrate()]);
  assert.deepEqual([...ra, ...rb].sort(), [1, 2, 3]);
});
