import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type Static, Type } from '@sinclair/typebox';
import {
  type ConfigErrors,
  ConfigLoader,
  configReferenceMarkdown,
  Derived,
  deepFreeze,
  isArraySchema,
  isObjectSchema,
  literalValues,
  readConfigFile,
  referenceRows,
  type Resolved,
} from '../src/config/index.js';

/** Errors that keep what the kit gave them, so tests can look. */
class TestConfigError extends Error {
  constructor(
    readonly kind: 'read' | 'invalid',
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }
}
const errors: ConfigErrors = {
  read: (message, { details }) => new TestConfigError('read', message, details),
  invalid: ({ source, problems }) => new TestConfigError('invalid', `${source}: ${problems.length}`, problems),
};

const strict = { additionalProperties: false } as const;
const Schema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Name.' }),
    dataDir: Type.String({ default: '/var/lib/x', description: 'State.' }),
    cacheDir: Derived(Type.String({ description: 'Default: `<dataDir>/cache`.' })),
    server: Type.Object(
      {
        port: Type.Integer({ minimum: 0, maximum: 65_535, default: 80, description: 'Port.' }),
        tls: Type.Boolean({ default: false, description: 'TLS.' }),
        mode: Type.Union([Type.Literal('fast'), Type.Literal('safe')], { default: 'safe', description: 'Mode.' }),
      },
      { ...strict, default: {}, description: 'Server.' },
    ),
    tags: Type.Array(Type.String(), { default: [], description: 'Tags.' }),
    routes: Type.Array(
      Type.Object(
        { path: Type.String({ description: 'Path.' }), weight: Type.Number({ default: 1, description: 'Weight.' }) },
        strict,
      ),
      { default: [], description: 'Routes.' },
    ),
  },
  strict,
);

const loader = new ConfigLoader({
  schema: Schema,
  env: { prefix: 'KIT_', reserved: ['KIT_CONFIG'], reservedPrefixes: ['KIT_TEST_'] },
  errors,
  rules: (value) => ((value as { name?: unknown }).name === 'forbidden' ? ['/name: "forbidden" is reserved'] : []),
  resolve: (config) => {
    config.cacheDir ??= `${config.dataDir}/cache`;
  },
});

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TestConfigError && err.kind === 'invalid', String(err));
    return err.details as string[];
  }
  assert.fail('expected an invalid configuration');
}

// Compile-time: defaults and Derived settings are present in the resolved type, the rest stays optional.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
type Config = Resolved<typeof Schema>;
export type TypeChecks = [
  Expect<Equal<Config['cacheDir'], string>>,
  Expect<Equal<Static<typeof Schema>['cacheDir'], string | undefined>>,
  Expect<Equal<Config['server']['mode'], 'fast' | 'safe'>>,
  Expect<Equal<Config['routes'], readonly { readonly path: string; readonly weight: number }[]>>,
];

describe('schema walk', () => {
  it('tells objects, lists and string enums apart', () => {
    assert.ok(isObjectSchema(Schema.properties.server));
    assert.ok(isArraySchema(Schema.properties.routes));
    assert.deepEqual(literalValues(Schema.properties.server.properties.mode), ['fast', 'safe']);
    assert.equal(literalValues(Schema.properties.name), null);
  });

  it('lists every setting, list items included, with its environment name', () => {
    const rows = referenceRows({ schema: Schema, env: { prefix: 'KIT_' } });
    assert.deepEqual(
      rows.map((r) => [r.path, r.env, r.default]),
      [
        ['name', 'KIT_NAME', 'required'],
        ['dataDir', 'KIT_DATA_DIR', '"/var/lib/x"'],
        ['cacheDir', 'KIT_CACHE_DIR', ''],
        ['server', 'KIT_SERVER', ''],
        ['server.port', 'KIT_SERVER__PORT', '80'],
        ['server.tls', 'KIT_SERVER__TLS', 'false'],
        ['server.mode', 'KIT_SERVER__MODE', '"safe"'],
        ['tags', 'KIT_TAGS', '[]'],
        ['routes', 'KIT_ROUTES', '[]'],
        ['routes[].path', 'KIT_ROUTES__<i>__PATH', 'required'],
        ['routes[].weight', 'KIT_ROUTES__<i>__WEIGHT', '1'],
      ],
    );
    const md = configReferenceMarkdown({ schema: Schema, env: { prefix: 'KIT_', reserved: ['KIT_CONFIG'] } });
    assert.match(md, /^\| Path \| Type \| Default \| Environment override \| Description \|/);
    assert.match(md, /\| `server\.port` \| integer >= 0 and <= 65535 \| `80` \| `KIT_SERVER__PORT` \| Port\. \|/);
    assert.match(md, /list items by index \(`KIT_ROUTES__0__PATH`\)/);
    assert.match(md, /except `KIT_CONFIG`/);
  });
});

describe('configuration loader', () => {
  it('fills defaults and Derived settings and returns a deeply frozen value, leaving the input untouched', () => {
    const raw = { name: 'x', routes: [{ path: '/a' }] };
    const c = loader.parse(raw);
    assert.deepEqual(c, {
      name: 'x',
      dataDir: '/var/lib/x',
      cacheDir: '/var/lib/x/cache',
      server: { port: 80, tls: false, mode: 'safe' },
      tags: [],
      routes: [{ path: '/a', weight: 1 }],
    });
    assert.deepEqual(raw, { name: 'x', routes: [{ path: '/a' }] });
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.server) && Object.isFrozen(c.routes[0]));
    assert.throws(() => {
      (c.server as { port: number }).port = 1;
    }, TypeError);
  });

  it('overrides nested settings, lists and list items from the environment, converted by type', () => {
    const c = loader.parse(
      { name: 'x', routes: [{ path: '/a' }, { path: '/b' }] },
      {
        env: {
          KIT_SERVER__PORT: '8080',
          KIT_SERVER__TLS: 'yes',
          KIT_TAGS: 'a, b',
          KIT_ROUTES__1__WEIGHT: '2.5',
          KIT_CONFIG: '/etc/kit.json',
          KIT_TEST_SEED: '7',
          PATH: '/usr/bin',
        },
      },
    );
    assert.equal(c.server.port, 8080);
    assert.equal(c.server.tls, true);
    assert.deepEqual(c.tags, ['a', 'b']);
    assert.deepEqual(
      c.routes.map((r) => r.weight),
      [1, 2.5],
    );
  });

  it('reports every problem at once: environment names, schema paths with the variable behind them, and rules', () => {
    assert.deepEqual(
      problemsOf(() =>
        loader.parse(
          { name: 'forbidden', server: { port: 70_000, prot: 1 }, routes: [{ path: '/a' }] },
          {
            env: {
              KIT_SERVER__MODE: 'slow',
              KIT_SERVR__PORT: '1',
              KIT_ROUTES__3__PATH: '/c',
              KIT_ROUTES__X__PATH: '/c',
              KIT_SERVER____TLS: '1',
            },
          },
        ),
      ),
      [
        'KIT_ROUTES__3__PATH: /routes has 1 item(s); there is no item 3 to override (add it to the file)',
        'KIT_ROUTES__X__PATH: /routes is a list: expected an item index, got X',
        'KIT_SERVER____TLS: empty path segment (use `__` only between keys)',
        'KIT_SERVR__PORT: no setting SERVR under / (known: NAME, DATA_DIR, CACHE_DIR, SERVER, TAGS, ROUTES)',
        '/server/prot: unknown key (allowed here: port, tls, mode)',
        '/server/port: expected integer >= 0 and <= 65535, got 70000',
        '/server/mode: expected one of "fast", "safe", got "slow" (from KIT_SERVER__MODE)',
        '/name: "forbidden" is reserved',
      ],
    );
  });

  it('refuses to return a configuration whose resolve step left a Derived setting unset', () => {
    const forgetful = new ConfigLoader({ ...loader.definition, resolve: () => {} });
    assert.throws(() => forgetful.parse({ name: 'x' }), /left derived settings unset: \/cacheDir/);
  });
});

describe('configuration files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'service-kit-config-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

  it('reports a JSON syntax error with its line and column', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{\n  "name": "x",\n  "server": { "port": 1 },,\n}\n');
    assert.throws(
      () => loader.load(path, {}),
      (err: unknown) => {
        assert.ok(err instanceof TestConfigError && err.kind === 'read');
        assert.match(err.message, /broken\.json:3:27: invalid JSON: /);
        assert.deepEqual(err.details, { path, line: 3, column: 27, position: 43 });
        return true;
      },
    );
  });

  it('reads a file with a byte order mark and names a missing one by its errno code', () => {
    const path = join(dir, 'ok.json');
    writeFileSync(path, '\uFEFF{"name":"x"}');
    assert.deepEqual(readConfigFile({ path, errors }), { name: 'x' });
    assert.throws(() => readConfigFile({ path: join(dir, 'nope.json'), errors }), /nope\.json: ENOENT/);
  });
});

describe('deepFreeze', () => {
  it('freezes nested objects and arrays', () => {
    const value = deepFreeze({ a: { b: [1, { c: 2 }] } });
    assert.ok(Object.isFrozen(value.a.b) && Object.isFrozen(value.a.b[1]));
  });
});
