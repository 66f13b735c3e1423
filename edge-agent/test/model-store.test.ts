import { systemClock } from '@edgefleet/service-kit';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { constantDetector } from '@edgefleet/vision/testing/onnx-builder';
import type { ModelDescriptor } from '@edgefleet/proto';
import { ControlClient } from '../src/control/control-client.js';
import { pinnedKeyFromBase64 } from '../src/control/pinned-key.js';
import { silentLogger } from '@edgefleet/service-kit';
import { ModelRejectedError } from '../src/models/artifact-verifier.js';
import { ModelStore } from '../src/models/model-store.js';
import { TestControlPlane, TestSigner } from './control-plane-fixture.js';

const DEVICE = 'store-dev';

/** A model of about `kib` KiB: a constant detector with many anchors, distinct per `tag`. */
function artifact(tag: string, anchors = 2000): Uint8Array {
  return constantDetector({
    anchors: Array.from({ length: anchors }, (_, i) => ({ cx: 32, cy: 32, w: 8 + (i % 7), h: 8, scores: [0.01, 0] })),
    metadata: [['tag', tag]],
  });
}

describe('model store: download, verification and retention', () => {
  let cp: TestControlPlane;
  let client: ControlClient;
  let dir: string;
  let store: ModelStore;

  before(async () => {
    cp = await TestControlPlane.start({ deviceId: DEVICE });
    dir = mkdtempSync(join(tmpdir(), 'edge-model-store-'));
    client = new ControlClient({
      clock: systemClock,
      settings: {
        url: cp.url,
        tls: null,
        authorization: `Basic ${Buffer.from(`${DEVICE}:${cp.password}`).toString('base64')}`,
        reconnectMinMs: 20,
        reconnectMaxMs: 100,
        callTimeoutMs: 5000,
        downloadChunkBytes: 16 * 1024,
      },
      deviceId: DEVICE,
      logger: silentLogger,
      watchRequest: () => ({
        deviceId: DEVICE,
        knownRevision: 0,
        agentVersion: 'test',
        hardware: 'test',
        providers: [],
        cameras: [],
      }),
      onSnapshot: () => undefined,
    });
    client.start();
    store = new ModelStore({
      dir,
      key: pinnedKeyFromBase64(cp.signer.publicKeyBase64),
      source: client,
      logger: silentLogger,
      retryDelay: () => 20,
    });
    store.open();
  });

  after(async () => {
    store.stop();
    await client.stop();
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const files = () => readdirSync(dir).sort();

  it('downloads a signed artifact, verifies it and serves it from disk afterwards', async () => {
    const d = cp.publish(artifact('good'), { version: '1' });
    const progress: number[] = [];
    let verifying = 0;
    const path = await store.fetch(d, { downloading: (b) => progress.push(b), verifying: () => verifying++ });
    assert.equal(path, join(dir, `${d.sha256}.onnx`));
    assert.equal(statSync(path).size, d.sizeBytes);
    assert.equal(progress.at(-1), d.sizeBytes);
    assert.ok(progress.length > 2, 'progress per chunk');
    assert.equal(verifying, 1);
    const before = cp.downloads.length;
    assert.equal(await store.fetch(d), path);
    assert.equal(cp.downloads.length, before, 'no second download');
  });

  /** Each refused artifact: the reason names the kind, and nothing of it stays on disk. */
  async function refused(d: ModelDescriptor, kind: string, reason: RegExp): Promise<void> {
    await assert.rejects(store.fetch(d), (err: unknown) => {
      assert.ok(err instanceof ModelRejectedError, String(err));
      assert.equal(err.code, 'EDGE_ERR_MODEL_REJECTED');
      assert.equal(err.kind, kind);
      assert.match(err.reason, reason);
      return true;
    });
    assert.ok(!files().some((f) => f.startsWith(d.sha256)), `no file of ${kind} artifact left: ${files().join(', ')}`);
  }

  it('refuses a tampered file (bytes that do not hash to the descriptor)', async () => {
    const bytes = artifact('tampered');
    const d = cp.publish(bytes, { version: 't' });
    const evil = Uint8Array.from(bytes);
    evil[evil.length - 10] = (evil[evil.length - 10]! + 1) % 256;
    cp.serve(d.sha256, { bytes: evil });
    await refused(d, 'tampered', /^tampered: the file hashes to sha256 [0-9a-f]{64}, the descriptor says /);
  });

  it('refuses a truncated file', async () => {
    const bytes = artifact('truncated');
    const d = cp.publish(bytes, { version: 'tr' });
    cp.serve(d.sha256, { bytes: bytes.subarray(0, 1000) });
    await refused(d, 'truncated', new RegExp(`^truncated: 1000 of ${bytes.length} bytes$`));
  });

  it('refuses an unsigned artifact', async () => {
    await refused(
      cp.publish(artifact('unsigned'), { version: 'u', unsigned: true }),
      'unsigned',
      /^unsigned: model det u carries no signature$/,
    );
  });

  it('refuses an artifact signed with another key', async () => {
    const other = new TestSigner();
    await refused(
      cp.publish(artifact('other-key'), { version: 'k', signer: other }),
      'wrong key',
      new RegExp(`^wrong key: signed with key ${other.keyId}, the pinned key is ${cp.signer.keyId}$`),
    );
  });

  it('refuses a descriptor changed after signing (a serial raised to pass the downgrade check)', async () => {
    const d = cp.publish(artifact('re-serialed'), { version: 's', serial: 5 });
    await refused(
      { ...d, serial: 500 },
      'bad signature',
      /^bad signature: the signature of det s \(serial 500\) does not verify with key /,
    );
  });

  it('resumes an interrupted download from the bytes it already has', async () => {
    const bytes = artifact('resumed', 6000);
    const d = cp.publish(bytes, { version: 'r' });
    const cut = 64 * 1024;
    cp.serve(d.sha256, { cutAfter: cut });
    const first = cp.downloads.length;
    await store.fetch(d);
    const requests = cp.downloads.slice(first).filter((r) => r.sha256 === d.sha256);
    assert.deepEqual(
      requests.map((r) => r.offset),
      [0, cut],
      'second request starts where the cut stream stopped',
    );
    assert.equal(statSync(store.pathOf(d.sha256)).size, bytes.length);
  });

  it('resumes from a partial file left by an earlier run', async () => {
    const bytes = artifact('partial-on-disk', 6000);
    const d = cp.publish(bytes, { version: 'p' });
    writeFileSync(join(dir, `${d.sha256}.partial`), bytes.subarray(0, 50_000));
    const first = cp.downloads.length;
    await store.fetch(d);
    assert.deepEqual(
      cp.downloads.slice(first).map((r) => r.offset),
      [50_000],
    );
  });

  it('fails at once for an artifact the control plane does not have', async () => {
    const d = cp.publish(artifact('unknown'), { version: 'x' });
    const missing = { ...d, sha256: 'f'.repeat(64) };
    await assert.rejects(store.fetch(missing), { code: 'EDGE_ERR_MODEL_DOWNLOAD', message: /NOT_FOUND/ });
  });

  it('keeps the K most recently used artifacts plus every protected one', () => {
    const shas = store.list();
    assert.ok(shas.length >= 3, `artifacts on disk: ${shas.length}`);
    // Oldest first: the protected one is the oldest, so only protection keeps it.
    shas.forEach((sha, i) => {
      utimesSync(store.pathOf(sha), 1000 + i, 1000 + i);
    });
    const oldest = shas[0]!;
    const newest = shas[shas.length - 1]!;
    const deleted = store.prune(2, new Set([oldest]));
    assert.deepEqual(new Set(store.list()), new Set([oldest, newest]), 'K = 2: the protected one and the newest');
    const kept = store.list();
    assert.deepEqual(new Set([...kept, ...deleted]), new Set(shas));
    assert.ok(!existsSync(store.pathOf(deleted[0]!)));
  });
});
