import fp from 'fastify-plugin';
import type { DeviceCredentials } from '../broker/device-credentials.js';
import type { IngestStats } from '../ingest/ingest-stats.js';
import type { Store } from '../storage/store.js';

/** What the route plugins share, decorated on the root instance through fastify-plugin (not encapsulated). */
export interface ApiContext {
  readonly store: Store;
  readonly credentials: DeviceCredentials;
  readonly ingestStats: IngestStats;
  readonly enrolmentEnabled: boolean;
  /** Broker facts for /healthz and enrolment answers. */
  readonly broker: () => { readonly mode: 'embedded' | 'external'; readonly port: number | null; readonly connected: boolean };
}

declare module 'fastify' {
  interface FastifyInstance {
    cp: ApiContext;
  }
}

export const apiContextPlugin = fp<{ context: ApiContext }>(
  async (app, opts) => {
    app.decorate('cp', opts.context);
  },
  { name: 'cp-api-context', fastify: '5.x' },
);
