import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { JSDOM } from 'jsdom';
import { createPgliteStore } from '../src/storage/pglite-store.js';
import type { Store } from '../src/storage/store.js';
import { suiteScope, testApi, type TestApi } from './api-test-kit.js';
import { tinyDetector } from './model-files.js';

/**
 * The web dashboard: its files are served open with a strict CSP, every REST call it makes exists in the
 * OpenAPI document, and the real page (jsdom) against a real control-plane HTTP server shows the fleet,
 * keeps a viewer to reading and lets an admin promote and roll back; data is rendered as text.
 */

const JS_FILE = fileURLToPath(new URL('../../dashboard/dashboard.js', import.meta.url));

interface OpenApiDoc {
  paths: Record<string, Record<string, unknown>>;
}

async function until<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('web dashboard', () => {
  let store: Store;
  let api: TestApi;
  let base: string;
  const { t, close } = suiteScope();
  const serial: Record<string, number> = {};

  before(async () => {
    store = await createPgliteStore();
    await store.migrate();
    api = await testApi(t, store);
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    assert.equal(
      (await api.call({ method: 'POST', url: '/api/v1/devices', payload: { deviceId: 'dev-1' } })).statusCode,
      201,
    );
    await store.registry.upsertCameras(
      'dev-1',
      [
        { cameraId: 'cam-1', source: 'rtsp://x', status: 'running' },
        { cameraId: 'cam-2', source: 'file://y', status: 'failed', lastError: '<b id="injected">boom</b>' },
      ],
      Date.now(),
    );
    for (const v of ['1', '2']) {
      const res = await api.call({
        method: 'POST',
        url: `/api/v1/models?name=tiny&version=${v}`,
        headers: { 'content-type': 'application/octet-stream' },
        payload: tinyDetector(),
      });
      assert.equal(res.statusCode, 201, res.body);
      serial[v] = (res.json() as { serial: number }).serial;
    }
    const put = await api.call({
      method: 'PUT',
      url: '/api/v1/devices/dev-1/cameras/cam-1/assignment',
      payload: { model: serial['1'], candidate: serial['2'], splitPercent: 10 },
    });
    assert.equal(put.statusCode, 200, put.body);
  });
  after(async () => {
    await close();
    await store.close();
  });

  test('the page and its assets are served without a token, with a strict CSP; / redirects to it', async () => {
    const page = await fetch(`${base}/dashboard`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const html = await page.text();
    for (const asset of ['/dashboard/dashboard.js', '/dashboard/dashboard.css']) {
      assert.ok(html.includes(asset), asset);
      const res = await fetch(`${base}${asset}`);
      assert.equal(res.status, 200, asset);
      assert.match(res.headers.get('content-type') ?? '', asset.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
    }
    const root = await fetch(`${base}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/dashboard');
    assert.equal((await fetch(`${base}/favicon.ico`)).status, 204);
    // The API itself stays closed.
    assert.equal((await fetch(`${base}/api/v1/devices`)).status, 401);
  });

  test('every REST call in dashboard.js names a route of the OpenAPI document with that method', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as OpenApiDoc;
    const normalise = (p: string) => p.replace(/\{[^}]+\}/g, '{}');
    const routes = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${normalise(path)}`),
      ),
    );
    const calls = [...readFileSync(JS_FILE, 'utf8').matchAll(/api\('([A-Z]+)', `([^`]+)`/g)].map(
      ([, method, path]) => `${method} ${(path as string).split('?')[0]!.replace(/\$\{[^}]+\}/g, '{}')}`,
    );
    assert.ok(calls.length >= 12, `found ${calls.length} calls`);
    for (const call of calls) {
      if (call === 'GET /healthz') continue; // open, hidden from the document
      assert.ok(routes.has(call), `${call} is not in /openapi.json`);
    }
  });

  test('in a browser DOM: a viewer sees cameras, devices, models and audit; assigning is refused; an admin promotes and rolls back', async (tt) => {
    const html = await (await fetch(`${base}/dashboard`)).text();
    const dom = new JSDOM(html, { url: `${base}/dashboard`, runScripts: 'outside-only' });
    const { window } = dom;
    const doc = window.document;
    // The page refreshes on a timer: at the end, requests already sent finish, later ones never answer,
    // so no page code runs once the window is closed.
    const inFlight = new Set<Promise<unknown>>();
    let closing = false;
    Object.assign(window, {
      fetch: (path: string, init?: RequestInit) => {
        if (closing) return new Promise(() => {});
        const p = fetch(new URL(path, base), init);
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p)).catch(() => {});
        return p;
      },
    });
    tt.after(async () => {
      closing = true;
      await Promise.allSettled([...inFlight]);
      await new Promise((r) => setTimeout(r, 50));
      window.close();
    });
    window.sessionStorage.setItem('edgefleet.token', api.viewerToken);
    window.eval(readFileSync(JS_FILE, 'utf8'));

    const text = (id: string) => doc.getElementById(id)?.textContent ?? '';
    const row = await until('the cam-1 row', () =>
      [...doc.querySelectorAll('#cameras tr')].find((r) => r.textContent?.includes('cam-1')),
    );
    assert.match(row.textContent ?? '', new RegExp(`tiny:1 \\(#${serial['1']}\\)`));
    assert.match(row.textContent ?? '', new RegExp(`tiny:2 \\(#${serial['2']}\\) · 10 %`));
    assert.match(text('cameras'), /failed/);
    assert.ok(text('cameras').includes('<b id="injected">boom</b>'), 'an error is shown as text');
    assert.equal(doc.getElementById('injected'), null, 'and never becomes markup');
    await until(
      'devices, models and audit',
      () =>
        text('devices').includes('dev-1') && text('models').includes('tiny:2') && text('audit').includes('assignment.'),
    );
    assert.equal(doc.querySelectorAll('#models tr').length, 3, 'header and two models');
    assert.match(text('health'), /ok · pglite/);

    (row as HTMLElement).click();
    await until(
      'the assignment history',
      () => !doc.getElementById('camera-detail')?.hidden && doc.querySelectorAll('#history tr').length >= 2,
    );
    assert.equal(text('camera-title'), 'dev-1 / cam-1');
    assert.match(text('detections'), /none yet/);

    // A viewer's change is refused by the API, and the page says why.
    (doc.getElementById('assign-form') as HTMLFormElement).requestSubmit();
    await until('the refusal', () => text('message').includes('CP_ERR_FORBIDDEN'));

    // The admin token, pasted into the form, can promote and roll back.
    (doc.getElementById('token') as HTMLInputElement).value = api.adminToken;
    (doc.getElementById('token-form') as HTMLFormElement).requestSubmit();
    (doc.getElementById('assign-reason') as HTMLInputElement).value = 'from the dashboard';
    (doc.getElementById('promote') as HTMLButtonElement).click();
    await until('the promotion', () => text('message').startsWith('candidate promoted'));
    const current = async () =>
      (await api.call({ method: 'GET', url: '/api/v1/devices/dev-1/cameras/cam-1/assignment' })).json() as {
        primary: { serial: number };
        candidate: unknown;
        reason: string;
        rollback: boolean;
      };
    const promoted = await current();
    assert.deepEqual(
      [promoted.primary.serial, promoted.candidate, promoted.reason],
      [serial['2'], null, 'from the dashboard'],
    );

    (doc.getElementById('rollback') as HTMLButtonElement).click();
    await until('the rollback', () => text('message').startsWith('rolled back'));
    const rolledBack = await current();
    assert.deepEqual([rolledBack.primary.serial, rolledBack.rollback], [serial['1'], true]);
    await until('the rollback in the camera row', () => text('cameras').includes('(rolled back)'));
  });
});
