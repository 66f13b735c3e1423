import { basename, extname, isAbsolute, join, resolve } from 'node:path';
import {
  ConfigLoader,
  type EnvOverrideRules,
  type Mutable,
  type ParseConfigOptions,
  readConfigFile as readJsonConfigFile,
  renderValue,
} from '@edgefleet/service-kit/config';
import type { Static } from '@sinclair/typebox';
import { agentConfigErrors } from './agent-config-errors.js';
import { type AgentConfig, AgentConfigSchema } from './agent-config-schema.js';

/**
 * The agent's use of the configuration kit (@edgefleet/service-kit/config): read the JSON file → apply
 * EDGE_AGENT_* overrides → fill schema defaults → validate (every problem collected, none thrown early) →
 * the rules below → resolve paths and derived defaults → freeze.
 */

/** `EDGE_AGENT_` + the schema path; EDGE_AGENT_CONFIG names the file instead. */
export const AGENT_CONFIG_ENV: EnvOverrideRules = { prefix: 'EDGE_AGENT_', reserved: ['EDGE_AGENT_CONFIG'] };

const loader = new ConfigLoader({
  schema: AgentConfigSchema,
  env: AGENT_CONFIG_ENV,
  errors: agentConfigErrors,
  rules: semanticProblems,
  resolve: (config, { baseDir }) => resolvePaths(config, baseDir),
});

export type { ParseConfigOptions };

/** Reads, validates and freezes the configuration file. Throws EDGE_ERR_CONFIG_READ or EDGE_ERR_CONFIG_INVALID. */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  return loader.load(path, env);
}

/** JSON of the file; EDGE_ERR_CONFIG_READ with the line and column of a syntax error. */
export function readConfigFile(path: string): unknown {
  return readJsonConfigFile({ path, errors: agentConfigErrors });
}

/** Validates an already parsed configuration value (see loadConfig); `raw` is not modified. */
export function parseConfig(raw: unknown, options: ParseConfigOptions = {}): AgentConfig {
  return loader.parse(raw, options);
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

type MutableConfig = Mutable<Static<typeof AgentConfigSchema>>;
type MutableModel = MutableConfig['model'];

/** Relative paths are relative to the config file; derived defaults are filled so the frozen config is complete. */
function resolvePaths(config: MutableConfig, baseDir: string): void {
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
