import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { signingKeyId } from '@edgefleet/proto';
import { parseConfig } from '../src/config/load-config.js';
import { controlSettings } from '../src/control/control-settings.js';
import { runAgent } from './rollout-harness.js';
import { problemsOf } from './config-assert.js';

const { publicKey } = generateKeyPairSync('ed25519');
const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
const KEY = raw.toString('base64');

const base = (control: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  deviceId: 'dev-1',
  model: { path: '/models/m.onnx' },
  cameras: [{ id: 'front', uri: 'rtsp://10.0.0.5/stream1' }],
  control,
  ...extra,
});

describe('control configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-control-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fills the control defaults from the schema (TLS on, K = 3, rollback budgets)', () => {
    const c = parseConfig(base({ url: 'fleet.example.com:7443', publicKey: KEY }));
    assert.deepEqual(c.control, {
      url: 'fleet.example.com:7443',
      publicKey: KEY,
      insecure: false,
      keepVersions: 3,
      reconnectMinMs: 500,
      reconnectMaxMs: 30_000,
      callTimeoutMs: 10_000,
      downloadChunkBytes: 262_144,
      warmupRuns: 3,
      rollback: {
        maxErrorRate: 0.1,
        errorWindowFrames: 100,
        p95LatencyBudgetMs: 0,
        latencyWindowFrames: 100,
        crashLoopRestarts: 3,
        crashLoopWindowS: 300,
      },
    });
    assert.equal(parseConfig(base({ url: '[::1]:7443', publicKey: KEY })).control?.url, '[::1]:7443');
  });

  it('is optional: without it the config model is all there is', () => {
    const { control: _, ...noControl } = base({});
    assert.equal(parseConfig(noControl).control, undefined);
  });

  it('reports every bad control value with what was expected', () => {
    const problems = problemsOf(() =>
      parseConfig(
        base({
          url: 'http://fleet:7443',
          publicKey: 'not-a-key',
          keepVersions: 0,
          warmupRuns: 0,
          reconnectMinMs: 1000,
          reconnectMaxMs: 10,
          rollback: { maxErrorRate: 2, crashLoopRestarts: 0, p95LatencyBudgetMs: -1, errorWindowFrames: 1.5 },
        }),
      ),
    );
    assert.deepEqual(problems, [
      '/control/url: expected string matching /^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._-]+):[0-9]{1,5}$/, got "http://fleet:7443"',
      '/control/keepVersions: expected integer >= 1 and <= 1000, got 0',
      '/control/warmupRuns: expected integer >= 1 and <= 100, got 0',
      '/control/rollback/maxErrorRate: expected number >= 0 and <= 1, got 2',
      '/control/rollback/errorWindowFrames: expected integer >= 1 and <= 1000000, got 1.5',
      '/control/rollback/p95LatencyBudgetMs: expected number >= 0 and <= 600000, got -1',
      '/control/rollback/crashLoopRestarts: expected integer >= 1 and <= 1000, got 0',
      '/control/publicKey: expected base64 of a raw 32-byte ed25519 public key, got "not-a-key"',
      '/control/reconnectMaxMs: must be >= /control/reconnectMinMs (1000), got 10',
    ]);
  });

  it('requires exactly one pinned key and consistent credentials and TLS settings', () => {
    assert.deepEqual(
      problemsOf(() => parseConfig(base({ url: 'cp:7443' }))),
      ['/control/publicKey: required, expected the base64 raw 32-byte ed25519 public key (or /control/publicKeyFile)'],
    );
    assert.deepEqual(
      problemsOf(() =>
        parseConfig(
          base({
            url: 'cp:7443',
            publicKey: KEY,
            publicKeyFile: '/etc/k.pem',
            password: 'a',
            passwordFile: '/run/pw',
            tlsCertFile: '/etc/c.pem',
          }),
        ),
      ),
      [
        '/control/publicKeyFile: not allowed together with /control/publicKey (pin one key)',
        '/control/passwordFile: not allowed together with /control/password',
        '/control/tlsKeyFile: required together with /control/tlsCertFile',
      ],
    );
    assert.deepEqual(
      problemsOf(() => parseConfig(base({ url: 'cp:7443', publicKey: KEY, insecure: true, tlsCaFile: '/etc/ca.pem' }))),
      ['/control/tlsCaFile: not allowed with /control/insecure = true (plain-text gRPC has no TLS)'],
    );
    assert.deepEqual(
      problemsOf(() => parseConfig(base({ url: 'cp:7443', publicKey: KEY, tlsCaFile: 'relative/ca.pem' }))),
      ['/control/tlsCaFile: expected string matching /^//, got "relative/ca.pem"'],
    );
  });

  it('takes environment overrides by schema path, nested sections included', () => {
    const c = parseConfig(base({ url: 'cp:7443', publicKey: KEY }), {
      env: {
        EDGE_AGENT_CONTROL__PASSWORD: 's3cret',
        EDGE_AGENT_CONTROL__ROLLBACK__CRASH_LOOP_RESTARTS: '5',
        EDGE_AGENT_CONTROL__INSECURE: 'true',
      },
    });
    assert.equal(c.control?.password, 's3cret');
    assert.equal(c.control?.rollback.crashLoopRestarts, 5);
    assert.equal(c.control?.insecure, true);
  });

  it('borrows the sync credentials and builds the Basic authorization of the device', () => {
    const pw = join(dir, 'password');
    writeFileSync(pw, 'from-file\n');
    const sync = { url: 'mqtt://cp:1883', username: 'dev-1', passwordFile: pw };
    const s = controlSettings(parseConfig(base({ url: 'cp:7443', publicKey: KEY, insecure: true }, { sync })))!;
    assert.equal(s.authorization, `Basic ${Buffer.from('dev-1:from-file').toString('base64')}`);
    assert.equal(s.tls, null);
    assert.equal(s.publicKey.keyId, signingKeyId(raw));
    const own = controlSettings(parseConfig(base({ url: 'cp:7443', publicKey: KEY, password: 'mine' }, { sync })))!;
    assert.equal(own.authorization, `Basic ${Buffer.from('dev-1:mine').toString('base64')}`);
    assert.deepEqual(own.tls, {}, 'TLS with the system CA store by default');
    const none = controlSettings(parseConfig(base({ url: 'cp:7443', publicKey: KEY })))!;
    assert.equal(none.authorization, null, 'no password: no authorization header (mTLS-only devices)');
  });

  it('reads the pinned key from a PEM or raw file, and refuses a key that is not ed25519', () => {
    const pem = join(dir, 'key.pem');
    writeFileSync(pem, publicKey.export({ format: 'pem', type: 'spki' }));
    const rawFile = join(dir, 'key.raw');
    writeFileSync(rawFile, raw);
    for (const file of [pem, rawFile]) {
      const s = controlSettings(parseConfig(base({ url: 'cp:7443', publicKeyFile: file })))!;
      assert.equal(s.publicKey.keyId, signingKeyId(raw), file);
      assert.deepEqual(s.publicKey.raw, raw);
    }
    const rsa = join(dir, 'rsa.pem');
    writeFileSync(
      rsa,
      generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }),
    );
    assert.throws(() => controlSettings(parseConfig(base({ url: 'cp:7443', publicKeyFile: rsa }))), {
      code: 'EDGE_ERR_SIGNING_KEY',
      message: /expected an ed25519 key, got rsa/,
    });
    assert.throws(
      () => controlSettings(parseConfig(base({ url: 'cp:7443', publicKeyFile: join(dir, 'missing.pem') }))),
      {
        code: 'EDGE_ERR_CONFIG_READ',
        message: /control\.publicKeyFile .*missing\.pem: ENOENT/,
      },
    );
  });

  it('edge-agent run exits with EX_CONFIG (78) when the pinned key file cannot be read', async () => {
    const config = join(dir, 'agent.json');
    writeFileSync(
      config,
      JSON.stringify(
        base(
          { url: '127.0.0.1:1', insecure: true, publicKeyFile: join(dir, 'no-such-key.pem') },
          { dataDir: join(dir, 'data'), metrics: { enabled: false } },
        ),
      ),
    );
    const agent = runAgent(config);
    assert.equal((await agent.exit).code, 78);
    assert.ok(
      agent
        .logs()
        .some(
          (l) =>
            l.msg === 'agent failed to start' &&
            /EDGE_ERR_CONFIG_READ: .*no-such-key\.pem: ENOENT/.test(String(l.error)),
        ),
    );
  });
});
