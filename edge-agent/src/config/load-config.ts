import { readFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { EdgeError } from '../errors.js';
import { AgentConfigSchema, type AgentConfig } from './agent-config-schema.js';
import { formatSchemaErrors, renderValue } from './config-problems.js';
import { deepFreeze } from './deep-freeze.js';
import { applyEnvOverrides } from './env-overrides.js';

/**
 * Loading order: read the JSON file → apply EDGE_AGENT_* overrides → fill schema defaults → validate
 * (every problem collected, none thrown early) → semantic checks → resolve paths → freeze.
 * JSON only: YAML would need a parser dependency, and the control plane generates these files anyway.
 */

let checker: ReturnType<typeof TypeCompiler.Compile<typeof AgentConfigSchema>> | null = null;

export interface ParseConfigOptions {
  /** Default: no overrides. */
  readonly env?: NodeJS.ProcessEnv;
  /** Relative paths in the config are resolved against it; default process.cwd(). */
  readonly baseDir?: string;
  /** Named in error messages; default 'configuration'. */
  readonly source?: string;
}

/** Reads, validates and freezes the configuration file. Throws EDGE_ERR_CONFIG_READ or EDGE_ERR_CONFIG_INVALID. */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const raw = readConfigFile(path);
  return parseConfig(raw, { env, baseDir: dirname(resolve(path)), source: path });
}

/** JSON of the file; EDGE_ERR_CONFIG_READ with the line and column of a syntax error. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new EdgeError('EDGE_ERR_CONFIG_READ', `${path}: ${code} (${(err as Error).message})`, {
      cause: err,
      details: { path },
    });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const message = (err as Error).message;
    const m = /at position (\d+)/.exec(message);
    const position = m ? Number(m[1]) : text.length;
    const before = text.slice(0, position);
    const line = before.split('\n').length;
    const column = position - before.lastIndexOf('\n');
    throw new EdgeError('EDGE_ERR_CONFIG_READ', `${path}:${line}:${column}: invalid JSON: ${message}`, {
      cause: err,
      details: { path, line, column, position },
    });
  }
}

/** Validates an already parsed configuration value (see loadConfig); `raw` is not modified. */
export function parseConfig(raw: unknown, options: ParseConfigOptions = {}): AgentConfig {
  const source = options.source ?? 'configuration';
  const value = structuredClone(raw);
  const env = applyEnvOverrides(value, options.env ?? {}, AgentConfigSchema);
  const defaulted = Value.Default(AgentConfigSchema, value);
  checker ??= TypeCompiler.Compile(AgentConfigSchema);
  const problems = [
    ...env.problems,
    ...formatSchemaErrors(checker.Errors(defaulted), env.sources),
    ...semanticProblems(defaulted),
  ];
  if (problems.length > 0) {
    throw new EdgeError(
      'EDGE_ERR_CONFIG_INVALID',
      `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
      {
        details: problems,
      },
    );
  }
  const config = defaulted as Mutable<AgentConfig>;
  resolvePaths(config, options.baseDir ?? process.cwd());
  return deepFreeze(config) as AgentConfig;
}

/** Rules a schema cannot say: unique camera ids, the control section's combinations. Defensive about shape, since it runs on invalid input too. */
function semanticProblems(value: unknown): string[] {
  const problems: string[] = [...controlProblems((value as { control?: unknown } | null)?.control)];
  const cameras = (value as { cameras?: unknown } | null)?.cameras;
  if (!Array.isArray(cameras)) return problems;
  const firstIndex = new Map<string, number>();
  cameras.forEach((camera: unknown, i) => {
    const id = (camera as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') return;
    const first = firstIndex.get(id);
    if (first === undefined) firstIndex.set(id, i);
    else problems.push(`/cameras/${i}/id: duplicate camera id ${renderValue(id)} (already used by /cameras/${first})`);
  });
  return problems;
}

/** Combinations within `control` (each field alone is checked by the schema). */
function controlProblems(control: unknown): string[] {
  if (typeof control !== 'object' || control === null) return [];
  const c = control as Record<string, unknown>;
  const has = (key: string) => c[key] !== undefined;
  const problems: string[] = [];
  if (has('publicKey') === has('publicKeyFile')) {
    problems.push(
      has('publicKey')
        ? '/control/publicKeyFile: not allowed together with /control/publicKey (pin one key)'
        : '/control/publicKey: required, expected the base64 raw 32-byte ed25519 public key (or /control/publicKeyFile)',
    );
  }
  if (typeof c.publicKey === 'string' && !isRawEd25519Base64(c.publicKey)) {
    problems.push(
      `/control/publicKey: expected base64 of a raw 32-byte ed25519 public key, got ${renderValue(c.publicKey)}`,
    );
  }
  if (has('password') && has('passwordFile'))
    problems.push('/control/passwordFile: not allowed together with /control/password');
  if (has('tlsCertFile') !== has('tlsKeyFile')) {
    problems.push(
      has('tlsCertFile')
        ? '/control/tlsKeyFile: required together with /control/tlsCertFile'
        : '/control/tlsCertFile: required together with /control/tlsKeyFile',
    );
  }
  if (c.insecure === true) {
    for (const key of ['tlsCaFile', 'tlsCertFile', 'tlsKeyFile', 'tlsServerName']) {
      if (has(key))
        problems.push(`/control/${key}: not allowed with /control/insecure = true (plain-text gRPC has no TLS)`);
    }
  }
  if (
    typeof c.reconnectMinMs === 'number' &&
    typeof c.reconnectMaxMs === 'number' &&
    c.reconnectMaxMs < c.reconnectMinMs
  ) {
    problems.push(
      `/control/reconnectMaxMs: must be >= /control/reconnectMinMs (${c.reconnectMinMs}), got ${c.reconnectMaxMs}`,
    );
  }
  return problems;
}

/** Strict base64 (standard alphabet, padded) of exactly 32 bytes. */
export function isRawEd25519Base64(text: string): boolean {
  return /^[A-Za-z0-9+/]{43}=$/.test(text) && Buffer.from(text, 'base64').length === 32;
}

type Mutable<T> = T extends readonly (infer U)[]
  ? Mutable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Mutable<T[K]> }
    : T;
type MutableModel = Mutable<AgentConfig['model']>;

/** Relative paths are relative to the config file; derived defaults are filled so the frozen config is complete. */
function resolvePaths(config: Mutable<AgentConfig>, baseDir: string): void {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  config.dataDir = abs(config.dataDir);
  const model = (m: MutableModel) => {
    m.path = abs(m.path);
    m.id ??= basename(m.path, extname(m.path));
    m.version ??= 'local';
    m.engineCacheDir = m.engineCacheDir === undefined ? join(config.dataDir, 'trt-engines') : abs(m.engineCacheDir);
  };
  model(config.model);
  for (const camera of config.cameras) if (camera.model) model(camera.model);
  config.outbox.path =
    config.outbox.path === undefined ? join(config.dataDir, 'outbox.sqlite') : abs(config.outbox.path);
}
