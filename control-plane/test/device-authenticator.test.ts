import { systemClock } from '@edgefleet/service-kit';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { createPgliteStore } from '../src/storage/pglite-store.js';
import { DeviceAuthenticator } from '../src/grpc/device-authenticator.js';
import {
  DeviceCredentials,
  hashPassword,
  hashPasswordScrypt,
  verifyPassword,
} from '../src/broker/device-credentials.js';
import { isCpError } from '../src/errors.js';
import { lifo } from './ingest-test-kit.js';

/** The gRPC device authenticator over real stored credentials, counting the verifications it runs. */

function basic(deviceId: string, password: string): { metadata: Metadata } {
  const metadata = new Metadata();
  metadata.set('authorization', `Basic ${Buffer.from(`${deviceId}:${password}`).toString('base64')}`);
  return { metadata };
}

async function setup(t: { after: (fn: () => Promise<void>) => void }, ttlMs: number, requireCertificate = false) {
  const store = await createPgliteStore();
  await store.migrate();
  t.after(() => store.close());
  const credentials = new DeviceCredentials({ store, passwordBytes: 24 });
  const { password } = await credentials.enrol('box-1');
  let verifications = 0;
  let now = 1_000_000;
  const counting = {
    verify: (d: string, p: string) => {
      verifications++;
      return credentials.verify(d, p);
    },
  };
  const auth = new DeviceAuthenticator({
    credentials: counting,
    ttlMs,
    requireCertificate,
    clock: { ...systemClock, now: () => now },
  });
  return { auth, password, verifications: () => verifications, advance: (ms: number) => (now += ms) };
}

test('a verified credential is trusted for the TTL, and a reconnect storm of one device verifies once', async (tc) => {
  const t = lifo(tc);
  const s = await setup(t, 30_000);
  const ids = await Promise.all(Array.from({ length: 20 }, () => s.auth.authenticate(basic('box-1', s.password))));
  assert.deepEqual(new Set(ids), new Set(['box-1']));
  assert.equal(s.verifications(), 1);
  s.advance(29_000);
  await s.auth.authenticate(basic('box-1', s.password));
  assert.equal(s.verifications(), 1);
  s.advance(2_000);
  await s.auth.authenticate(basic('box-1', s.password));
  assert.equal(s.verifications(), 2, 'verified again after the TTL');
});

test('wrong passwords are never cached; malformed or missing credentials fail before any hash check', async (tc) => {
  const t = lifo(tc);
  const s = await setup(t, 30_000);
  const unauthenticated = (err: unknown) => isCpError(err, 'CP_ERR_UNAUTHENTICATED');
  for (let i = 0; i < 2; i++) await assert.rejects(s.auth.authenticate(basic('box-1', 'wrong')), unauthenticated);
  assert.equal(s.verifications(), 2);
  await assert.rejects(s.auth.authenticate(basic('nobody', s.password)), unauthenticated);
  const before = s.verifications();
  await assert.rejects(s.auth.authenticate({ metadata: new Metadata() }), unauthenticated);
  const bearer = new Metadata();
  bearer.set('authorization', 'Bearer abc');
  await assert.rejects(s.auth.authenticate({ metadata: bearer }), unauthenticated);
  await assert.rejects(s.auth.authenticate(basic('has space', 'x')), unauthenticated);
  assert.equal(s.verifications(), before);
});

test('with mTLS required, the certificate CN must be the device of the credentials', async (tc) => {
  const t = lifo(tc);
  const s = await setup(t, 30_000, true);
  assert.equal(await s.auth.authenticate({ ...basic('box-1', s.password), certificateCommonName: 'box-1' }), 'box-1');
  await assert.rejects(
    s.auth.authenticate({ ...basic('box-1', s.password), certificateCommonName: 'box-2' }),
    (err: unknown) => isCpError(err, 'CP_ERR_UNAUTHENTICATED'),
  );
  await assert.rejects(s.auth.authenticate(basic('box-1', s.password)), (err: unknown) =>
    isCpError(err, 'CP_ERR_UNAUTHENTICATED'),
  );
});

test('a TTL of 0 verifies every call', async (tc) => {
  const t = lifo(tc);
  const s = await setup(t, 0);
  await s.auth.authenticate(basic('box-1', s.password));
  await s.auth.authenticate(basic('box-1', s.password));
  assert.equal(s.verifications(), 2);
});

test('device passwords are stored as salted SHA-256; hashes of the earlier scrypt format still verify', async () => {
  const stored = await hashPassword('pw-of-box');
  assert.match(stored, /^sha256\$/);
  assert.equal(await verifyPassword('pw-of-box', stored), true);
  assert.equal(await verifyPassword('pw-of-boy', stored), false);
  assert.notEqual(await hashPassword('pw-of-box'), stored, 'salted: the same password hashes differently');
  const legacy = await hashPasswordScrypt('pw-of-box');
  assert.match(legacy, /^scrypt\$16384\$8\$1\$/);
  assert.equal(await verifyPassword('pw-of-box', legacy), true);
  assert.equal(await verifyPassword('pw-of-boy', legacy), false);
  for (const bad of ['', 'sha256$', 'sha256$abc$def', 'md5$x$y', 'scrypt$1$2'])
    assert.equal(await verifyPassword('x', bad), false, bad);
});
