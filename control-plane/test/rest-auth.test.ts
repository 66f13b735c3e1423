import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ControlPlane } from '../src/server/control-plane.js';
import { createLogger, silentLogger } from '@edgefleet/service-kit';
import { createPgliteStore } from '../src/storage/pglite-store.js';
import { generateApiToken, hashApiToken } from '../src/auth/api-token.js';
import { parseControlPlaneConfig } from '../src/config/load-control-plane-config.js';
import { errorCode, suiteApi, testApi } from './api-test-kit.js';
import { basicAuth, fleetControlClient, StreamReader, streamError, watchRequest } from './grpc-test-kit.js';
import { lifo } from './ingest-test-kit.js';
import { tempDir } from '@edgefleet/service-kit/testing';

/** Bearer tokens and roles, the OpenAPI document, rate limiting, and secrets kept out of logs. */

describe('REST authentication, roles and the OpenAPI document', () => {
  const suite = suiteApi();

  test('no token, a malformed header or an unknown token: 401 CP_ERR_UNAUTHENTICATED with WWW-Authenticate: Bearer', async () => {
    for (const authorization of [undefined, 'Basic YTpi', 'Bearer', `Bearer ${generateApiToken()}`]) {
      const res = await suite.api.app.inject({
        method: 'GET',
        url: '/api/v1/devices',
        headers: authorization === undefined ? {} : { authorization },
      });
      assert.equal(res.statusCode, 401, String(authorization));
      assert.equal(errorCode(res), 'CP_ERR_UNAUTHENTICATED');
      assert.match(String(res.headers['www-authenticate']), /^Bearer /);
    }
    // Unknown routes do not tell anonymous callers what exists.
    assert.equal((await suite.api.app.inject({ method: 'GET', url: '/api/v1/nothing-here' })).statusCode, 401);
    assert.equal(errorCode(await suite.api.call({ method: 'GET', url: '/api/v1/nothing-here' })), 'CP_ERR_NOT_FOUND');
  });

  test('a viewer may GET; every change needs an admin (403 CP_ERR_FORBIDDEN), enrolment included', async () => {
    assert.equal(
      (await suite.api.call({ method: 'GET', url: '/api/v1/devices' }, suite.api.viewerToken)).statusCode,
      200,
    );
    assert.equal(
      (await suite.api.call({ method: 'GET', url: '/api/v1/audit' }, suite.api.viewerToken)).statusCode,
      200,
    );
    const enrol = await suite.api.call(
      { method: 'POST', url: '/api/v1/devices', payload: { deviceId: 'box-1' } },
      suite.api.viewerToken,
    );
    assert.equal(enrol.statusCode, 403);
    assert.equal(errorCode(enrol), 'CP_ERR_FORBIDDEN');
    assert.equal(await suite.store.getDevice('box-1'), null);
    const admin = await suite.api.call({ method: 'POST', url: '/api/v1/devices', payload: { deviceId: 'box-1' } });
    assert.equal(admin.statusCode, 201);
    const audit = (
      await suite.api.call({ method: 'GET', url: '/api/v1/audit?target=device:box-1' }, suite.api.viewerToken)
    ).json() as { entries: { action: string; actor: string }[] };
    assert.deepEqual(
      audit.entries.map((e) => [e.action, e.actor]),
      [['device.enrol', 'token:test-admin']],
    );
  });

  test('/healthz, /openapi.json and /docs need no token', async () => {
    assert.equal((await suite.api.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    assert.equal((await suite.api.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode, 200);
    const docs = await suite.api.app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger/i);
  });

  test('the OpenAPI document validates against the OpenAPI 3 schema and describes every route, its auth and the upload body', async () => {
    const doc = (await suite.api.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { security?: unknown[]; requestBody?: { content: Record<string, unknown> } }>
      >;
      components: { securitySchemes: Record<string, { scheme: string }> };
    };
    const result = await new Validator().validate(doc);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.match(doc.openapi, /^3\.0\./);
    assert.equal(doc.components.securitySchemes.bearer?.scheme, 'bearer');
    for (const path of [
      '/api/v1/models',
      '/api/v1/models/{serial}',
      '/api/v1/models/{serial}/artifact',
      '/api/v1/signing-key',
      '/api/v1/devices',
      '/api/v1/devices/{device}/cameras',
      '/api/v1/cameras',
      '/api/v1/devices/{device}/assignments',
      '/api/v1/devices/{device}/cameras/{camera}/assignment',
      '/api/v1/devices/{device}/cameras/{camera}/assignment/promote',
      '/api/v1/devices/{device}/cameras/{camera}/assignment/rollback',
      '/api/v1/devices/{device}/model-status',
      '/api/v1/assignments',
      '/api/v1/model-status',
      '/api/v1/audit',
    ]) {
      assert.ok(doc.paths[path], `${path} is documented`);
    }
    assert.ok(doc.paths['/api/v1/models']?.post?.requestBody?.content['application/octet-stream']);
    assert.deepEqual(doc.paths['/healthz']?.get?.security, []);
  });

  test('rate limiting answers 429 CP_ERR_RATE_LIMITED past the limit; /healthz is exempt', async () => {
    const limited = await testApi(
      suite.t,
      suite.store,
      {},
      { rateLimit: { enabled: true, max: 3, timeWindowMs: 60_000 } },
    );
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await limited.call({ method: 'GET', url: '/api/v1/devices' })).statusCode);
    assert.deepEqual(codes, [200, 200, 200, 429, 429]);
    const res = await limited.call({ method: 'GET', url: '/api/v1/devices' });
    assert.equal(errorCode(res), 'CP_ERR_RATE_LIMITED');
    assert.ok(Number(res.headers['retry-after']) > 0);
    assert.equal((await limited.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  });
});

test('no secrets in logs: tokens, enrolment passwords and device credentials never reach a log line, even at debug level', async (tc) => {
  const t = lifo(tc);
  const lines: string[] = [];
  const store = await createPgliteStore();
  await store.migrate();
  t.after(() => store.close());
  const config = parseControlPlaneConfig({
    dataDir: tempDir(tc),
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    grpc: { host: '127.0.0.1', port: 0 },
    log: { level: 'debug' },
  });
  const cp = new ControlPlane(config, { store, logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }) });
  await cp.start();
  t.after(() => cp.stop());
  const http = `http://127.0.0.1:${cp.info.http.port}`;
  const admin = cp.adminToken as string;
  const enrol = await fetch(`${http}/api/v1/devices`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({ deviceId: 'box-secret' }),
  });
  const { password } = (await enrol.json()) as { password: string };
  const wrongToken = generateApiToken();
  assert.equal(
    (await fetch(`${http}/api/v1/devices`, { headers: { authorization: `Bearer ${wrongToken}` } })).status,
    401,
  );
  const client = fleetControlClient(t, `127.0.0.1:${cp.info.grpc?.port}`);
  const reader = new StreamReader(
    client.watchAssignments(watchRequest('box-secret'), basicAuth('box-secret', password)),
  );
  await reader.next();
  reader.cancel();
  await streamError(client.watchAssignments(watchRequest('box-secret'), basicAuth('box-secret', `${password}-wrong`)));
  await cp.stop();
  const text = lines.join('\n');
  assert.ok(
    lines.some((l) => l.includes('admin token generated')),
    'the token file is announced',
  );
  assert.ok(text.includes(join(config.dataDir, 'admin.token')), 'by its path');
  for (const secret of [admin, password, wrongToken, Buffer.from(`box-secret:${password}`).toString('base64')]) {
    assert.ok(!text.includes(secret), 'a secret reached the log');
  }
});

test('with auth.tokens configured, only those tokens work and no bootstrap token is made', async (tc) => {
  const t = lifo(tc);
  const store = await createPgliteStore();
  await store.migrate();
  t.after(() => store.close());
  const viewer = generateApiToken();
  const dataDir = tempDir(tc);
  const config = parseControlPlaneConfig({
    dataDir,
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    grpc: { enabled: false },
    auth: { tokens: [{ name: 'grafana', role: 'viewer', tokenSha256: hashApiToken(viewer) }] },
  });
  const cp = new ControlPlane(config, { store, logger: silentLogger });
  await cp.start();
  t.after(() => cp.stop());
  assert.equal(cp.adminToken, null);
  assert.equal(cp.info.adminTokenFile, null);
  assert.equal(cp.info.grpc, null);
  assert.equal(existsSync(join(dataDir, 'admin.token')), false);
  const http = `http://127.0.0.1:${cp.info.http.port}`;
  assert.equal((await fetch(`${http}/api/v1/models`, { headers: { authorization: `Bearer ${viewer}` } })).status, 200);
  const post = await fetch(`${http}/api/v1/devices`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${viewer}` },
    body: '{"deviceId":"x"}',
  });
  assert.equal(post.status, 403);
});
