import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IngestStats } from '../src/ingest/ingest-stats.js';
import { verifyPassword } from '../src/broker/device-credentials.js';
import type { ApiContext } from '../src/api/api-context.js';
import type { Store } from '../src/storage/store.js';
import { testApi } from './api-test-kit.js';
import { makeRows } from './store-conformance.js';
import { STORE_KINDS, lifo, openTestStore } from './ingest-test-kit.js';

async function app(
  t: { after: (fn: () => void | Promise<void>) => void },
  store: Store,
  overrides: Partial<ApiContext> = {},
) {
  const api = await testApi(t, store, overrides);
  return { app: { inject: (opts: Parameters<typeof api.call>[0]) => api.call(opts) }, logged: api.logged };
}

for (const kind of STORE_KINDS) {
  describe(`REST API (${kind})`, () => {
    test('POST /api/v1/devices enrols once, returns the password once and stores only its salted hash', async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const { app: api } = await app(t, store);
      const res = await api.inject({ method: 'POST', url: '/api/v1/devices', payload: { deviceId: 'cam-box-1' } });
      assert.equal(res.statusCode, 201);
      const body = res.json() as {
        deviceId: string;
        username: string;
        password: string;
        clientId: string;
        mqtt: { port: number };
      };
      assert.equal(body.username, 'cam-box-1');
      assert.equal(body.clientId, 'edge-cam-box-1');
      assert.equal(body.mqtt.port, 1883);
      assert.ok(body.password.length >= 32);
      const hash = await store.deviceCredential('cam-box-1');
      assert.match(hash ?? '', /^sha256\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]{44}$/);
      assert.ok(!(hash ?? '').includes(body.password));
      assert.equal(await verifyPassword(body.password, hash as string), true);
      assert.equal(await verifyPassword(`${body.password}x`, hash as string), false);

      const again = await api.inject({ method: 'POST', url: '/api/v1/devices', payload: { deviceId: 'cam-box-1' } });
      assert.equal(again.statusCode, 409);
      assert.equal((again.json() as { error: { code: string } }).error.code, 'CP_ERR_DEVICE_EXISTS');
      const rotated = await api.inject({
        method: 'POST',
        url: '/api/v1/devices',
        payload: { deviceId: 'cam-box-1', rotate: true },
      });
      assert.equal(rotated.statusCode, 201);
      assert.notEqual((rotated.json() as { password: string }).password, body.password);

      const listed = await api.inject({ method: 'GET', url: '/api/v1/devices' });
      assert.ok(!listed.body.includes('sha256$'), 'hashes never leave the store');
      assert.equal(
        (listed.json() as { devices: { id: string; enrolled: boolean }[] }).devices.find((d) => d.id === 'cam-box-1')
          ?.enrolled,
        true,
      );
    });

    test('bad requests answer 400/404 with a catalogue code', async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const { app: api } = await app(t, store);
      for (const payload of [{ deviceId: 'has space' }, { deviceId: 'a/b' }, {}, { deviceId: 'ok', extra: 1 }]) {
        const res = await api.inject({ method: 'POST', url: '/api/v1/devices', payload });
        assert.equal(res.statusCode, 400, JSON.stringify(payload));
        assert.equal((res.json() as { error: { code: string } }).error.code, 'CP_ERR_VALIDATION');
      }
      const badLimit = await api.inject({ method: 'GET', url: '/api/v1/devices/d1/cameras/c1/detections?limit=0' });
      assert.equal(badLimit.statusCode, 400);
      const missing = await api.inject({ method: 'GET', url: '/api/v1/devices/nobody' });
      assert.equal(missing.statusCode, 404);
      assert.equal((missing.json() as { error: { code: string } }).error.code, 'CP_ERR_DEVICE_NOT_FOUND');
      const route = await api.inject({ method: 'GET', url: '/nope' });
      assert.equal(route.statusCode, 404);
      assert.equal((route.json() as { error: { code: string } }).error.code, 'CP_ERR_NOT_FOUND');
    });

    test('enrolment can be disabled', async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const { app: api } = await app(t, store, { enrolmentEnabled: false });
      const res = await api.inject({ method: 'POST', url: '/api/v1/devices', payload: { deviceId: 'd1' } });
      assert.equal(res.statusCode, 403);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'CP_ERR_ENROLMENT_DISABLED');
    });

    test("GET detections returns the camera's most recent detections, newest first, limited", async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const rows = makeRows('d1', 'c1', { frames: 10, perFrame: 2, startMs: Date.UTC(2030, 0, 1) });
      await store.insertBatch(rows.frames, rows.detections);
      const { app: api } = await app(t, store);
      const res = await api.inject({ method: 'GET', url: '/api/v1/devices/d1/cameras/c1/detections?limit=3' });
      assert.equal(res.statusCode, 200);
      const body = res.json() as { detections: { seq: number; ts: string; box: number[]; label: string }[] };
      assert.deepEqual(
        body.detections.map((d) => d.seq),
        [20, 19, 18],
      );
      assert.equal(body.detections[0]?.ts, new Date(Date.UTC(2030, 0, 1) + 900).toISOString());
      assert.deepEqual(body.detections[0]?.box, [10.25, 20.5, 100, 200.75]);
      const all = await api.inject({ method: 'GET', url: '/api/v1/devices/d1/cameras/c1/detections' });
      assert.equal((all.json() as { detections: unknown[] }).detections.length, 20);
    });

    test('GET /healthz is 200 with a live database and 503 without; GET ingest stats returns the counters', async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const stats = new IngestStats();
      stats.received.detections = 3;
      stats.rejected.decode = 1;
      const { app: api } = await app(t, store, { ingestStats: stats });
      const ok = await api.inject({ method: 'GET', url: '/healthz' });
      assert.equal(ok.statusCode, 200);
      assert.equal((ok.json() as { store: string }).store, kind);
      const s = (await api.inject({ method: 'GET', url: '/api/v1/ingest/stats' })).json() as {
        received: { detections: number };
        rejectedTotal: number;
      };
      assert.equal(s.received.detections, 3);
      assert.equal(s.rejectedTotal, 1);
      const broken: Store = {
        ...store,
        kind: store.kind,
        ping: () => Promise.reject(new Error('connection refused')),
      } as Store;
      const down = await app(t, broken);
      const res = await down.app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(res.statusCode, 503);
    });
  });
}
