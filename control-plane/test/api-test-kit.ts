import { after, before } from 'node:test';
import { systemClock } from '@edgefleet/service-kit';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildHttpApp, type HttpAppOptions } from '../src/api/http-app.js';
import { createRegistryServices, type RegistryServices } from '../src/registry/registry-services.js';
import { DeviceCredentials } from '../src/broker/device-credentials.js';
import { generateApiToken, hashApiToken } from '../src/auth/api-token.js';
import { IngestStats } from '../src/ingest/ingest-stats.js';
import { silentLogger } from '@edgefleet/service-kit';
import type { ApiContext } from '../src/api/api-context.js';
import { createPgliteStore } from '../src/storage/pglite-store.js';
import type { Store } from '../src/storage/store.js';
import { tempDir } from '@edgefleet/service-kit/testing';

/**
 * A REST API over a real store and real registry services (artifacts and signing key in a temp dir),
 * with one admin and one viewer token, for `inject` tests.
 */

type After = { after: (fn: () => void | Promise<void>) => void };

export interface TestApi {
  readonly app: FastifyInstance;
  readonly services: RegistryServices;
  readonly adminToken: string;
  readonly viewerToken: string;
  readonly dataDir: string;
  /** Error log lines (JSON). */
  readonly logged: string[];
  /** `inject` with `Authorization: Bearer <token>` (admin unless told). */
  call(options: InjectOptions, token?: string | null): Promise<LightMyRequestResponse>;
}

export async function testApi(
  t: After,
  store: Store,
  overrides: Partial<ApiContext> = {},
  options: Partial<HttpAppOptions> & { maxUploadBytes?: number } = {},
): Promise<TestApi> {
  const maxUploadBytes = options.maxUploadBytes ?? 64 * 1024 * 1024;
  const logged: string[] = [];
  const logger = {
    ...silentLogger,
    error: (msg: string, f?: Record<string, unknown>) => void logged.push(JSON.stringify({ msg, ...f })),
  };
  const dataDir = tempDir(t as { after: (fn: () => void) => void });
  const services = await createRegistryServices({
    store,
    dataDir,
    signingKeyFile: `${dataDir}/keys/signing.pem`,
    maxUploadBytes,
    logger,
    clock: systemClock,
  });
  const adminToken = generateApiToken();
  const viewerToken = generateApiToken();
  const context: ApiContext = {
    store,
    credentials: new DeviceCredentials({ store, passwordBytes: 24 }),
    ingestStats: new IngestStats(),
    enrolmentEnabled: true,
    broker: () => ({ mode: 'embedded', port: 1883, connected: true }),
    models: services.models,
    assignments: services.assignments,
    artifacts: services.artifacts,
    signingKey: services.signer.info,
    maxUploadBytes,
    tokens: [
      { name: 'test-admin', role: 'admin', tokenSha256: hashApiToken(adminToken) },
      { name: 'test-viewer', role: 'viewer', tokenSha256: hashApiToken(viewerToken) },
    ],
    ...overrides,
  };
  const app = await buildHttpApp(context, logger, {
    rateLimit: options.rateLimit ?? { enabled: false, max: 1, timeWindowMs: 1000 },
  });
  t.after(() => app.close());
  const call = (opts: InjectOptions, token: string | null = adminToken) =>
    app.inject({
      ...opts,
      headers: { ...(opts.headers ?? {}), ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    });
  return { app, services, adminToken, viewerToken, dataDir, logged, call };
}

export function errorCode(res: LightMyRequestResponse): string | undefined {
  return (res.json() as { error?: { code?: string } }).error?.code;
}

/**
 * Cleanups for a `describe` block whose resources live across its tests: `scope.t` collects them as
 * `t.after` does in one test, `scope.close()` (from the suite's `after`) runs them last-first.
 */
export function suiteScope(): { t: After; close: () => Promise<void> } {
  const cleanups: (() => void | Promise<void>)[] = [];
  return {
    t: { after: (fn) => void cleanups.push(fn) },
    close: async () => {
      for (const fn of cleanups.reverse()) await fn();
      cleanups.length = 0;
    },
  };
}

export interface SuiteApi {
  readonly store: Store;
  readonly api: TestApi;
  /** Collects cleanups that run when the block ends (for a second API built inside a test). */
  readonly t: After;
}

/**
 * One API over a fresh, migrated PGlite store for all the tests of a `describe` block: registers the block's
 * `before` (build) and `after` (close the API's resources, then the store). Read the fields inside tests and hooks.
 */
export function suiteApi(): SuiteApi {
  const { t, close } = suiteScope();
  const suite = { t } as { store: Store; api: TestApi; t: After };
  before(async () => {
    suite.store = await createPgliteStore();
    await suite.store.migrate();
    suite.api = await testApi(t, suite.store);
  });
  after(async () => {
    await close();
    await suite.store.close();
  });
  return suite;
}
