import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { childProfilingArgs, repoRoot } from './bench-util.js';

/** The real `control-plane start` CLI in its own process, as in a deployment where devices are other machines. */
export interface ControlPlaneProcess {
  readonly pid: number;
  readonly mqttPort: number;
  readonly httpPort: number;
  /** null when gRPC is disabled. */
  readonly grpcPort: number | null;
  /** The bootstrap admin token it generated (read from the file its banner names). */
  readonly adminToken: string;
  /** SIGTERM, then SIGKILL if it has not exited after `timeoutMs`. Safe to call twice. */
  stop(timeoutMs?: number): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

export interface ControlPlaneProcessOptions {
  /** More CP_* configuration overrides (e.g. `CP_HTTP__RATE_LIMIT__ENABLED: 'false'`); they win over the defaults below. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts the CLI on ephemeral loopback ports over `databaseUrl`; resolves once it printed its ports. */
export async function startControlPlaneProcess(
  databaseUrl: string,
  dataDir: string,
  options: ControlPlaneProcessOptions = {},
): Promise<ControlPlaneProcess> {
  // CP_* variables of the caller would override these (or fail validation): the child gets only ours.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CP_')));
  const child = spawn(
    process.execPath,
    [...childProfilingArgs(), join(repoRoot, 'control-plane/bin/control-plane.js'), 'start'],
    {
      env: {
        ...env,
        CP_DATABASE_URL: databaseUrl,
        CP_DATA_DIR: dataDir,
        CP_MQTT__HOST: '127.0.0.1',
        CP_MQTT__PORT: '0',
        CP_HTTP__HOST: '127.0.0.1',
        CP_HTTP__PORT: '0',
        CP_GRPC__HOST: '127.0.0.1',
        CP_GRPC__PORT: '0',
        CP_LOG__LEVEL: 'warn',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (timeoutMs = 15_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  };
  try {
    const ports = await readPorts(child, exited);
    return {
      pid: child.pid as number,
      mqttPort: ports.mqttPort,
      httpPort: ports.httpPort,
      grpcPort: ports.grpcPort,
      adminToken: readFileSync(ports.adminTokenFile, 'utf8').trim(),
      stop,
    };
  } catch (err) {
    await stop(2000);
    throw err;
  }
}

/**
 * The `mqtt port: N`, `http port: N`, `grpc port: N` and `admin token file: PATH` lines of the start
 * banner (it prints the gRPC lines before the token file, and none when gRPC is disabled).
 */
function readPorts(
  child: ChildProcess,
  exited: Promise<number | null>,
): Promise<{ mqttPort: number; httpPort: number; grpcPort: number | null; adminTokenFile: string }> {
  return new Promise((resolve, reject) => {
    let mqttPort: number | null = null;
    let httpPort: number | null = null;
    let grpcPort: number | null = null;
    let adminTokenFile: string | null = null;
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(
      () => reject(new Error(`control-plane start printed no ports within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    lines.on('line', (line) => {
      const token = /^admin token file: (.+)$/.exec(line);
      if (token) adminTokenFile = token[1] as string;
      const m = /^(mqtt|http|grpc) port: (\d+)$/.exec(line);
      if (m) {
        if (m[1] === 'mqtt') mqttPort = Number(m[2]);
        else if (m[1] === 'http') httpPort = Number(m[2]);
        else grpcPort = Number(m[2]);
      }
      if (mqttPort !== null && httpPort !== null && adminTokenFile !== null) {
        clearTimeout(timer);
        resolve({ mqttPort, httpPort, grpcPort, adminTokenFile });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(`control-plane start exited with code ${String(code)} before it listened (its stderr is above)`),
      );
    });
  });
}
