import { join } from 'node:path';
import { redactUrl } from '@edgefleet/service-kit';
import { createPgStore } from './pg-store.js';
import { createPgliteStore } from './pglite-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  readonly onPoolError?: (err: Error) => void;
}

export interface OpenedStore {
  readonly store: Store;
  /** Where the data lives, safe to print: the PGlite directory or the redacted URL. */
  readonly location: string;
}

/** PostgreSQL when a URL is configured, embedded PGlite in `<dataDir>/pglite` otherwise; migrated. */
export async function openStore(options: OpenStoreOptions): Promise<OpenedStore> {
  const { databaseUrl } = options;
  let store: Store;
  let location: string;
  if (databaseUrl !== undefined) {
    store = createPgStore({
      connectionString: databaseUrl,
      ...(options.onPoolError ? { onPoolError: options.onPoolError } : {}),
    });
    location = redactUrl(databaseUrl);
  } else {
    location = join(options.dataDir, 'pglite');
    store = await createPgliteStore({ dataDir: location });
  }
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return { store, location };
}
