import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { CpError } from '../errors.js';
import { applyEnvOverrides } from './config-env.js';
import { ControlPlaneConfigSchema, type ControlPlaneConfig } from './control-plane-config-schema.js';

/**
 * Loading order: JSON file (optional) → CP_* environment overrides → schema defaults → validation with
 * every problem collected → rules the schema cannot say → paths resolved → frozen.
 */

let checker: ReturnType<typeof TypeCompiler.Compile<typeof ControlPlaneConfigSchema>> | null = null;

export interface ParseConfigOptions {
  /** Default: no overrides. */
  readonly env?: NodeJS.ProcessEnv;
  /** Relative paths are resolved against it; default process.cwd(). */
  readonly baseDir?: string;
  /** Named in error messages. */
  readonly source?: string;
}

/** Reads (when `path` is given), validates and freezes the configuration. Throws CP_ERR_CONFIG_READ / CP_ERR_CONFIG_INVALID. */
export function loadControlPlaneConfig(
  path: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ControlPlaneConfig {
  if (path === undefined) return parseControlPlaneConfig({}, { env, source: 'defaults' });
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CpError(
      'CP_ERR_CONFIG_READ',
      `${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { cause: err },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new CpError('CP_ERR_CONFIG_READ', `${path}: invalid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseControlPlaneConfig(raw, { env, baseDir: dirname(resolve(path)), source: path });
}

function render(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

export function parseControlPlaneConfig(raw: unknown, options: ParseConfigOptions = {}): ControlPlaneConfig {
  const source = options.source ?? 'configuration';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CpError('CP_ERR_CONFIG_INVALID', `${source}: expected a JSON object`, {
      details: ['/: expected object'],
    });
  }
  const value = structuredClone(raw);
  const env = applyEnvOverrides(value, options.env ?? {}, ControlPlaneConfigSchema);
  const defaulted = Value.Default(ControlPlaneConfigSchema, value) as Record<string, unknown>;
  checker ??= TypeCompiler.Compile(ControlPlaneConfigSchema);
  const problems = [...env.problems];
  const seen = new Set<string>();
  for (const e of checker.Errors(defaulted)) {
    if (seen.has(e.path)) continue;
    seen.add(e.path);
    const from = env.sources.get(e.path);
    problems.push(`${e.path || '/'}: ${e.message}, got ${render(e.value)}${from ? ` (from ${from})` : ''}`);
  }
  const mqtt = defaulted.mqtt as { mode?: unknown; url?: unknown } | undefined;
  if (mqtt?.mode === 'external' && typeof mqtt.url !== 'string')
    problems.push('/mqtt/url: required when /mqtt/mode is "external"');
  const grpc = defaulted.grpc as { tlsCertFile?: unknown; tlsKeyFile?: unknown; tlsClientCaFile?: unknown } | undefined;
  if ((grpc?.tlsCertFile === undefined) !== (grpc?.tlsKeyFile === undefined))
    problems.push('/grpc/tlsCertFile: set together with /grpc/tlsKeyFile (both or neither)');
  if (grpc?.tlsClientCaFile !== undefined && grpc.tlsCertFile === undefined)
    problems.push('/grpc/tlsClientCaFile: mTLS needs /grpc/tlsCertFile and /grpc/tlsKeyFile too');
  if (problems.length > 0) {
    throw new CpError('CP_ERR_CONFIG_INVALID', `${source}: ${problems.join('; ')}`, { details: problems });
  }
  const config = defaulted as unknown as Mutable<ControlPlaneConfig>;
  const baseDir = options.baseDir ?? process.cwd();
  const absolute = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  config.dataDir = absolute(config.dataDir);
  config.auth.adminTokenFile = absolute(config.auth.adminTokenFile ?? join(config.dataDir, 'admin.token'));
  config.signing.keyFile = absolute(config.signing.keyFile ?? join(config.dataDir, 'keys', 'model-signing-key.pem'));
  for (const key of ['tlsCertFile', 'tlsKeyFile', 'tlsClientCaFile'] as const) {
    const file = config.grpc[key];
    if (file !== undefined) config.grpc[key] = absolute(file);
  }
  config.mqtt.clientId ??= `cp-${hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 40)}`;
  return deepFreeze(config) as ControlPlaneConfig;
}

type Mutable<T> = T extends readonly (infer U)[]
  ? Mutable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Mutable<T[K]> }
    : T;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}
