/**
 * Real brokers and a real outbox for the sync tests: an in-process aedes broker on an ephemeral port that
 * can be killed (sockets destroyed, no DISCONNECT) and restarted on the same port, a Mosquitto process of
 * our own, a raw MQTT subscriber that decodes what arrives, and a SQLite outbox in a temp dir.
 * Not a test file of its own.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Aedes, AedesOptions, Client } from 'aedes';
import { decodeDetectionBatch, decodeDeviceStatus, type DetectionBatch, type DeviceStatus } from '@edgefleet/proto';
import { SqliteOutbox } from '../src/outbox/sqlite-outbox.js';
import type { OutboxFrame } from '../src/outbox/outbox.js';
import type { Logger } from '@edgefleet/service-kit';

export const DEVICE = 'dev-sync-1';

/** A topic prefix no other run shares (tests run in parallel against shared brokers). */
export function uniquePrefix(): string {
  return `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}/fleet/v1`;
}

export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- outbox -------------------------------------------------------------------------------------

const LABELS = ['person', 'car', 'bicycle', 'dog'] as const;

export function frame(
  cameraId: string,
  frameId: number,
  detections: number,
  extra: Partial<OutboxFrame> = {},
): OutboxFrame {
  return {
    cameraId,
    frameId,
    timestampMs: Date.now(),
    modelId: 'yolov8n',
    modelVersion: '1.0.0',
    arm: 'primary',
    detections: Array.from({ length: detections }, (_, i) => ({
      classId: i % LABELS.length,
      label: LABELS[i % LABELS.length] as string,
      score: 0.25 + (i % 3) / 4,
      box: [i, i + 1, i + 10.5, i + 20.25] as [number, number, number, number],
    })),
    ...extra,
  };
}

export interface TestOutbox {
  readonly outbox: SqliteOutbox;
  /** Appends `frames` frames per camera with `perFrame` detections each (every 4th frame empty); returns the (camera, seq) keys. */
  fill(cameras: readonly string[], frames: number, perFrame: number): string[];
  cleanup(): void;
}

export function openOutbox(): TestOutbox {
  const dir = mkdtempSync(join(tmpdir(), 'edge-sync-'));
  const outbox = SqliteOutbox.open({
    path: join(dir, 'outbox.sqlite'),
    deviceId: DEVICE,
    maxRows: 5_000_000,
    maxBytes: 2_000_000_000,
  });
  let frameId = 0;
  return {
    outbox,
    fill(cameras, frames, perFrame) {
      const keys: string[] = [];
      const input: OutboxFrame[] = [];
      for (let f = 0; f < frames; f++)
        for (const c of cameras) input.push(frame(c, ++frameId, f % 4 === 3 ? 0 : perFrame));
      for (let i = 0; i < input.length; i += 500) {
        for (const appended of outbox.append(input.slice(i, i + 500)).frames) {
          if (appended.firstSeq === null) continue;
          for (let s = appended.firstSeq; s <= (appended.lastSeq as number); s++)
            keys.push(`${appended.cameraId}/${s}`);
        }
      }
      return keys;
    },
    cleanup() {
      outbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- what arrived -------------------------------------------------------------------------------

/** Decoded detection batches as they arrived, with (camera, seq) counts and per-camera arrival order. */
export class Received {
  readonly batches: DetectionBatch[] = [];
  readonly counts = new Map<string, number>();
  readonly frames = new Map<string, number>();
  readonly order = new Map<string, number[]>();

  add(payload: Buffer | Uint8Array, deviceId = DEVICE): void {
    const batch = decodeDetectionBatch(payload, { deviceId });
    this.batches.push(batch);
    for (const f of batch.frames) {
      const key = `${f.cameraId}/${f.frameSeq}`;
      this.frames.set(key, (this.frames.get(key) ?? 0) + 1);
    }
    for (const d of batch.detections) {
      const key = `${d.cameraId}/${d.seq}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      let seqs = this.order.get(d.cameraId);
      if (!seqs) this.order.set(d.cameraId, (seqs = []));
      seqs.push(d.seq);
    }
  }

  hasAll(keys: readonly string[]): boolean {
    return keys.every((k) => this.counts.has(k));
  }

  missing(keys: readonly string[]): string[] {
    return keys.filter((k) => !this.counts.has(k));
  }

  get duplicates(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c - 1;
    return n;
  }
}

/** A plain MQTT client that subscribes to the detections (and status) of every device under `prefix`. */
export class RawSubscriber {
  readonly statuses: { status: DeviceStatus; retain: boolean }[] = [];
  readonly metrics: Buffer[] = [];
  /** Called after each detection batch was recorded (tests trigger faults from here, mid-stream). */
  onBatch: ((batches: number) => void) | null = null;
  private constructor(
    readonly client: MqttClient,
    readonly received: Received,
  ) {}

  /** `received` may be shared with an earlier subscriber (e.g. one from before a broker restart). */
  static async connect(
    url: string,
    prefix: string,
    protocolVersion: 4 | 5 = 4,
    received = new Received(),
  ): Promise<RawSubscriber> {
    const client = await mqtt.connectAsync(url, {
      protocolVersion,
      reconnectPeriod: 0,
      clientId: `sub-${Math.random().toString(36).slice(2)}`,
    });
    const sub = new RawSubscriber(client, received);
    // Broker kills and network cuts are what these tests do; the subscriber just stops receiving.
    client.on('error', () => {});
    client.on('message', (topic, payload, packet) => {
      if (topic.endsWith('/detections')) {
        sub.received.add(payload);
        sub.onBatch?.(sub.received.batches.length);
      } else if (topic.endsWith('/status'))
        sub.statuses.push({ status: decodeDeviceStatus(payload, { deviceId: DEVICE }), retain: packet.retain });
      else if (topic.endsWith('/metrics')) sub.metrics.push(payload);
    });
    await client.subscribeAsync([`${prefix}/+/detections`, `${prefix}/+/status`, `${prefix}/+/metrics`], { qos: 1 });
    return sub;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Long enough for any loaded machine to deliver a retained message; reached only when none is retained. */
const RETAINED_STATUS_TIMEOUT_MS = 15_000;

/**
 * The retained status of the device, as a new subscriber sees it: waits for the retained message (a broker
 * sends it right after SUBACK [MQTT-3.3.1-6]) and rejects when none arrives within a generous bound.
 */
export async function retainedStatus(url: string, prefix: string, protocolVersion: 4 | 5 = 4): Promise<DeviceStatus> {
  const client = await mqtt.connectAsync(url, { protocolVersion, reconnectPeriod: 0 });
  let timer: NodeJS.Timeout | undefined;
  try {
    const got = new Promise<DeviceStatus>((resolve, reject) => {
      client.on('message', (_topic, payload, packet) => {
        if (packet.retain) resolve(decodeDeviceStatus(payload, { deviceId: DEVICE }));
      });
      timer = setTimeout(
        () => reject(new Error(`no retained status under ${prefix} within ${RETAINED_STATUS_TIMEOUT_MS} ms`)),
        RETAINED_STATUS_TIMEOUT_MS,
      );
    });
    await client.subscribeAsync(`${prefix}/${DEVICE}/status`, { qos: 1 });
    return await got;
  } finally {
    clearTimeout(timer);
    await client.endAsync(true);
  }
}

// ---- aedes --------------------------------------------------------------------------------------

/** aedes in this process on a TCP port; `kill()` drops every connection without DISCONNECT, like a crash. */
export class AedesBroker {
  private readonly sockets = new Set<net.Socket>();
  private constructor(
    readonly broker: Aedes,
    private readonly server: net.Server,
    readonly port: number,
  ) {
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Starts a broker; `port` 0 picks a free one, a former broker's port restarts "the same" broker. */
  static async start(options: AedesOptions = {}, port = 0): Promise<AedesBroker> {
    const { Aedes } = await import('aedes');
    const broker = await Aedes.createBroker(options);
    const server = net.createServer(broker.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return new AedesBroker(broker, server, (server.address() as net.AddressInfo).port);
  }

  /** The broker-side client of an MQTT client id, once it is connected. */
  client(clientId: string): Client | undefined {
    return (this.broker as unknown as { clients: Record<string, Client> }).clients[clientId];
  }

  /** Crash: listener closed, every socket destroyed, broker state gone. */
  async kill(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
  }
}

// ---- network ------------------------------------------------------------------------------------

/**
 * A TCP proxy in front of a broker: `cut()` destroys every connection through it (a network cut: the
 * broker sees the client vanish, the client sees the broker vanish), `block()` refuses new ones until
 * `unblock()`. Clients connected to the broker directly are not affected.
 */
export class TcpProxy {
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private blocked = false;
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | null = null;
    const server = net.createServer((client) => {
      if (!proxy || proxy.blocked) {
        client.destroy();
        return;
      }
      const upstream = net.connect(targetPort, '127.0.0.1');
      const pair: [net.Socket, net.Socket] = [client, upstream];
      proxy.pairs.add(pair);
      const end = () => {
        client.destroy();
        upstream.destroy();
        proxy?.pairs.delete(pair);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  cut(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  block(): void {
    this.blocked = true;
  }

  unblock(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---- Mosquitto ----------------------------------------------------------------------------------

const MOSQUITTO_BIN = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) =>
  existsSync(p),
);

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A Mosquitto process of our own (real broker, killable), on `port`. */
export class MosquittoProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  static async start(port: number): Promise<MosquittoProcess> {
    if (!MOSQUITTO_BIN)
      assert.fail('Mosquitto is not installed (apt-get install mosquitto): the sync tests need a real MQTT 5 broker');
    const dir = mkdtempSync(join(tmpdir(), 'edge-sync-mosquitto-'));
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n`);
    const child = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: 'ignore' });
    const m = new MosquittoProcess(child, dir, port);
    const deadline = Date.now() + 10_000;
    while (!(await reachable(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        m.cleanup();
        assert.fail(`mosquitto did not start on port ${port} (exit code ${String(child.exitCode)})`);
      }
      await sleep(20);
    }
    return m;
  }

  /** kill -9: no goodbye to anyone. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await exited;
  }

  cleanup(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The shared Mosquitto the brief's environment runs at 127.0.0.1:1883 (or EDGEFLEET_MQTT_URL), falling back
 * to a Mosquitto process of our own when none listens there.
 */
export async function sharedMosquitto(): Promise<{ url: string; cleanup(): void }> {
  const url = process.env.EDGEFLEET_MQTT_URL;
  if (url) return { url, cleanup: () => {} };
  if (await reachable(1883)) return { url: 'mqtt://127.0.0.1:1883', cleanup: () => {} };
  const own = await MosquittoProcess.start(await freePort());
  return { url: own.url, cleanup: () => own.cleanup() };
}

// ---- logs ---------------------------------------------------------------------------------------

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

/** A Logger that keeps every line for assertions. */
export function memoryLogger(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const make = (base: Record<string, unknown>): Logger => ({
    debug: (msg, f) => lines.push({ level: 'debug', msg, fields: { ...base, ...f } }),
    info: (msg, f) => lines.push({ level: 'info', msg, fields: { ...base, ...f } }),
    warn: (msg, f) => lines.push({ level: 'warn', msg, fields: { ...base, ...f } }),
    error: (msg, f) => lines.push({ level: 'error', msg, fields: { ...base, ...f } }),
    child: (f) => make({ ...base, ...f }),
  });
  return Object.assign(make({}), { lines });
}
