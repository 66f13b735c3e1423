import { systemClock } from '@edgefleet/service-kit';
/**
 * The simulated agents of `bench:rollout`, in a process of their own (forked by rollout.bench.ts with an
 * IPC channel), so that their event loop is neither the control plane's nor the benchmark's. Holds one
 * SimulatedAgent per device (own gRPC channel and connection) and the download client, and answers the
 * messages of rollout-ipc.ts.
 */
import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { connect } from 'node:net';
import { ControlClient } from '@edgefleet/edge-agent/testing';
import { ownCpuMs } from './bench-util.js';
import {
  basicAuthorization,
  HTTP2_WINDOW_BYTES,
  type AckRecord,
  type FromAgents,
  type SimulatedDevice,
  type ToAgents,
} from './rollout-ipc.js';
import { SimulatedAgent } from './simulated-agent.js';
import { silentLogger } from '@edgefleet/service-kit';

/** Acknowledgements are sent to the benchmark in batches, at most this long after they came back. */
const ACK_FLUSH_MS = 10;
const READY_TIMEOUT_MS = 300_000;
const CLIENT_READY_TIMEOUT_MS = 30_000;

/** To the benchmark; dropped once it went away (it stops this process then). */
function send(message: FromAgents): void {
  if (process.connected) process.send?.(message, undefined, undefined, () => undefined);
}

const agents: SimulatedAgent[] = [];
let pending: AckRecord[] = [];
let _flushTimer: NodeJS.Timeout | null = null;
let failed = false;

function fail(message: string): void {
  if (failed) return;
  failed = true;
  send({ type: 'failure', message });
}

function queueAck(ack: AckRecord): void {
  pending.push(ack);
  _flushTimer ??= setTimeout(() => {
    _flushTimer = null;
    const acks = pending;
    pending = [];
    send({ type: 'acks', acks });
  }, ACK_FLUSH_MS);
}

/** Opens every watch, at most `concurrency` of them waiting for their first snapshot at a time. */
function start(target: string, devices: readonly SimulatedDevice[], concurrency: number): void {
  const t0 = performance.now();
  let next = 0;
  let watching = 0;
  const timer = setTimeout(
    () => fail(`only ${watching} of ${devices.length} watches delivered a snapshot within ${READY_TIMEOUT_MS} ms`),
    READY_TIMEOUT_MS,
  );
  const openNext = (): void => {
    if (next >= devices.length) return;
    const index = next++;
    const agent = new SimulatedAgent(index, target, devices[index]!, {
      onFirstSnapshot: () => {
        watching++;
        if (watching % 100 === 0 || watching === devices.length)
          send({ type: 'connecting', watching, total: devices.length });
        if (watching === devices.length) {
          clearTimeout(timer);
          send({ type: 'ready', connectMs: performance.now() - t0 });
        }
        openNext();
      },
      onAck: queueAck,
      onFailure: fail,
    });
    agents.push(agent);
    agent.watch();
  };
  for (let i = 0; i < Math.min(concurrency, devices.length); i++) openNext();
  if (devices.length === 0) {
    clearTimeout(timer);
    send({ type: 'ready', connectMs: 0 });
  }
}

// ---- downloads ---------------------------------------------------------------------------------------

let downloader: SimulatedDevice | null = null;
let target = '';
/** The agent's real ControlClient, one per chunk size (its settings fix the chunk size it asks for). */
const controlClients = new Map<number, ControlClient>();

async function controlClient(chunkBytes: number): Promise<ControlClient> {
  let client = controlClients.get(chunkBytes);
  if (client) return client;
  const device = downloader as SimulatedDevice;
  client = new ControlClient({
    clock: systemClock,
    settings: {
      url: target,
      tls: null,
      authorization: basicAuthorization(device.deviceId, device.password),
      reconnectMinMs: 500,
      reconnectMaxMs: 5_000,
      callTimeoutMs: 10_000,
      downloadChunkBytes: chunkBytes,
    },
    deviceId: device.deviceId,
    logger: silentLogger,
    watchRequest: () => ({
      deviceId: device.deviceId,
      knownRevision: 0,
      agentVersion: 'bench-downloader',
      hardware: 'simulated',
      providers: ['cpu'],
      cameras: [],
    }),
    onSnapshot: () => undefined,
  });
  controlClients.set(chunkBytes, client);
  client.start();
  // Connected and authenticated (its watch delivered a snapshot) before anything is timed.
  const deadline = performance.now() + CLIENT_READY_TIMEOUT_MS;
  while (client.stats().state !== 'watching') {
    if (performance.now() > deadline)
      throw new Error(
        `download client did not connect within ${CLIENT_READY_TIMEOUT_MS} ms: ${client.stats().lastError ?? 'no error'}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return client;
}

async function grpcDownload(client: ControlClient, sha256: string, hash: Hash | null): Promise<number> {
  let bytes = 0;
  await client.download(
    { sha256, offset: 0 },
    (chunk) => {
      bytes += chunk.data.length;
      hash?.update(chunk.data);
    },
    new AbortController().signal,
  );
  return bytes;
}

let http2Session: ClientHttp2Session | null = null;

/** The same bytes as the body of a bare HTTP/2 response: one session for every download, as a channel. */
async function http2Download(port: number, chunkBytes: number, hash: Hash | null): Promise<number> {
  if (http2Session === null || http2Session.destroyed || http2Session.closed) {
    const session = http2Connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: HTTP2_WINDOW_BYTES } });
    session.on('error', () => undefined);
    await once(session, 'connect');
    session.setLocalWindowSize(HTTP2_WINDOW_BYTES);
    http2Session = session;
  }
  const stream = http2Session.request({ ':path': '/artifact', 'x-chunk-bytes': String(chunkBytes) });
  stream.end();
  return new Promise((resolve, reject) => {
    let bytes = 0;
    stream.once('response', (headers) => {
      if (headers[':status'] !== 200) reject(new Error(`HTTP/2 sender answered ${String(headers[':status'])}`));
    });
    stream.on('data', (data: Buffer) => {
      bytes += data.length;
      hash?.update(data);
    });
    stream.once('end', () => resolve(bytes));
    stream.once('error', reject);
  });
}

/** Asks the raw server for the bytes in `chunkBytes` writes (4-byte request), counts them until it closes. */
function rawDownload(port: number, chunkBytes: number, hash: Hash | null): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const socket = connect(port, '127.0.0.1', () => {
      const request = Buffer.alloc(4);
      request.writeUInt32BE(chunkBytes);
      socket.write(request);
    });
    socket.on('data', (data: Buffer) => {
      bytes += data.length;
      hash?.update(data);
    });
    socket.once('end', () => resolve(bytes));
    socket.once('error', reject);
  });
}

async function download(m: Extract<ToAgents, { type: 'download' }>): Promise<void> {
  const client = m.via === 'grpc' ? await controlClient(m.chunkBytes) : null;
  const digests: string[] = [];
  let bytes = 0;
  const cpu0 = ownCpuMs();
  const t0 = performance.now();
  for (let i = 0; i < m.count; i++) {
    const hash = m.verify ? createHash('sha256') : null;
    const got =
      m.via === 'grpc'
        ? await grpcDownload(client as ControlClient, m.sha256, hash)
        : m.via === 'http2'
          ? await http2Download(m.http2Port, m.chunkBytes, hash)
          : await rawDownload(m.rawPort, m.chunkBytes, hash);
    if (got !== m.sizeBytes)
      throw new Error(`${m.via} download ${i + 1}/${m.count} delivered ${got} of ${m.sizeBytes} bytes`);
    bytes += got;
    if (hash) digests.push(hash.digest('hex'));
  }
  const ms = performance.now() - t0;
  send({ type: 'downloaded', id: m.id, bytes, ms, cpuMs: ownCpuMs() - cpu0, digests });
}

// ---- messages ----------------------------------------------------------------------------------------

async function stop(): Promise<void> {
  for (const agent of agents) agent.close();
  http2Session?.close();
  await Promise.all([...controlClients.values()].map((c) => c.stop()));
  send({ type: 'stopped' });
  process.disconnect?.();
}

process.on('message', (message: ToAgents) => {
  switch (message.type) {
    case 'start':
      target = message.target;
      downloader = message.downloader;
      start(message.target, message.devices, message.connectConcurrency);
      break;
    case 'download':
      download(message).catch((err: unknown) => fail(`download: ${(err as Error).message}`));
      break;
    case 'stop':
      void stop();
      break;
  }
});
// The benchmark went away: nothing left to do.
process.on('disconnect', () => {
  for (const agent of agents) agent.close();
  for (const c of controlClients.values()) void c.stop();
});
