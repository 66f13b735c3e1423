import type { AgentConfig, RollbackDefaults } from '../config/agent-config-schema.js';
import { readPasswordFile, readSecretFile } from '@edgefleet/service-kit/config';
import { agentConfigErrors as errors } from '../config/agent-config-errors.js';
import { pinnedKeyFromBase64, readPinnedKeyFile, type PinnedKey } from './pinned-key.js';

export interface ControlTls {
  /** PEM CA bundle; absent: the system store. */
  readonly ca?: Buffer;
  /** mTLS client certificate and key (both or neither). */
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly serverName?: string;
}

/** The `control` section with its files read: what the control client and model manager run on. */
export interface ControlSettings {
  /** `host:port`. */
  readonly url: string;
  /** null: plain-text gRPC. */
  readonly tls: ControlTls | null;
  /** `Basic base64(user:password)` for the gRPC metadata, or null without a password (mTLS only). Never logged. */
  readonly authorization: string | null;
  readonly publicKey: PinnedKey;
  readonly keepVersions: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly callTimeoutMs: number;
  readonly downloadChunkBytes: number;
  readonly warmupRuns: number;
  readonly rollback: RollbackDefaults;
}

/**
 * Settings for the agent's `control` section, or null without one. Credentials default to the `sync`
 * section's (the device has one enrolment credential). Throws EDGE_ERR_CONFIG_READ (a file) or
 * EDGE_ERR_SIGNING_KEY (a key that is not ed25519).
 */
export function controlSettings(config: Pick<AgentConfig, 'deviceId' | 'sync' | 'control'>): ControlSettings | null {
  const control = config.control;
  if (!control) return null;
  const sync = config.sync;
  const username = control.username ?? sync?.username ?? config.deviceId;
  const password =
    control.password ??
    (control.passwordFile !== undefined
      ? readPasswordFile({ path: control.passwordFile, what: 'control passwordFile', errors })
      : (sync?.password ??
        (sync?.passwordFile !== undefined
          ? readPasswordFile({ path: sync.passwordFile, what: 'sync passwordFile', errors })
          : undefined)));
  const publicKey =
    control.publicKey !== undefined
      ? pinnedKeyFromBase64(control.publicKey)
      : readPinnedKeyFile(control.publicKeyFile as string);
  return {
    url: control.url,
    tls: control.insecure
      ? null
      : {
          ...(control.tlsCaFile !== undefined
            ? { ca: readSecretFile({ path: control.tlsCaFile, what: 'control tlsCaFile', errors }) }
            : {}),
          ...(control.tlsCertFile !== undefined
            ? { cert: readSecretFile({ path: control.tlsCertFile, what: 'control tlsCertFile', errors }) }
            : {}),
          ...(control.tlsKeyFile !== undefined
            ? { key: readSecretFile({ path: control.tlsKeyFile, what: 'control tlsKeyFile', errors }) }
            : {}),
          ...(control.tlsServerName !== undefined ? { serverName: control.tlsServerName } : {}),
        },
    authorization:
      password === undefined ? null : `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`,
    publicKey,
    keepVersions: control.keepVersions,
    reconnectMinMs: control.reconnectMinMs,
    reconnectMaxMs: control.reconnectMaxMs,
    callTimeoutMs: control.callTimeoutMs,
    downloadChunkBytes: control.downloadChunkBytes,
    warmupRuns: control.warmupRuns,
    rollback: control.rollback,
  };
}
