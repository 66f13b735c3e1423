import fp from 'fastify-plugin';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { AssignmentService } from '../assignments/assignment-service.js';
import type { ApiPrincipal, ApiTokenEntry } from '../auth/api-token.js';
import type { DeviceCredentials } from '../broker/device-credentials.js';
import type { IngestStats } from '../ingest/ingest-stats.js';
import type { ModelRegistry } from '../models/model-registry.js';
import type { SigningKeyInfo } from '../signing/model-signer.js';
import type { Store } from '../storage/store.js';

/** What the route plugins share, decorated on the root instance through fastify-plugin (not encapsulated). */
export interface ApiContext {
  readonly store: Store;
  readonly credentials: DeviceCredentials;
  readonly ingestStats: IngestStats;
  readonly enrolmentEnabled: boolean;
  /** Broker facts for /healthz and enrolment answers. */
  readonly broker: () => {
    readonly mode: 'embedded' | 'external';
    readonly port: number | null;
    readonly connected: boolean;
  };
  readonly models: ModelRegistry;
  readonly assignments: AssignmentService;
  readonly artifacts: ArtifactStore;
  readonly signingKey: SigningKeyInfo;
  /** Largest model upload in bytes. */
  readonly maxUploadBytes: number;
  /** Bearer tokens (hashes) with their roles. */
  readonly tokens: readonly ApiTokenEntry[];
}

/** Who may call a route: anyone, a viewer (or admin), or an admin. Default: viewer for GET/HEAD, admin otherwise. */
export type RouteAccess = 'public' | 'viewer' | 'admin';

declare module 'fastify' {
  interface FastifyInstance {
    cp: ApiContext;
  }
  interface FastifyRequest {
    /** Set by the auth hook on every route that is not public. */
    principal: ApiPrincipal | null;
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

/** The audit log's actor for a REST caller. */
export function actorOf(principal: ApiPrincipal | null): string {
  return principal ? `token:${principal.name}` : 'anonymous';
}

export const apiContextPlugin = fp<{ context: ApiContext }>(
  async (app, opts) => {
    app.decorate('cp', opts.context);
    app.decorateRequest('principal', null);
  },
  { name: 'cp-api-context', fastify: '5.x' },
);
