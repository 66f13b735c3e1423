/**
 * A real fleet for fault tests: a control plane (embedded aedes broker, ingest, REST) over a real store
 * (PostgreSQL or PGlite), and edge agents as child processes of the real CLI, so kill -9 is a real crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket, connect } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ControlPlane, parseControlPlaneConfig } from '@edgefleet/control-plane';
import { createPgliteStore, createPgStore, type Store } from '@edgefleet/control-plane/testing';
import { repoRoot } from './fixtures.js';
import { silentLogger } from '@edgefleet/service-kit';

export type StoreKind = 'postgres' | 'pglite';
export const STORE_KINDS: readonly StoreKind[] = ['postgres', 'pglite'];
const ADMIN_URL = process.env.CP_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** The database behind a control plane; survives control-plane restarts (PGlite reopens its directory). */
export class TestDatabase {
  private constructor(
    readonly kind: StoreKind,
    private readonly target: string,
  ) {}

  static async create(kind: StoreKind, dir: string): Promise<TestDatabase> {
    if (kind === 'pglite') return new TestDatabase(kind, join(dir, 'pglite'));
    const name = `fault_${randomBytes(5).toString('hex')}`;
    await admin(`CREATE DATABASE ${name}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    return new TestDatabase(kind, url.toString());
  }

  async open(): Promise<Store> {
    const store =
      this.kind === 'pglite'
        ? await createPgliteStore({ dataDir: this.target })
        : createPgStore({ connectionString: this.target });
    await store.migrate();
    return store;
  }

  /** The PostgreSQL connection string (postgres only), for tests that read tables directly. */
  get url(): string {
    if (this.kind !== 'postgres') throw new Error('a PGlite test database has no URL');
    return this.target;
  }

  async drop(): Promise<void> {
    if (this.kind === 'postgres')
      await admin(`DROP DATABASE IF EXISTS ${new URL(this.target).pathname.slice(1)} WITH (FORCE)`);
  }
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL for tests is not reachable at ${ADMIN_URL} (set CP_TEST_POSTGRES_URL): ${(err as Error).message}`,
    );
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A control plane on a fixed MQTT port (agents keep their URL across restarts). */
export class FleetControlPlane {
  cp: ControlPlane | null = null;
  store: Store | null = null;
  /** Duplicate rows the ingest skipped in control planes started and stopped before the current one. */
  private duplicatesOfEarlierRuns = 0;

  constructor(
    private readonly db: TestDatabase,
    private readonly dataDir: string,
    readonly mqttPort: number,
    /** Ingest settings over the defaults (e.g. a longer flushIntervalMs keeps PUBACKs pending longer). */
    private readonly ingest: { readonly flushIntervalMs?: number } = {},
  ) {}

  async start(): Promise<void> {
    this.store = await this.db.open();
    const config = parseControlPlaneConfig({
      dataDir: this.dataDir,
      mqtt: { host: '127.0.0.1', port: this.mqttPort },
      http: { host: '127.0.0.1', port: 0 },
      grpc: { host: '127.0.0.1', port: 0 },
      ingest: this.ingest,
    });
    this.cp = new ControlPlane(config, { store: this.store, logger: silentLogger });
    await this.cp.start();
  }

  /** Rows the ingest received again and skipped (ON CONFLICT DO NOTHING), over every start of this control plane. */
  get duplicateRows(): number {
    return this.duplicatesOfEarlierRuns + (this.cp?.stats.snapshot().duplicateRows ?? 0);
  }

  async stop(): Promise<void> {
    await this.cp?.stop();
    this.duplicatesOfEarlierRuns += this.cp?.stats.snapshot().duplicateRows ?? 0;
    await this.store?.close();
    this.cp = null;
    this.store = null;
  }

  async enrol(deviceId: string): Promise<{ username: string; password: string; clientId: string }> {
    // No auth.tokens configured: the control plane made a bootstrap admin token in its data directory.
    const res = await fetch(`http://127.0.0.1:${this.cp!.info.http.port}/api/v1/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.cp!.adminToken}` },
      body: JSON.stringify({ deviceId }),
    });
    if (res.status !== 201) throw new Error(`enrolment failed: ${res.status} ${await res.text()}`);
    return (await res.json()) as { username: string; password: string; clientId: string };
  }
}

/**
 * A TCP proxy between agents and the broker whose link can be cut (open sockets destroyed, new ones
 * refused) and restored: a network outage with the broker itself still up.
 */
export class CuttableLink {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private cut = false;
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (this.cut) return client.destroy();
      const upstream = connect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined); // a cut link errors both ends; the agent reports it
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  setCut(cut: boolean): void {
    this.cut = cut;
    if (cut) for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.setCut(true);
    await new Promise((r) => this.server?.close(r));
  }
}

export interface AgentSpec {
  readonly dir: string;
  readonly deviceId: string;
  readonly mqttPort: number;
  readonly credentials: { username: string; password: string; clientId: string };
  readonly cameras: readonly Record<string, unknown>[];
  readonly model: string;
}

/** Writes the agent config; `drain` disables the cameras so a run only empties the outbox. */
export function writeAgentConfig(spec: AgentSpec, name: string, drain = false): string {
  const path = join(spec.dir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      deviceId: spec.deviceId,
      dataDir: join(spec.dir, 'agent-data'),
      model: { path: spec.model, providers: ['cpu'] },
      cameras: spec.cameras.map((c) => (drain ? { ...c, enabled: false } : c)),
      metrics: { enabled: false },
      log: { level: 'info' },
      sync: {
        url: `mqtt://127.0.0.1:${spec.mqttPort}`,
        username: spec.credentials.username,
        password: spec.credentials.password,
        clientId: spec.credentials.clientId,
        reconnectMinMs: 100,
        reconnectMaxMs: 1000,
      },
    }),
  );
  return path;
}

/** One `edge-agent run` child process. */
export class AgentProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private stderr = '';

  constructor(configPath: string) {
    this.child = spawn(
      process.execPath,
      [join(repoRoot, 'edge-agent', 'bin', 'edge-agent.js'), 'run', '--config', configPath],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, NOTIFY_SOCKET: '' },
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

  kill9(): Promise<number | null> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  async term(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }
}

/** What the agent's outbox says it produced, and what is still waiting. */
export function outboxAudit(path: string): {
  produced: Map<string, { frames: number; detections: number }>;
  pendingFrames: number;
  evicted: number;
} {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const produced = new Map<string, { frames: number; detections: number }>();
    for (const r of db.prepare('SELECT camera_id, last_frame_seq, last_seq FROM camera_seq').all() as {
      camera_id: string;
      last_frame_seq: number;
      last_seq: number;
    }[]) {
      produced.set(r.camera_id, { frames: r.last_frame_seq, detections: r.last_seq });
    }
    const pending = (db.prepare('SELECT count(*) AS n FROM frames').get() as { n: number }).n;
    const evicted = (
      db.prepare("SELECT coalesce(sum(value), 0) AS n FROM counters WHERE name LIKE 'evicted%'").get() as { n: number }
    ).n;
    return { produced, pendingFrames: pending, evicted };
  } finally {
    db.close();
  }
}
