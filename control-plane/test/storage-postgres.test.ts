import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPgStore } from '../src/index.js';
import { storeConformance } from './store-conformance.js';
import { createDatabase, createTestDatabase } from './storage-test-db.js';

storeConformance('PostgreSQL', async () => {
  const { url, drop } = await createDatabase();
  const store = createPgStore({ connectionString: url });
  await store.migrate();
  return { store, cleanup: drop };
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
  assert.deepEqual([...ra, ...rb].sort(), [1]);
});
