import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AssignmentSnapshot } from '@edgefleet/proto';
import { ControlPlane } from '../src/server/control-plane.js';
import { createPgliteStore } from '../src/storage/pglite-store.js';
import { isCpError } from '../src/errors.js';
import { parseControlPlaneConfig } from '../src/config/load-control-plane-config.js';
import { silentLogger } from '@edgefleet/service-kit';
import type { ControlPlaneConfigInput } from '../src/config/control-plane-config-schema.js';
import { basicAuth, fleetControlClient, grpc, StreamReader, streamError, watchRequest } from './grpc-test-kit.js';
import { lifo } from './ingest-test-kit.js';
import { makeTestPki } from './test-certificates.js';
import { tempDir } from '@edgefleet/service-kit/testing';

/** gRPC over TLS and mTLS (client certificate CN = device id), with certificates made by openssl. */

type After = { after: (fn: () => void | Promise<void>) => void };

async function controlPlane(
  t: After,
  dataDir: string,
  grpcConfig: ControlPlaneConfigInput['grpc'],
): Promise<{ cp: ControlPlane; password: string }> {
  const store = await createPgliteStore();
  await store.migrate();
  t.after(() => store.close());
  const config = parseControlPlaneConfig({
    dataDir,
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    grpc: { host: '127.0.0.1', port: 0, ...grpcConfig },
  });
  const cp = new ControlPlane(config, { store, logger: silentLogger });
  await cp.start();
  t.after(() => cp.stop());
  const res = await fetch(`http://127.0.0.1:${cp.info.http.port}/api/v1/devices`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${cp.adminToken}` },
    body: JSON.stringify({ deviceId: 'dev-a' }),
  });
  assert.equal(res.status, 201);
  return { cp, password: ((await res.json()) as { password: string }).password };
}

/** localhost is the name in the server certificate; the connection goes to 127.0.0.1. */
const TARGET = { 'grpc.ssl_target_name_override': 'localhost' };

test('TLS: an agent that trusts the CA watches its assignments; a plaintext client cannot connect', async (tc) => {
  const t = lifo(tc);
  const dir = tempDir(tc);
  const pki = makeTestPki(dir);
  const { cp, password } = await controlPlane(t, join(dir, 'cp'), {
    tlsCertFile: pki.serverCert,
    tlsKeyFile: pki.serverKey,
  });
  assert.equal(cp.info.grpc?.security, 'tls');
  const address = `127.0.0.1:${cp.info.grpc?.port}`;
  const secure = fleetControlClient(t, address, grpc.credentials.createSsl(readFileSync(pki.caCert)), TARGET);
  const reader = new StreamReader<AssignmentSnapshot>(
    secure.watchAssignments(watchRequest('dev-a'), basicAuth('dev-a', password)),
  );
  assert.equal((await reader.next()).deviceId, 'dev-a');
  reader.cancel();
  const plain = fleetControlClient(t, address);
  assert.equal(
    (await streamError(plain.watchAssignments(watchRequest('dev-a'), basicAuth('dev-a', password)))).code,
    grpc.status.UNAVAILABLE,
  );
});

test('mTLS: the client certificate must chain to the CA and name the calling device', async (tc) => {
  const t = lifo(tc);
  const dir = tempDir(tc);
  const pki = makeTestPki(dir);
  const { cp, password } = await controlPlane(t, join(dir, 'cp'), {
    tlsCertFile: pki.serverCert,
    tlsKeyFile: pki.serverKey,
    tlsClientCaFile: pki.caCert,
  });
  assert.equal(cp.info.grpc?.security, 'mtls');
  const address = `127.0.0.1:${cp.info.grpc?.port}`;
  const ca = readFileSync(pki.caCert);
  const withCert = (c: { cert: string; key: string }) =>
    grpc.credentials.createSsl(ca, readFileSync(c.key), readFileSync(c.cert));
  const creds = basicAuth('dev-a', password);

  const own = fleetControlClient(t, address, withCert(pki.client('dev-a')), TARGET);
  const reader = new StreamReader<AssignmentSnapshot>(own.watchAssignments(watchRequest('dev-a'), creds));
  assert.equal((await reader.next()).deviceId, 'dev-a');
  reader.cancel();

  // dev-a's password over a connection authenticated as dev-b: refused.
  const other = fleetControlClient(t, address, withCert(pki.client('dev-b')), TARGET);
  const mismatch = await streamError(other.watchAssignments(watchRequest('dev-a'), creds));
  assert.equal(mismatch.code, grpc.status.UNAUTHENTICATED);
  assert.match(mismatch.details, /CN "dev-b" is not device dev-a/);

  // No client certificate, or one from another CA: the handshake fails.
  const none = fleetControlClient(t, address, grpc.credentials.createSsl(ca), TARGET);
  assert.equal((await streamError(none.watchAssignments(watchRequest('dev-a'), creds))).code, grpc.status.UNAVAILABLE);
  const foreign = fleetControlClient(t, address, withCert(pki.client('dev-a', { otherCa: true })), TARGET);
  assert.equal(
    (await streamError(foreign.watchAssignments(watchRequest('dev-a'), creds))).code,
    grpc.status.UNAVAILABLE,
  );
});

test('TLS files that cannot be read stop the start with CP_ERR_TLS; mTLS without a server certificate is a configuration error', async (tc) => {
  const t = lifo(tc);
  const dir = tempDir(tc);
  await assert.rejects(
    controlPlane(t, join(dir, 'cp'), { tlsCertFile: join(dir, 'missing.crt'), tlsKeyFile: join(dir, 'missing.key') }),
    (err: unknown) => isCpError(err, 'CP_ERR_TLS'),
  );
  assert.throws(
    () => parseControlPlaneConfig({ grpc: { tlsClientCaFile: 'ca.crt' } }),
    (err: unknown) =>
      isCpError(err, 'CP_ERR_CONFIG_INVALID') &&
      /tlsClientCaFile/.test((err as Error).message) &&
      /tlsCertFile/.test((err as Error).message),
  );
});
