/**
 * `control-plane start [--config FILE]` runs the control plane until SIGTERM or SIGINT. Without a file it
 * runs on the embedded defaults (aedes broker on :1883, PGlite in ./.data/control-plane, REST on
 * 127.0.0.1:8080, gRPC on :50051); CP_* environment variables override any setting (e.g. CP_DATABASE_URL,
 * CP_HTTP__PORT=0). Prints where it listens, the model signing key and where its data (and the generated
 * admin token) live as `key: value` lines on stdout; `database` is the last line.
 */

import { parseArgs } from 'node:util';
import { loadControlPlaneConfig } from '../config/load-control-plane-config.js';
import { ControlPlane } from '../server/control-plane.js';
import type { CliIo } from './cli-io.js';

export const START_USAGE = `usage: control-plane start [--config FILE]
  --config    JSON configuration file (default: $CP_CONFIG, else built-in defaults); CP_* variables override it
`;

export interface StartCommandOptions {
  /** Resolves when the command should stop; default: the first SIGTERM or SIGINT. */
  readonly until?: Promise<unknown>;
  readonly env?: NodeJS.ProcessEnv;
}

function firstSignal(): { promise: Promise<NodeJS.Signals>; dispose: () => void } {
  let dispose = () => {};
  const promise = new Promise<NodeJS.Signals>((resolve) => {
    const on = (signal: NodeJS.Signals) => resolve(signal);
    process.once('SIGTERM', on);
    process.once('SIGINT', on);
    dispose = () => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
    };
  });
  return { promise, dispose };
}

export async function startCommand(args: string[], io: CliIo, options: StartCommandOptions = {}): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const env = options.env ?? process.env;
  const config = loadControlPlaneConfig(values.config ?? env.CP_CONFIG, env);
  const signal = options.until ? null : firstSignal();
  const controlPlane = new ControlPlane(config);
  try {
    const info = await controlPlane.start();
    const lines = [
      'control plane started',
      info.mqtt.mode === 'embedded'
        ? `mqtt: embedded mqtt://${info.mqtt.host}:${info.mqtt.port}`
        : `mqtt: external ${info.mqtt.url}`,
      `mqtt port: ${info.mqtt.port ?? 'n/a'}`,
      `http: http://${info.http.host}:${info.http.port}`,
      `http port: ${info.http.port}`,
      `dashboard: http://${info.http.host}:${info.http.port}/dashboard (API docs: /docs)`,
      ...(info.grpc
        ? [`grpc: ${info.grpc.host}:${info.grpc.port} (${info.grpc.security})`, `grpc port: ${info.grpc.port}`]
        : ['grpc: disabled']),
      `signing key: ${info.signingKey.keyId} ${info.signingKey.publicKeyBase64}`,
      // The path only: the token itself is never printed.
      ...(info.adminTokenFile ? [`admin token file: ${info.adminTokenFile}`] : []),
      `data dir: ${info.dataDir}`,
      `database: ${info.database}`,
    ];
    io.stdout(`${lines.join('\n')}\n`);
    const reason = await (options.until ?? (signal as { promise: Promise<NodeJS.Signals> }).promise);
    io.stdout(`stopping${typeof reason === 'string' ? ` (${reason})` : ''}\n`);
  } finally {
    signal?.dispose();
    await controlPlane.stop();
  }
  io.stdout('stopped\n');
  return 0;
}
