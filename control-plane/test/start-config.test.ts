import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type { ControlPlaneConfig } from '../src/config/control-plane-config-schema.js';
import { configReference } from '../src/config/config-reference.js';
import { isCpError } from '../src/errors.js';
import { loadControlPlaneConfig, parseControlPlaneConfig } from '../src/config/load-control-plane-config.js';
import { redactUrl } from '@edgefleet/service-kit';
import { tempDir } from '@edgefleet/service-kit/testing';

// Compile-time: what the loader derives is present in the resolved type, and an external broker has a url.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
type External = Extract<ControlPlaneConfig['mqtt'], { mode: 'external' }>;
export type TypeChecks = [
  Expect<Equal<ControlPlaneConfig['signing']['keyFile'], string>>,
  Expect<Equal<ControlPlaneConfig['auth']['adminTokenFile'], string>>,
  Expect<Equal<ControlPlaneConfig['mqtt']['clientId'], string>>,
  Expect<Equal<External['url'], string>>,
];

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(isCpError(err, 'CP_ERR_CONFIG_INVALID'), String(err));
    return err.details as string[];
  }
  assert.fail('expected CP_ERR_CONFIG_INVALID');
}

test('defaults: embedded broker on 1883, REST on loopback 8080, PGlite under ./.data/control-plane, 30 days retention', () => {
  const c = parseControlPlaneConfig({}, { baseDir: '/srv/cp' });
  assert.equal(c.dataDir, '/srv/cp/.data/control-plane');
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.mqtt.mode, 'embedded');
  assert.equal(c.mqtt.port, 1883);
  assert.equal(c.mqtt.topicPrefix, 'fleet/v1');
  assert.equal(c.mqtt.sharedGroup, 'ingest');
  assert.match(c.mqtt.clientId ?? '', /^cp-/);
  assert.deepEqual(c.http, {
    host: '127.0.0.1',
    port: 8080,
    rateLimit: { enabled: true, max: 600, timeWindowMs: 60_000 },
  });
  assert.deepEqual(c.grpc, {
    enabled: true,
    host: '0.0.0.0',
    port: 50_051,
    chunkCacheBytes: 256 * 1024 * 1024,
    authCacheTtlMs: 30_000,
    keepaliveTimeMs: 30_000,
  });
  assert.equal(c.auth.adminTokenFile, '/srv/cp/.data/control-plane/admin.token');
  assert.equal(c.signing.keyFile, '/srv/cp/.data/control-plane/keys/model-signing-key.pem');
  assert.deepEqual(c.auth.tokens, []);
  assert.equal(c.assignments.resyncIntervalMs, 2000);
  assert.equal(c.retention.days, 30);
  assert.equal(c.retention.partitionsAhead, 3);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.mqtt));
});

test('CP_* environment variables override the file, converted by type', () => {
  const c = parseControlPlaneConfig(
    { mqtt: { port: 1884 } },
    {
      env: {
        CP_DATABASE_URL: 'postgres://u:p@db:5432/cp',
        CP_MQTT__PORT: '0',
        CP_HTTP__HOST: '0.0.0.0',
        CP_ENROLMENT__ENABLED: 'false',
        CP_INGEST: '{"batchMaxRows":100}',
      },
    },
  );
  assert.equal(c.databaseUrl, 'postgres://u:p@db:5432/cp');
  assert.equal(c.mqtt.port, 0);
  assert.equal(c.http.host, '0.0.0.0');
  assert.equal(c.enrolment.enabled, false);
  assert.equal(c.ingest.batchMaxRows, 100);
  assert.equal(c.ingest.flushIntervalMs, 5, 'defaults fill the rest of an object given as JSON');
});

test('every problem is reported at once, with the variable that caused it', () => {
  const found = problems(() =>
    parseControlPlaneConfig(
      { mqtt: { mode: 'external', port: 70000 }, http: { prot: 1 }, retention: { days: 0 } },
      { env: { CP_MQTT__PROT: '1', CP_INGEST__BATCH_MAX_ROWS: 'many', CP_DATABASE_URL: 'mysql://x' } },
    ),
  );
  const text = found.join('\n');
  assert.match(text, /CP_MQTT__PROT: no setting PROT under \/mqtt/);
  assert.match(text, /\/mqtt\/port: .*70000/);
  assert.match(text, /\/http.*prot|\/http\/prot/);
  assert.match(text, /\/retention\/days/);
  assert.match(text, /\/ingest\/batchMaxRows: .*"many" \(from CP_INGEST__BATCH_MAX_ROWS\)/);
  assert.match(text, /\/databaseUrl: .* \(from CP_DATABASE_URL\)/);
  assert.match(text, /\/mqtt\/url: required when \/mqtt\/mode is "external"/);
});

test('a config file: relative dataDir resolves against its directory; unreadable or invalid JSON is CP_ERR_CONFIG_READ', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'cp.json');
  writeFileSync(file, JSON.stringify({ dataDir: 'state', http: { port: 9000 } }));
  const c = loadControlPlaneConfig(file, {});
  assert.equal(c.dataDir, join(dir, 'state'));
  assert.equal(c.http.port, 9000);
  writeFileSync(file, '{ "http": ');
  assert.throws(
    () => loadControlPlaneConfig(file, {}),
    (err: unknown) => isCpError(err, 'CP_ERR_CONFIG_READ') && /invalid JSON/.test(err.message),
  );
  assert.throws(
    () => loadControlPlaneConfig(join(dir, 'missing.json'), {}),
    (err: unknown) => isCpError(err, 'CP_ERR_CONFIG_READ') && /ENOENT/.test(err.message),
  );
});

test('CP_* variables reach list items by index, and name a missing item or a non-index instead of ignoring it', () => {
  const token = { name: 'ops', role: 'admin', tokenSha256: 'a'.repeat(64) };
  const c = parseControlPlaneConfig(
    { auth: { tokens: [token, { ...token, name: 'ci' }] } },
    { env: { CP_AUTH__TOKENS__1__ROLE: 'viewer', CP_AUTH__TOKENS__0__NAME: 'operator' } },
  );
  assert.deepEqual(
    c.auth.tokens.map((t) => [t.name, t.role]),
    [
      ['operator', 'admin'],
      ['ci', 'viewer'],
    ],
  );
  assert.deepEqual(
    problems(() =>
      parseControlPlaneConfig(
        { auth: { tokens: [token] } },
        {
          env: {
            CP_AUTH__TOKENS__2__ROLE: 'viewer',
            CP_AUTH__TOKENS__OPS__ROLE: 'viewer',
            CP_AUTH__TOKENS__0__ROLE: 'root',
          },
        },
      ),
    ),
    [
      'CP_AUTH__TOKENS__2__ROLE: /auth/tokens has 1 item(s); there is no item 2 to override (add it to the file)',
      'CP_AUTH__TOKENS__OPS__ROLE: /auth/tokens is a list: expected an item index, got OPS',
      '/auth/tokens/0/role: expected one of "admin", "viewer", got "root" (from CP_AUTH__TOKENS__0__ROLE)',
    ],
  );
});

test('a config file that is not JSON is CP_ERR_CONFIG_READ with the line and column of the syntax error', (t) => {
  const file = join(tempDir(t), 'cp.json');
  writeFileSync(file, '{\n  "http": { "port": 9000 },,\n}\n');
  assert.throws(
    () => loadControlPlaneConfig(file, {}),
    (err: unknown) => {
      assert.ok(isCpError(err, 'CP_ERR_CONFIG_READ'), String(err));
      assert.match(err.message, /cp\.json:2:28: invalid JSON: /);
      assert.deepEqual(err.details, { path: file, line: 2, column: 28, position: 29 });
      return true;
    },
  );
});

test('redactUrl hides passwords in database and broker URLs', () => {
  assert.equal(redactUrl('postgres://cp:s3cret@db:5432/fleet'), 'postgres://cp:***@db:5432/fleet');
  assert.equal(redactUrl('mqtt://broker:1883'), 'mqtt://broker:1883');
  // Not parseable as a URL: the user info is still recognised and masked.
  assert.equal(redactUrl('postgres://cp:s3cret@[bad'), 'postgres://cp:***@[bad');
});

test('README.md embeds the configuration reference generated from the schema', () => {
  const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'README.md'), 'utf8');
  assert.ok(
    readme.includes(configReference()),
    'regenerate the table with configReference() and paste it under "## Configuration"',
  );
});
