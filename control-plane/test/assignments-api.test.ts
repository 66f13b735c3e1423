import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Store } from '../src/storage/store.js';
import { errorCode, suiteScope, testApi, type TestApi } from './api-test-kit.js';
import { openTestStore, STORE_KINDS } from './ingest-test-kit.js';
import { tinyDetector } from './model-files.js';

/**
 * Per-camera assignments over REST on PostgreSQL and PGlite: assign (full, split, shadow), promote,
 * rollback (previous, named), their revisions, history and audit entries, the checks around them, and the
 * events the gRPC watchers listen to.
 */

interface Assignment {
  revision: number;
  primary: { serial: number };
  candidate: { serial: number } | null;
  candidateMode: string | null;
  splitBasisPoints: number;
  splitPercent: number;
  rollback: boolean;
  reason: string;
  previousPrimaries: number[];
  updatedBy: string;
  policy: Record<string, number> | null;
}

for (const kind of STORE_KINDS) {
  describe(`assignments over REST (${kind})`, () => {
    let store: Store;
    let api: TestApi;
    const serial: Record<string, number> = {};
    const { t, close } = suiteScope();
    let camera = 0;

    /** A fresh camera of dev-1 (as if its agent had reported it). */
    async function newCamera(): Promise<string> {
      const id = `cam-${++camera}`;
      await store.registry.upsertCameras(
        'dev-1',
        [{ cameraId: id, source: 'rtsp://x', status: 'running' }],
        Date.now(),
      );
      return id;
    }
    const path = (cam: string, suffix = '') => `/api/v1/devices/dev-1/cameras/${cam}/assignment${suffix}`;
    const put = (cam: string, body: unknown, token?: string) =>
      api.call({ method: 'PUT', url: path(cam), payload: body as object }, token);
    const post = (cam: string, action: string, body: unknown = {}) =>
      api.call({ method: 'POST', url: path(cam, `/${action}`), payload: body as object });
    const audit = async (cam: string) =>
      (
        (await api.call({ method: 'GET', url: `/api/v1/audit?target=camera:dev-1/${cam}` })).json() as {
          entries: { action: string; actor: string; details: Record<string, unknown> }[];
        }
      ).entries;

    before(async () => {
      ({ store } = await openTestStore(t, kind));
      api = await testApi(t, store);
      assert.equal(
        (await api.call({ method: 'POST', url: '/api/v1/devices', payload: { deviceId: 'dev-1' } })).statusCode,
        201,
      );
      for (const v of ['1', '2', '3', '4']) {
        const res = await api.call({
          method: 'POST',
          url: `/api/v1/models?name=tiny&version=${v}`,
          headers: { 'content-type': 'application/octet-stream' },
          payload: tinyDetector(),
        });
        assert.equal(res.statusCode, 201, res.body);
        serial[v] = (res.json() as { serial: number }).serial;
      }
    });
    after(async () => {
      await close();
    });

    test('full, split and shadow assignments each get a new revision, a history row and an audit entry, and publish an event', async () => {
      const cam = await newCamera();
      const events: { deviceId: string; cameraId?: string; revision?: number }[] = [];
      const off = api.services.bus.on('assignment.changed', (e) => events.push(e));
      const full = await put(cam, { model: serial['1'], reason: 'initial', policy: { p95LatencyBudgetMs: 80 } });
      assert.equal(full.statusCode, 200, full.body);
      const a = full.json() as Assignment;
      assert.deepEqual(
        [a.primary.serial, a.candidate, a.candidateMode, a.rollback, a.reason, a.updatedBy],
        [serial['1'], null, null, false, 'initial', 'token:test-admin'],
      );
      assert.deepEqual(a.policy, {
        maxErrorRate: 0,
        errorWindowFrames: 0,
        p95LatencyBudgetMs: 80,
        latencyWindowFrames: 0,
        crashLoopRestarts: 0,
        crashLoopWindowS: 0,
      });

      const split = (
        await put(cam, { model: serial['1'], candidate: `tiny:2`, splitPercent: 12.5 })
      ).json() as Assignment;
      assert.ok(split.revision > a.revision);
      assert.deepEqual(
        [split.candidate?.serial, split.candidateMode, split.splitBasisPoints, split.splitPercent],
        [serial['2'], 'split', 1250, 12.5],
      );
      assert.equal(split.policy?.p95LatencyBudgetMs, 80, 'the policy stays unless a new one is given');

      const shadow = (await put(cam, { model: `tiny:1`, candidate: serial['3'], mode: 'shadow' })).json() as Assignment;
      assert.ok(shadow.revision > split.revision);
      assert.deepEqual(
        [shadow.candidate?.serial, shadow.candidateMode, shadow.splitBasisPoints],
        [serial['3'], 'shadow', 0],
      );
      off();
      assert.deepEqual(
        events.map((e) => [e.deviceId, e.cameraId, e.revision]),
        [a, split, shadow].map((x) => ['dev-1', cam, x.revision]),
      );

      const history = (await api.call({ method: 'GET', url: path(cam, '/history') })).json() as {
        history: { revision: number; action: string; actor: string }[];
      };
      assert.deepEqual(
        history.history.map((h) => [h.revision, h.action]),
        [shadow, split, a].map((x) => [x.revision, 'assign']),
      );
      assert.deepEqual(
        (await audit(cam)).map((e) => [e.action, e.actor, e.details.revision]),
        [shadow, split, a].map((x) => ['assignment.assign', 'token:test-admin', x.revision]),
      );
      const all = (await api.call({ method: 'GET', url: '/api/v1/devices/dev-1/assignments' })).json() as {
        assignments: { revision: number }[];
      };
      assert.ok(all.assignments.some((x) => x.revision === shadow.revision));
    });

    test('promote makes the candidate the primary: new revision, audit entry; 409 without a candidate', async () => {
      const cam = await newCamera();
      const split = (
        await put(cam, { model: serial['1'], candidate: serial['2'], splitPercent: 10 })
      ).json() as Assignment;
      const promoted = await post(cam, 'promote', { reason: 'candidate wins' });
      assert.equal(promoted.statusCode, 200, promoted.body);
      const p = promoted.json() as Assignment;
      assert.ok(p.revision > split.revision);
      assert.deepEqual(
        [p.primary.serial, p.candidate, p.splitBasisPoints, p.rollback, p.reason, p.previousPrimaries],
        [serial['2'], null, 0, false, 'candidate wins', [serial['1']]],
      );
      assert.equal((await audit(cam))[0]?.action, 'assignment.promote');
      const again = await post(cam, 'promote');
      assert.equal(again.statusCode, 409);
      assert.equal(errorCode(again), 'CP_ERR_NO_CANDIDATE');
    });

    test('rollback goes back to the previous primary, then the one before, with rollback set; 409 when there is none', async () => {
      const cam = await newCamera();
      for (const v of ['1', '2', '3']) assert.equal((await put(cam, { model: serial[v] })).statusCode, 200);
      const first = await post(cam, 'rollback', { reason: 'v3 misses people at night' });
      assert.equal(first.statusCode, 200, first.body);
      const r1 = first.json() as Assignment;
      assert.deepEqual([r1.primary.serial, r1.rollback, r1.reason], [serial['2'], true, 'v3 misses people at night']);
      // Two steps back, not a toggle between the last two.
      const r2 = (await post(cam, 'rollback')).json() as Assignment;
      assert.deepEqual([r2.primary.serial, r2.rollback], [serial['1'], true]);
      assert.ok(r2.revision > r1.revision);
      const none = await post(cam, 'rollback');
      assert.equal(none.statusCode, 409);
      assert.equal(errorCode(none), 'CP_ERR_NO_PREVIOUS_MODEL');
      const entries = await audit(cam);
      assert.deepEqual(
        entries.slice(0, 2).map((e) => [e.action, e.details.fromPrimary, e.details.primary]),
        [
          ['assignment.rollback', serial['2'], serial['1']],
          ['assignment.rollback', serial['3'], serial['2']],
        ],
      );
    });

    test('rollback to a named model removes the candidate and forgets what came after that model', async () => {
      const cam = await newCamera();
      for (const v of ['1', '2', '3']) await put(cam, { model: serial[v] });
      await put(cam, { model: serial['3'], candidate: serial['4'], splitPercent: 5 });
      const named = (await post(cam, 'rollback', { to: 'tiny:1' })).json() as Assignment;
      assert.deepEqual(
        [named.primary.serial, named.candidate, named.rollback, named.previousPrimaries],
        [serial['1'], null, true, []],
      );
      assert.equal(errorCode(await post(cam, 'rollback')), 'CP_ERR_NO_PREVIOUS_MODEL');
      const unknown = await post(cam, 'rollback', { to: 'tiny:99' });
      assert.equal(unknown.statusCode, 404);
      assert.equal(errorCode(unknown), 'CP_ERR_MODEL_NOT_FOUND');
    });

    test('an older model than the current primary is a rollback, not an assignment: 409 CP_ERR_DOWNGRADE', async () => {
      const cam = await newCamera();
      await put(cam, { model: serial['2'] });
      const down = await put(cam, { model: serial['1'] });
      assert.equal(down.statusCode, 409);
      assert.equal(errorCode(down), 'CP_ERR_DOWNGRADE');
    });

    test('unknown device, camera or model: 404 with the code; a camera not reported yet can be provisioned', async () => {
      assert.equal(
        errorCode(
          await api.call({
            method: 'PUT',
            url: '/api/v1/devices/nobody/cameras/c/assignment',
            payload: { model: serial['1'] },
          }),
        ),
        'CP_ERR_DEVICE_NOT_FOUND',
      );
      const unseen = await put('cam-not-yet', { model: serial['1'] });
      assert.equal(unseen.statusCode, 404);
      assert.equal(errorCode(unseen), 'CP_ERR_CAMERA_NOT_FOUND');
      assert.equal(errorCode(await put(await newCamera(), { model: 999999 })), 'CP_ERR_MODEL_NOT_FOUND');
      const provisioned = await put('cam-not-yet', { model: serial['1'], provision: true });
      assert.equal(provisioned.statusCode, 200, provisioned.body);
      assert.equal((await store.registry.getCamera('dev-1', 'cam-not-yet'))?.status, 'provisioned');
      const read = await api.call({ method: 'GET', url: path('cam-not-yet') }, api.viewerToken);
      assert.equal((read.json() as Assignment).primary.serial, serial['1']);
      const empty = await api.call({ method: 'GET', url: path(await newCamera()) }, api.viewerToken);
      assert.equal(errorCode(empty), 'CP_ERR_ASSIGNMENT_NOT_FOUND');
    });

    test('bad payloads get 400 naming every failing field', async () => {
      const cam = await newCamera();
      const res = await put(cam, {
        model: 'no such ref',
        candidate: -3,
        splitPercent: 400,
        mode: 'sideways',
        surprise: true,
      });
      assert.equal(res.statusCode, 400);
      const body = res.json() as { error: { code: string; fields: { field: string }[] } };
      assert.equal(body.error.code, 'CP_ERR_VALIDATION');
      const fields = new Set(body.error.fields.map((f) => f.field));
      for (const f of ['body.model', 'body.candidate', 'body.splitPercent', 'body.mode', 'body.surprise'])
        assert.ok(fields.has(f), `${f} in ${[...fields].join(', ')}`);
      const missing = await put(cam, {});
      assert.deepEqual(
        (missing.json() as { error: { fields: { field: string }[] } }).error.fields.map((f) => f.field),
        ['body.model'],
      );
      // Rules across fields, checked by the service: also every failing field at once.
      const rules = await put(cam, { model: serial['1'], mode: 'shadow', splitPercent: 10 });
      assert.equal(rules.statusCode, 400);
      assert.deepEqual(
        (rules.json() as { error: { fields: { field: string }[] } }).error.fields.map((f) => f.field),
        ['body.mode', 'body.splitPercent'],
      );
      const noShare = await put(cam, { model: serial['1'], candidate: serial['2'] });
      assert.deepEqual(
        (noShare.json() as { error: { fields: { field: string }[] } }).error.fields.map((f) => f.field),
        ['body.splitPercent'],
      );
      const self = await put(cam, { model: serial['1'], candidate: serial['1'], mode: 'shadow' });
      assert.deepEqual(
        (self.json() as { error: { fields: { field: string }[] } }).error.fields.map((f) => f.field),
        ['body.candidate'],
      );
      const badParams = await api.call({
        method: 'PUT',
        url: '/api/v1/devices/bad%20id/cameras/c/assignment',
        payload: { model: 1 },
      });
      assert.deepEqual(
        (badParams.json() as { error: { fields: { field: string }[] } }).error.fields.map((f) => f.field),
        ['params.device'],
      );
    });

    test('a viewer can read assignments but not assign, promote or roll back (403); no token is 401', async () => {
      const cam = await newCamera();
      await put(cam, { model: serial['1'] });
      assert.equal((await api.call({ method: 'GET', url: path(cam) }, api.viewerToken)).statusCode, 200);
      for (const res of [
        await put(cam, { model: serial['2'] }, api.viewerToken),
        await api.call({ method: 'POST', url: path(cam, '/promote'), payload: {} }, api.viewerToken),
        await api.call({ method: 'POST', url: path(cam, '/rollback'), payload: {} }, api.viewerToken),
      ]) {
        assert.equal(res.statusCode, 403);
        assert.equal(errorCode(res), 'CP_ERR_FORBIDDEN');
      }
      const anonymous = await api.call({ method: 'PUT', url: path(cam), payload: { model: serial['2'] } }, null);
      assert.equal(anonymous.statusCode, 401);
      assert.equal(
        (await api.call({ method: 'GET', url: path(cam) }, api.adminToken)).json().revision,
        (await api.call({ method: 'GET', url: path(cam) }, api.viewerToken)).json().revision,
      );
    });

    test("GET /api/v1/assignments lists every device's assignments, as the per-device lists do, to a viewer", async () => {
      const cam = await newCamera();
      await put(cam, { model: serial['1'], candidate: serial['2'], mode: 'shadow' });
      assert.equal(
        (await api.call({ method: 'POST', url: '/api/v1/devices', payload: { deviceId: 'dev-2' } })).statusCode,
        201,
      );
      await store.registry.upsertCameras(
        'dev-2',
        [{ cameraId: 'gate', source: 'rtsp://y', status: 'running' }],
        Date.now(),
      );
      const other = await api.call({
        method: 'PUT',
        url: '/api/v1/devices/dev-2/cameras/gate/assignment',
        payload: { model: serial['3'] },
      });
      assert.equal(other.statusCode, 200, other.body);

      const all = await api.call({ method: 'GET', url: '/api/v1/assignments' }, api.viewerToken);
      assert.equal(all.statusCode, 200, all.body);
      const perDevice = [];
      for (const d of ['dev-1', 'dev-2'])
        perDevice.push(
          ...(await api.call({ method: 'GET', url: `/api/v1/devices/${d}/assignments` })).json().assignments,
        );
      assert.deepEqual(all.json().assignments, perDevice, 'the same views, device by device');
      const keys = (all.json().assignments as { deviceId: string; cameraId: string }[]).map(
        (a) => `${a.deviceId}/${a.cameraId}`,
      );
      assert.ok(keys.includes(`dev-1/${cam}`) && keys.includes('dev-2/gate'));
      assert.equal((await api.call({ method: 'GET', url: '/api/v1/assignments' }, null)).statusCode, 401);
    });
  });
}
