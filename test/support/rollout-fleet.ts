/**
 * A real fleet for model-rollout tests: the control plane (embedded broker, REST, gRPC, registry on
 * PostgreSQL or PGlite) and edge agents pointed at it for both halves of the loop: detections over MQTT,
 * assignments and artifacts over gRPC. Agents run in process (their model manager can be watched) or as
 * `edge-agent run` children (kill -9 is a real crash).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { ApiClient, ControlPlane, parseControlPlaneConfig } from '@edgefleet/control-plane';
import type { Store } from '@edgefleet/control-plane/testing';
import { Agent, parseConfig, type AgentConfig } from '@edgefleet/edge-agent';
import type { ModelStatusReport } from '@edgefleet/proto';
import { TestDatabase, waitFor, type StoreKind } from './fleet-harness.js';
import { repoRoot } from './fixtures.js';
import { silentLogger } from '@edgefleet/service-kit';

export interface ModelRecord {
  readonly serial: number;
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
}

export interface StatusRow {
  readonly cameraId: string;
  readonly arm: string;
  readonly sha256: string;
  readonly version: string;
  readonly state: string;
  readonly reason: string;
  readonly revision: number;
}

export interface AssignmentRecord {
  readonly revision: number;
  readonly primary: ModelRecord;
  readonly candidate: ModelRecord | null;
  readonly candidateMode: string | null;
  readonly rollback: boolean;
  readonly reason: string;
}

export interface Enrolled {
  readonly deviceId: string;
  readonly username: string;
  readonly password: string;
  readonly clientId: string;
}

/** `count` JPEGs of GStreamer's bouncing ball (bright pixels on black) at 160×120. */
export function ballJpegs(dir: string, count: number): string {
  mkdirSync(dir, { recursive: true });
  execFileSync('gst-launch-1.0', [
    '-q',
    'videotestsrc',
    `num-buffers=${count}`,
    'pattern=ball',
    '!',
    'video/x-raw,width=160,height=120',
    '!',
    'jpegenc',
    '!',
    'multifilesink',
    `location=${join(dir, 'img-%05d.jpg')}`,
  ]);
  return dir;
}

export class RolloutFleet {
  cp!: ControlPlane;
  store!: Store;
  api!: ApiClient;
  private db!: TestDatabase;

  private constructor(readonly dir: string) {}

  static async start(kind: StoreKind, dir: string): Promise<RolloutFleet> {
    const fleet = new RolloutFleet(dir);
    fleet.db = await TestDatabase.create(kind, dir);
    fleet.store = await fleet.db.open();
    const config = parseControlPlaneConfig({
      dataDir: join(dir, 'control-plane'),
      mqtt: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0, rateLimit: { enabled: false } },
      grpc: { host: '127.0.0.1', port: 0 },
    });
    fleet.cp = new ControlPlane(config, { store: fleet.store, logger: silentLogger });
    await fleet.cp.start();
    fleet.api = new ApiClient({
      url: `http://127.0.0.1:${fleet.cp.info.http.port}`,
      token: fleet.cp.adminToken as string,
    });
    return fleet;
  }

  /** Rows of a table, read straight from PostgreSQL (the REST API has no per-arm view yet). */
  async rows<T>(sql: string, params: unknown[]): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.db.url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async stop(): Promise<void> {
    await this.cp.stop();
    await this.store.close();
    await this.db.drop();
  }

  get grpcAddress(): string {
    return `127.0.0.1:${this.cp.info.grpc!.port}`;
  }

  get publicKey(): string {
    return this.cp.info.signingKey.publicKeyBase64;
  }

  enrol(deviceId: string): Promise<Enrolled> {
    return this.api.json<Enrolled>('POST', '/api/v1/devices', { deviceId });
  }

  async upload(name: string, version: string, bytes: Uint8Array): Promise<ModelRecord> {
    const file = join(this.dir, `upload-${name}-${version}.onnx`);
    writeFileSync(file, bytes);
    return this.api.uploadFile<ModelRecord>(
      `/api/v1/models?name=${encodeURIComponent(name)}&version=${encodeURIComponent(version)}`,
      file,
    );
  }

  assign(deviceId: string, cameraId: string, body: Record<string, unknown>): Promise<AssignmentRecord> {
    return this.api.json<AssignmentRecord>('PUT', `/api/v1/devices/${deviceId}/cameras/${cameraId}/assignment`, body);
  }

  rollback(deviceId: string, cameraId: string, body: Record<string, unknown> = {}): Promise<AssignmentRecord> {
    return this.api.json<AssignmentRecord>(
      'POST',
      `/api/v1/devices/${deviceId}/cameras/${cameraId}/assignment/rollback`,
      body,
    );
  }

  assignment(deviceId: string, cameraId: string): Promise<AssignmentRecord> {
    return this.api.json<AssignmentRecord>('GET', `/api/v1/devices/${deviceId}/cameras/${cameraId}/assignment`);
  }

  async statuses(deviceId: string, cameraId: string): Promise<{ latest: StatusRow[]; history: StatusRow[] }> {
    return this.api.json('GET', `/api/v1/devices/${deviceId}/model-status?camera=${cameraId}&historyLimit=200`);
  }

  async audit(target: string): Promise<Array<{ action: string; actor: string; details: Record<string, unknown> }>> {
    const res = await this.api.json<{
      entries: Array<{ action: string; actor: string; details: Record<string, unknown> }>;
    }>('GET', `/api/v1/audit?target=${encodeURIComponent(target)}&limit=200`);
    return res.entries;
  }

  /** Waits until the control plane knows the camera (the agent's watch request names it). */
  async waitForCamera(deviceId: string, cameraId: string): Promise<void> {
    await waitFor(
      `camera ${deviceId}/${cameraId} known to the control plane`,
      async () => {
        const { cameras } = await this.api.json<{ cameras: Array<{ cameraId: string }> }>(
          'GET',
          `/api/v1/devices/${deviceId}/cameras`,
        );
        return cameras.some((c) => c.cameraId === cameraId);
      },
      30_000,
    );
  }

  /** Waits for a status report stored by the control plane that matches. */
  async waitForStatus(
    deviceId: string,
    cameraId: string,
    match: (s: StatusRow) => boolean,
    what: string,
    timeoutMs = 30_000,
  ): Promise<StatusRow> {
    let found: StatusRow | undefined;
    await waitFor(
      what,
      async () => {
        found = (await this.statuses(deviceId, cameraId)).history.find(match);
        return found !== undefined;
      },
      timeoutMs,
    );
    return found!;
  }

  /** Agent config with sync (MQTT) and control (gRPC) pointed at this control plane. */
  agentConfig(opts: {
    device: Enrolled;
    dataDir: string;
    baselineModel: string;
    cameras: readonly Record<string, unknown>[];
    publicKey?: string;
    rollback?: Record<string, unknown>;
    logLevel?: 'debug' | 'info' | 'warn' | 'error';
  }): Record<string, unknown> {
    return {
      deviceId: opts.device.deviceId,
      dataDir: opts.dataDir,
      model: { path: opts.baselineModel, providers: ['cpu'], id: 'baseline', version: 'local' },
      cameras: opts.cameras,
      metrics: { enabled: false },
      log: { level: opts.logLevel ?? 'warn' },
      sync: {
        url: `mqtt://127.0.0.1:${this.cp.info.mqtt.port}`,
        username: opts.device.username,
        password: opts.device.password,
        clientId: opts.device.clientId,
        reconnectMinMs: 100,
        reconnectMaxMs: 1000,
      },
      control: {
        url: this.grpcAddress,
        insecure: true,
        publicKey: opts.publicKey ?? this.publicKey,
        reconnectMinMs: 100,
        reconnectMaxMs: 1000,
        ...(opts.rollback ? { rollback: opts.rollback } : {}),
      },
    };
  }
}

/** An in-process agent with its model-status reports recorded. */
export class FleetAgent {
  readonly reports: ModelStatusReport[] = [];
  private constructor(readonly agent: Agent) {}

  static async start(config: Record<string, unknown>): Promise<FleetAgent> {
    const agent = new Agent({ config: parseConfig(config) as AgentConfig, logger: silentLogger });
    const fleetAgent = new FleetAgent(agent);
    await agent.start();
    agent.models!.onReport((r) => fleetAgent.reports.push(r));
    return fleetAgent;
  }

  /** Resolves with the first report (from now on) that matches. */
  nextReport(match: (r: ModelStatusReport) => boolean, what: string, timeoutMs = 30_000): Promise<ModelStatusReport> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; reports: ${JSON.stringify(this.reports.map((r) => [r.cameraId, r.version, r.state, r.reason]))}`,
          ),
        );
      }, timeoutMs);
      const off = this.agent.models!.onReport((r) => {
        if (!match(r)) return;
        clearTimeout(timer);
        off();
        resolve(r);
      });
    });
  }

  stop(): Promise<void> {
    return this.agent.stop();
  }
}

/** `edge-agent run` as a child process (stderr kept for failure messages). */
export class AgentChild {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private stderr = '';

  constructor(configPath: string) {
    this.child = spawn(
      process.execPath,
      [join(repoRoot, 'edge-agent', 'bin', 'edge-agent.js'), 'run', '--config', configPath],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, NOTIFY_SOCKET: '', UV_THREADPOOL_SIZE: '16' },
      },
    );
    this.child.stderr!.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-20_000);
    });
    this.exited = new Promise((r) => this.child.once('exit', (code) => r(code)));
  }

  log(): string {
    return this.stderr;
  }

  /** Waits until the agent logged a JSON line with this `msg`. */
  async waitForLog(msg: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      `agent log "${msg}"`,
      () => this.stderr.split('\n').some((l) => l.includes(`"msg":"${msg}"`)),
      timeoutMs,
    );
  }

  kill9(): Promise<number | null> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  term(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }
}
