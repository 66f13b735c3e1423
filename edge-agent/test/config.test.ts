import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfig } from '../src/config/load-config.js';
import { AgentConfigSchema, type AgentConfig, type CameraConfig } from '../src/config/agent-config-schema.js';
import { configReferenceMarkdown, referenceRows } from '../src/config/config-reference.js';
import { EdgeError } from '../src/errors.js';
import { problemsOf } from './config-assert.js';

// Compile-time checks that the TypeScript type comes from the schema, defaults included.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
export type TypeChecks = [
  Expect<Equal<AgentConfig['model']['providers'], readonly ('tensorrt' | 'cuda' | 'cpu')[]>>,
  Expect<Equal<AgentConfig['outbox']['synchronous'], 'normal' | 'full'>>,
  Expect<Equal<CameraConfig['fps'], number | undefined>>,
  Expect<Equal<CameraConfig['platform'], 'generic' | 'jetson'>>,
  Expect<Equal<AgentConfig['log']['level'], 'debug' | 'info' | 'warn' | 'error'>>,
  // Defaults the loader derives (from the file name, dataDir) are present in the resolved type.
  Expect<Equal<AgentConfig['model']['id'], string>>,
  Expect<Equal<AgentConfig['model']['engineCacheDir'], string>>,
  Expect<Equal<AgentConfig['outbox']['path'], string>>,
  Expect<Equal<NonNullable<CameraConfig['model']>['version'], string>>,
];

const minimal = () => ({
  deviceId: 'dev-1',
  model: { path: '/models/yolov8n.onnx' },
  cameras: [{ id: 'front', uri: 'rtsp://10.0.0.5/stream1' }],
});

/** The repository root, found from this file (src and dist layouts differ in depth). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'fleet-config', 'edge-agent.example.json'))) {
    const up = dirname(dir);
    assert.notEqual(up, dir, 'repository root (with fleet-config/) not found above the test file');
    dir = up;
  }
  return dir;
}

describe('configuration schema and loader', () => {
  it('fills every default from the schema', () => {
    const config = parseConfig(minimal(), { baseDir: '/etc/edge-agent' });
    assert.deepEqual(config, {
      deviceId: 'dev-1',
      dataDir: '/var/lib/edge-agent',
      model: {
        path: '/models/yolov8n.onnx',
        id: 'yolov8n',
        version: 'local',
        adapter: 'auto',
        providers: ['tensorrt', 'cuda', 'cpu'],
        tensorrtFp16: true,
        inferenceThread: 'worker',
        sessions: 'auto',
        engineCacheDir: '/var/lib/edge-agent/trt-engines',
        conf: 0.25,
        iou: 0.45,
        maxDetections: 300,
      },
      cameras: [
        { id: 'front', uri: 'rtsp://10.0.0.5/stream1', enabled: true, platform: 'generic', stallTimeoutMs: 10_000 },
      ],
      outbox: {
        path: '/var/lib/edge-agent/outbox.sqlite',
        maxRows: 2_000_000,
        maxBytes: 536_870_912,
        synchronous: 'normal',
      },
      metrics: { enabled: true, host: '127.0.0.1', port: 9464 },
      log: { level: 'info' },
    });
  });

  it('reports every bad path at once, each with what was expected and what it got', () => {
    const raw = {
      deviceId: 'dev 1',
      model: { path: '/m.onnx', conf: 1.5, providers: ['cuda', 'gpu'], maxDetections: 2.5 },
      cameras: [
        { id: 'front', uri: 'rtsp://a/b' },
        { id: 'side', uri: 'rtsp://c/d', fps: 'fast' },
        { id: 'bad id!', uri: '', transport: 'quic' },
      ],
      outbox: { synchronous: 'sometimes' },
      metrics: { port: 70000, enabled: 'yes' },
    };
    assert.deepEqual(
      problemsOf(() => parseConfig(raw)),
      [
        '/deviceId: expected string matching /^[A-Za-z0-9._-]+$/ of at most 128 characters, got "dev 1"',
        '/model/providers/1: expected one of "tensorrt", "cuda", "cpu", got "gpu"',
        '/model/conf: expected number >= 0 and <= 1, got 1.5',
        '/model/maxDetections: expected integer >= 1 and <= 10000, got 2.5',
        '/cameras/1/fps: expected number >= 0.1 and <= 1000, got "fast"',
        '/cameras/2/id: expected string matching /^[A-Za-z0-9_-]+$/ of at most 64 characters, got "bad id!"',
        '/cameras/2/uri: expected non-empty string, got ""',
        '/cameras/2/transport: expected one of "tcp", "udp", "auto", got "quic"',
        '/outbox/synchronous: expected one of "normal", "full", got "sometimes"',
        '/metrics/enabled: expected boolean (true or false), got "yes"',
        '/metrics/port: expected integer >= 0 and <= 65535, got 70000',
      ],
    );
  });

  it('reports missing required settings', () => {
    assert.deepEqual(
      problemsOf(() => parseConfig({ cameras: [] })),
      [
        '/deviceId: required, expected string matching /^[A-Za-z0-9._-]+$/ of at most 128 characters',
        '/model: required, expected object',
        '/cameras: expected array of object with at least 1 item, got []',
      ],
    );
    assert.deepEqual(
      problemsOf(() => parseConfig([1, 2])),
      ['/: expected object, got [1,2]'],
    );
  });

  it('rejects unknown keys at every level, naming the allowed ones', () => {
    const raw = { ...minimal(), modle: {}, cameras: [{ id: 'a', uri: 'rtsp://x/y', fsp: 5 }], metrics: { prot: 1 } };
    assert.deepEqual(
      problemsOf(() => parseConfig(raw)),
      [
        '/modle: unknown key (allowed here: deviceId, dataDir, model, cameras, outbox, sync, control, metrics, log)',
        '/cameras/0/fsp: unknown key (allowed here: id, uri, enabled, platform, fps, loop, realtime, width, height, format, latencyMs, transport, codec, pattern, schedule, seed, stallTimeoutMs, maxRestarts, model)',
        '/metrics/prot: unknown key (allowed here: enabled, host, port)',
      ],
    );
  });

  it('rejects duplicate camera ids, together with schema problems', () => {
    const raw = {
      ...minimal(),
      cameras: [
        { id: 'cam', uri: 'rtsp://a/1' },
        { id: 'other', uri: 'rtsp://a/2' },
        { id: 'cam', uri: 'rtsp://a/3', fps: -1 },
      ],
    };
    assert.deepEqual(
      problemsOf(() => parseConfig(raw)),
      [
        '/cameras/2/fps: expected number >= 0.1 and <= 1000, got -1',
        '/cameras/2/id: duplicate camera id "cam" (already used by /cameras/0)',
      ],
    );
  });

  it('validates a per-camera model with the same schema and defaults', () => {
    const raw = {
      ...minimal(),
      cameras: [{ id: 'a', uri: 'rtsp://x/y', model: { path: 'yolox.onnx', adapter: 'yolox' } }],
    };
    const config = parseConfig(raw, { baseDir: '/cfg' });
    assert.equal(config.cameras[0]!.model?.path, '/cfg/yolox.onnx');
    assert.equal(config.cameras[0]!.model?.conf, 0.25);
    assert.equal(config.cameras[0]!.model?.id, 'yolox');
    const bad = { ...minimal(), cameras: [{ id: 'a', uri: 'rtsp://x/y', model: { adapter: 'ssd' } }] };
    assert.deepEqual(
      problemsOf(() => parseConfig(bad)),
      [
        '/cameras/0/model/path: required, expected non-empty string',
        '/cameras/0/model/adapter: expected one of "auto", "yolov8", "yolox", got "ssd"',
      ],
    );
  });

  it('resolves relative paths against the config directory', () => {
    const raw = {
      ...minimal(),
      dataDir: 'state',
      model: { path: '../models/m.onnx', engineCacheDir: 'engines' },
      outbox: { path: 'q/outbox.db' },
    };
    const c = parseConfig(raw, { baseDir: '/etc/edge-agent' });
    assert.equal(c.dataDir, '/etc/edge-agent/state');
    assert.equal(c.model.path, '/etc/models/m.onnx');
    assert.equal(c.model.engineCacheDir, '/etc/edge-agent/engines');
    assert.equal(c.outbox.path, '/etc/edge-agent/q/outbox.db');
  });

  it('returns a deeply frozen config and leaves the input untouched', () => {
    const raw = minimal();
    const snapshot = structuredClone(raw);
    const c = parseConfig(raw);
    assert.deepEqual(raw, snapshot);
    assert.ok(
      Object.isFrozen(c) &&
        Object.isFrozen(c.model) &&
        Object.isFrozen(c.model.providers) &&
        Object.isFrozen(c.cameras[0]),
    );
    assert.throws(() => {
      (c.metrics as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (c.cameras as CameraConfig[]).push(c.cameras[0]!);
    }, TypeError);
  });

  describe('environment overrides', () => {
    it('override scalars, enums, lists and list items by schema path', () => {
      const c = parseConfig(minimal(), {
        env: {
          EDGE_AGENT_DEVICE_ID: 'dev-9',
          EDGE_AGENT_MODEL__PATH: '/opt/models/other.onnx',
          EDGE_AGENT_MODEL__TENSORRT_FP16: 'false',
          EDGE_AGENT_MODEL__PROVIDERS: 'cuda, cpu',
          EDGE_AGENT_MODEL__CONF: '0.4',
          EDGE_AGENT_METRICS__PORT: '9500',
          EDGE_AGENT_LOG__LEVEL: 'debug',
          EDGE_AGENT_CAMERAS__0__URI: 'v4l2:///dev/video0',
          EDGE_AGENT_CAMERAS__0__ENABLED: '0',
          EDGE_AGENT_OUTBOX: '{"maxRows": 5000, "synchronous": "full"}',
          EDGE_AGENT_CONFIG: '/etc/edge-agent/config.json',
          PATH: '/usr/bin',
        },
      });
      assert.equal(c.deviceId, 'dev-9');
      assert.equal(c.model.path, '/opt/models/other.onnx');
      assert.equal(c.model.tensorrtFp16, false);
      assert.deepEqual(c.model.providers, ['cuda', 'cpu']);
      assert.equal(c.model.conf, 0.4);
      assert.equal(c.metrics.port, 9500);
      assert.equal(c.log.level, 'debug');
      assert.equal(c.cameras[0]!.uri, 'v4l2:///dev/video0');
      assert.equal(c.cameras[0]!.enabled, false);
      assert.equal(c.outbox.maxRows, 5000);
      assert.equal(c.outbox.synchronous, 'full');
      assert.equal(c.outbox.maxBytes, 536_870_912, 'defaults still fill an object set from JSON');
    });

    it('override a setting that is either a word or a number (model.sessions) with either', () => {
      assert.equal(parseConfig(minimal(), { env: { EDGE_AGENT_MODEL__SESSIONS: '3' } }).model.sessions, 3);
      assert.equal(parseConfig(minimal(), { env: { EDGE_AGENT_MODEL__SESSIONS: 'auto' } }).model.sessions, 'auto');
      assert.equal(
        parseConfig(minimal(), { env: { EDGE_AGENT_MODEL__INFERENCE_THREAD: 'caller' } }).model.inferenceThread,
        'caller',
      );
      const problems = problemsOf(() => parseConfig(minimal(), { env: { EDGE_AGENT_MODEL__SESSIONS: 'many' } }));
      assert.equal(problems.length, 1);
      assert.match(
        problems[0]!,
        /^\/model\/sessions: expected "auto" or integer >= 1 and <= 16, got "many" \(from EDGE_AGENT_MODEL__SESSIONS\)$/,
      );
    });

    it('validates overridden values like file values and names the variable', () => {
      assert.deepEqual(
        problemsOf(() =>
          parseConfig(minimal(), {
            env: { EDGE_AGENT_METRICS__PORT: 'ninety', EDGE_AGENT_MODEL__PROVIDERS: 'cuda,gpu' },
          }),
        ),
        [
          '/model/providers/1: expected one of "tensorrt", "cuda", "cpu", got "gpu"',
          '/metrics/port: expected integer >= 0 and <= 65535, got "ninety" (from EDGE_AGENT_METRICS__PORT)',
        ],
      );
    });

    it('rejects unknown names, missing list items and bad JSON instead of ignoring them', () => {
      assert.deepEqual(
        problemsOf(() =>
          parseConfig(minimal(), {
            env: {
              EDGE_AGENT_MODEL__PTH: '/x',
              EDGE_AGENT_CAMERAS__3__URI: 'rtsp://x/y',
              EDGE_AGENT_CAMERAS__FRONT__URI: 'rtsp://x/y',
              EDGE_AGENT_OUTBOX: '{maxRows: 1}',
              EDGE_AGENT_METRICS____PORT: '1',
            },
          }),
        ),
        [
          'EDGE_AGENT_CAMERAS__3__URI: /cameras has 1 item(s); there is no item 3 to override (add it to the file)',
          'EDGE_AGENT_CAMERAS__FRONT__URI: /cameras is a list: expected an item index, got FRONT',
          'EDGE_AGENT_METRICS____PORT: empty path segment (use `__` only between keys)',
          'EDGE_AGENT_MODEL__PTH: no setting PTH under /model (known: PATH, ID, VERSION, ADAPTER, LETTERBOX, PROVIDERS, TENSORRT_FP16, INFERENCE_THREAD, SESSIONS, ENGINE_CACHE_DIR, CONF, IOU, MAX_DETECTIONS)',
          `EDGE_AGENT_OUTBOX: value is not valid JSON (${(() => {
            try {
              JSON.parse('{maxRows: 1}');
            } catch (err) {
              return (err as Error).message;
            }
            return '';
          })()})`,
        ],
      );
    });

    it('creates a missing section for a nested override', () => {
      const c = parseConfig(minimal(), { env: { EDGE_AGENT_METRICS__ENABLED: 'no' } });
      assert.equal(c.metrics.enabled, false);
      assert.equal(c.metrics.port, 9464);
    });
  });

  describe('reading files', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'edge-config-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('loads a file, resolving paths against its directory and applying the environment', () => {
      const path = join(dir, 'site', 'config.json');
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `\uFEFF${JSON.stringify({ ...minimal(), model: { path: 'models/m.onnx' } }, null, 2)}`);
      const c = loadConfig(path, { EDGE_AGENT_LOG__LEVEL: 'warn' });
      assert.equal(c.model.path, join(dir, 'site', 'models', 'm.onnx'));
      assert.equal(c.log.level, 'warn');
    });

    it('reports a missing file as EDGE_ERR_CONFIG_READ', () => {
      assert.throws(() => loadConfig(join(dir, 'nope.json'), {}), {
        code: 'EDGE_ERR_CONFIG_READ',
        message: /nope\.json: ENOENT/,
      });
      assert.throws(() => loadConfig(dir, {}), { code: 'EDGE_ERR_CONFIG_READ', message: /EISDIR/ });
    });

    it('reports invalid JSON with its line and column', () => {
      const path = join(dir, 'broken.json');
      writeFileSync(path, '{\n  "deviceId": "dev-1",\n  "model": { "path": "/m.onnx" },,\n}\n');
      assert.throws(
        () => loadConfig(path, {}),
        (err: unknown) => {
          assert.ok(err instanceof EdgeError);
          assert.equal(err.code, 'EDGE_ERR_CONFIG_READ');
          assert.match(err.message, /broken\.json:3:34: invalid JSON: /);
          assert.deepEqual(err.details, { path, line: 3, column: 34, position: 58 });
          return true;
        },
      );
      const empty = join(dir, 'empty.json');
      writeFileSync(empty, '');
      assert.throws(() => loadConfig(empty, {}), {
        code: 'EDGE_ERR_CONFIG_READ',
        message: /empty\.json:1:1: invalid JSON: Unexpected end of JSON input/,
      });
    });

    it('names the file in EDGE_ERR_CONFIG_INVALID', () => {
      const path = join(dir, 'invalid.json');
      writeFileSync(path, JSON.stringify({ deviceId: 'd' }));
      assert.throws(() => loadConfig(path, {}), {
        code: 'EDGE_ERR_CONFIG_INVALID',
        message: new RegExp(`${path}: 2 problems$`),
      });
    });

    it('accepts the shipped example configuration', () => {
      const c = loadConfig(join(repoRoot(), 'fleet-config', 'edge-agent.example.json'), {});
      assert.deepEqual(
        c.cameras.map((cam) => cam.uri.split(':')[0]),
        ['dir', 'rtsp', 'v4l2'],
      );
    });
  });

  describe('reference documentation', () => {
    it('has one row per setting with type, default, environment name and description', () => {
      const rows = referenceRows();
      const paths = rows.map((r) => r.path);
      const leaves = (s: unknown, prefix: string): string[] =>
        Object.entries(
          (
            s as {
              properties: Record<
                string,
                { type?: string; sameAs?: string; properties?: unknown; items?: { properties?: unknown } }
              >;
            }
          ).properties,
        ).flatMap(([k, v]) => {
          const p = prefix ? `${prefix}.${k}` : k;
          // Sections, also nested ones (control.rollback); a `sameAs` object is documented once, where it is defined.
          if (v.type === 'object' && v.sameAs === undefined) return [p, ...leaves(v, p)];
          if (v.type === 'array' && v.items?.properties) return [p, ...leaves(v.items, `${p}[]`)];
          return [p];
        });
      assert.deepEqual(paths, leaves(AgentConfigSchema, ''));
      const port = rows.find((r) => r.path === 'metrics.port');
      assert.deepEqual(port, {
        path: 'metrics.port',
        type: 'integer >= 0 and <= 65535',
        default: '9464',
        env: 'EDGE_AGENT_METRICS__PORT',
        description: 'Listen port (0 picks a free one).',
      });
      assert.equal(rows.find((r) => r.path === 'cameras[].uri')?.env, 'EDGE_AGENT_CAMERAS__<i>__URI');
      assert.equal(rows.find((r) => r.path === 'deviceId')?.default, 'required');
      assert.ok(
        rows.every((r) => r.description.length > 0),
        'every setting is described',
      );
    });

    it('renders a Markdown table whose environment names really work', () => {
      const md = configReferenceMarkdown();
      assert.match(md, /^\| Path \| Type \| Default \| Environment override \| Description \|\n\| --- \|/);
      assert.match(
        md,
        /\| `model\.tensorrtFp16` \| boolean \(true or false\) \| `true` \| `EDGE_AGENT_MODEL__TENSORRT_FP16` \|/,
      );
      // Every documented scalar override is accepted by the loader.
      for (const r of referenceRows()) {
        if (r.env.includes('<i>') || r.type.includes('object')) continue;
        const problems = (() => {
          try {
            parseConfig(minimal(), { env: { [r.env]: 'x' } });
            return [];
          } catch (err) {
            return (err as EdgeError).details as string[];
          }
        })();
        assert.ok(
          !problems.some((p) => p.startsWith(`${r.env}:`)),
          `${r.env} is not recognised: ${problems.join('; ')}`,
        );
      }
    });
  });
});
