import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import {
  ConfigLoader,
  type EnvOverrideRules,
  type Mutable,
  type ParseConfigOptions,
  type Resolved,
} from '@edgefleet/service-kit/config';
import type { Static } from '@sinclair/typebox';
import { controlPlaneConfigErrors } from './control-plane-config-errors.js';
import { type ControlPlaneConfig, ControlPlaneConfigSchema } from './control-plane-config-schema.js';

/**
 * The control plane's use of the configuration kit (@edgefleet/service-kit/config): JSON file (optional)
 * → CP_* environment overrides → schema defaults → validation with every problem collected → the rules
 * below → paths resolved and derived defaults filled → frozen.
 */

/**
 * `CP_` + the schema path (`CP_MQTT__PORT`, `CP_AUTH__TOKENS__0__ROLE`). Not overrides: the CLI's config
 * path and API token, and test settings.
 */
export const CONTROL_PLANE_CONFIG_ENV: EnvOverrideRules = {
  prefix: 'CP_',
  reserved: ['CP_CONFIG', 'CP_TOKEN'],
  reservedPrefixes: ['CP_TEST_'],
};

const loader = new ConfigLoader({
  schema: ControlPlaneConfigSchema,
  env: CONTROL_PLANE_CONFIG_ENV,
  errors: controlPlaneConfigErrors,
  rules: semanticProblems,
  resolve: (config, { baseDir }) => resolvePaths(config, baseDir),
});

export type { ParseConfigOptions };

/** Reads (when `path` is given), validates and freezes the configuration. Throws CP_ERR_CONFIG_READ / CP_ERR_CONFIG_INVALID. */
export function loadControlPlaneConfig(
  path: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ControlPlaneConfig {
  return path === undefined
    ? parseControlPlaneConfig({}, { env, source: 'defaults' })
    : refined(loader.load(path, env));
}

/** Validates an already parsed configuration value; `raw` is not modified. */
export function parseControlPlaneConfig(raw: unknown, options: ParseConfigOptions = {}): ControlPlaneConfig {
  return refined(loader.parse(raw, options));
}

/** The kit's resolved type plus what semanticProblems has checked: an external broker has a url. */
function refined(config: Resolved<typeof ControlPlaneConfigSchema>): ControlPlaneConfig {
  return config as ControlPlaneConfig;
}

/** Combinations the schema cannot say. Defensive about shape, since it runs on invalid input too. */
function semanticProblems(value: unknown): string[] {
  const problems: string[] = [];
  const config = value as { mqtt?: { mode?: unknown; url?: unknown }; grpc?: Record<string, unknown> } | null;
  const mqtt = config?.mqtt;
  if (mqtt?.mode === 'external' && typeof mqtt.url !== 'string')
    problems.push('/mqtt/url: required when /mqtt/mode is "external"');
  const grpc = config?.grpc;
  if ((grpc?.tlsCertFile === undefined) !== (grpc?.tlsKeyFile === undefined))
    problems.push('/grpc/tlsCertFile: set together with /grpc/tlsKeyFile (both or neither)');
  if (grpc?.tlsClientCaFile !== undefined && grpc.tlsCertFile === undefined)
    problems.push('/grpc/tlsClientCaFile: mTLS needs /grpc/tlsCertFile and /grpc/tlsKeyFile too');
  return problems;
}

/** Relative paths are relative to the config file; derived defaults are filled so the frozen config is complete. */
function resolvePaths(config: Mutable<Static<typeof ControlPlaneConfigSchema>>, baseDir: string): void {
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
}
