/**
 * Rollout benchmark (`npm run bench:rollout`). Prints progress on stderr and, as its last line, one JSON
 * object with the figures.
 *
 * The control plane is the real `control-plane start` CLI in its own process, on a fresh PostgreSQL
 * database, REST rate limit off (the benchmark is one client making thousands of calls), gRPC on an
 * ephemeral loopback port. The agents are a second process (simulated-agents.ts): one gRPC channel and
 * HTTP/2 connection per device, Basic credentials of its enrolment, a WatchAssignments stream naming one
 * camera, and for each snapshot with a new revision of that camera the `received` ReportModelStatus a
 * real agent sends first. Its ModelStatusAck is the acknowledgement.
 *
 * 1. Assignment → acknowledgement, 500 agents, credentials cached. Every device enrolled over REST; all
 *    watches open and their cameras known before anything is timed (a watch's first call costs a scrypt).
 *    A round assigns the next newer model to every camera over REST (bounded concurrency); latency =
 *    ack time in the agent process − start of that device's PUT in this process (one machine clock).
 *    One untimed warm-up round, then BENCH_ROUNDS rounds. The control plane runs with
 *    `grpc.authCacheTtlMs` = 1 h here, so no report waits for a credential check: this is the push and
 *    acknowledgement path itself (and a rollout within 30 s of the agents' previous calls).
 * 2. Download: gRPC `DownloadModel` of a real artifact (../shared/models/yolov8n_int8.onnx, uploaded) by
 *    the agent's own ControlClient, against a raw loopback TCP sender in a process of its own that holds
 *    the same bytes in memory (as the control plane's chunk cache does) and writes them in chunks of the
 *    same size, waiting for drain (loopback-copy-process.ts); both clients live in one process of their
 *    own with one channel, as on a device, and count the bytes. Each round runs the paths back to back
 *    (the order flips every round); MB/s = 10^6 bytes/s; the ratio is the median of the rounds' paired
 *    ratios; CPU per MiB of the sender (control plane / copy process) and the receiver beside them. A
 *    third path sends the same bytes from the copy process as the body of a bare cleartext HTTP/2
 *    response (Node's http2, which grpc-js runs on, with the ControlClient's 8 MiB windows, no gRPC
 *    framing, no protobuf): its ratio to raw is the ceiling of any gRPC implementation on Node's HTTP/2
 *    on this machine, and gRPC's ratio to it is what gRPC itself costs. The agent's chunk size (256 KiB) is
 *    the headline, with 64 KiB and 1 MiB (the server's cap) beside it; measured with the 500 watches open
 *    (headline) and, at 256 KiB, before any agent connected.
 * 3. Assignment → acknowledgement after idle, default configuration: the control plane restarted on the
 *    same database and data directory with the default 30 s credential cache, the agents reconnected, one
 *    untimed round, then a wait of the cache's lifetime so no credential is cached any more, then
 *    BENCH_ROLLOUT_IDLE_ROUNDS timed rounds (each after such a wait): a rollout that follows a quiet spell,
 *    where every report costs one scrypt on the control plane.
 *
 * Environment: BENCH_ROLLOUT_AGENTS (500), BENCH_ROUNDS (5), BENCH_ROLLOUT_IDLE_ROUNDS (1),
 * BENCH_ROLLOUT_ASSIGN_CONCURRENCY (16), BENCH_ROLLOUT_DOWNLOAD_MIB (64 per round and path),
 * BENCH_ROLLOUT_DOWNLOAD_ROUNDS (7), BENCH_POSTGRES_URL, BENCH_CPU_PROF_DIR (a V8 CPU profile of every child process:
 * control plane, agents, copy sender; each written when its process exits).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient, parseControlPlaneConfig } from '@edgefleet/control-plane';
import { constantDetector } from '@edgefleet/vision/testing/onnx-builder';
import { AgentProcess } from './agent-process.js';
import { BenchCleanup } from './bench-cleanup.js';
import { createTempDatabase } from './bench-database.js';
import {
  epochMs,
  forEachLimit,
  median,
  percentile,
  positiveIntEnv,
  processCpuMs,
  progress,
  round,
  sharedDir,
} from './bench-util.js';
import { startControlPlaneProcess, type ControlPlaneProcess } from './control-plane-process.js';
import { startLoopbackCopyProcess } from './loopback-copy-process.js';
import { HTTP2_WINDOW_BYTES, type DownloadVia, type SimulatedDevice } from './rollout-ipc.js';

const AGENTS = positiveIntEnv('BENCH_ROLLOUT_AGENTS', 500);
const ROUNDS = positiveIntEnv('BENCH_ROUNDS', 5);
const IDLE_ROUNDS = positiveIntEnv('BENCH_ROLLOUT_IDLE_ROUNDS', 1);
const ASSIGN_CONCURRENCY = positiveIntEnv('BENCH_ROLLOUT_ASSIGN_CONCURRENCY', 16);
const DOWNLOAD_MIB = positiveIntEnv('BENCH_ROLLOUT_DOWNLOAD_MIB', 64);
const DOWNLOAD_ROUNDS = positiveIntEnv('BENCH_ROLLOUT_DOWNLOAD_ROUNDS', 7);
/** Each enrolment costs one scrypt on the control plane (libuv pool of 4). */
const ENROL_CONCURRENCY = 4;
/** Watches waiting for their first snapshot at a time (each costs one scrypt). */
const CONNECT_CONCURRENCY = 100;
/** The agent's `control.downloadChunkBytes` default: the headline; the others are for comparison. */
const AGENT_CHUNK_BYTES = 262_144;
const CHUNK_SIZES = [AGENT_CHUNK_BYTES, 65_536, 1_048_576] as const;
const ACK_TIMEOUT_MS = 180_000;
const CACHED_TTL_MS = 3_600_000;
const DEFAULT_TTL_MS = parseControlPlaneConfig({}).grpc.authCacheTtlMs;
const CAMERA = 'front';
const ARTIFACT = 'models/yolov8n_int8.onnx';
const TARGETS = { ackP99Ms: 1000, downloadRatio: 0.7 };

const work = mkdtempSync(join(tmpdir(), 'rollout-bench-'));
const cleanup = new BenchCleanup(work);

// ---- control plane and registry ---------------------------------------------------------------------

interface Rig {
  readonly cp: ControlPlaneProcess;
  readonly api: ApiClient;
  readonly target: string;
}

async function startRig(databaseUrl: string, dataDir: string, env: Record<string, string>): Promise<Rig> {
  const cp = await startControlPlaneProcess(databaseUrl, dataDir, {
    env: { CP_HTTP__RATE_LIMIT__ENABLED: 'false', ...env },
  });
  cleanup.push(cp.stop);
  if (cp.grpcPort === null) throw new Error('the control plane started without gRPC');
  return {
    cp,
    api: new ApiClient({ url: `http://127.0.0.1:${cp.httpPort}`, token: cp.adminToken }),
    target: `127.0.0.1:${cp.grpcPort}`,
  };
}

async function enrol(api: ApiClient, deviceIds: readonly string[]): Promise<SimulatedDevice[]> {
  const devices: SimulatedDevice[] = new Array(deviceIds.length);
  let done = 0;
  await forEachLimit(deviceIds, ENROL_CONCURRENCY, async (deviceId, i) => {
    const res = await api.json<{ username: string; password: string }>('POST', '/api/v1/devices', { deviceId });
    devices[i] = { deviceId: res.username, password: res.password, cameraId: CAMERA, knownRevision: 0 };
    if (++done % 100 === 0) progress(`  ${done}/${deviceIds.length} enrolled`);
  });
  return devices;
}

interface UploadedModel {
  readonly serial: number;
  readonly sha256: string;
  readonly sizeBytes: number;
}

async function upload(api: ApiClient, file: string, name: string, version: string): Promise<UploadedModel> {
  return api.uploadFile<UploadedModel>(
    `/api/v1/models?name=${encodeURIComponent(name)}&version=${encodeURIComponent(version)}`,
    file,
  );
}

/** `count` tiny real detectors with distinct bytes (a metadata tag each), uploaded in order: serials rise. */
async function uploadDetectors(api: ApiClient, count: number): Promise<UploadedModel[]> {
  const models: UploadedModel[] = [];
  for (let i = 1; i <= count; i++) {
    const file = join(work, `detector-${i}.onnx`);
    writeFileSync(file, constantDetector({ metadata: [['bench-rollout', `round-${i}`]] }));
    models.push(await upload(api, file, 'bench-rollout', String(i)));
  }
  return models;
}

/** Established client connections to `port` on this machine (from /proc/net/tcp), or null where unreadable. */
function establishedConnectionsTo(port: number): number | null {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  try {
    return ['/proc/net/tcp', '/proc/net/tcp6']
      .filter(existsSync)
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').slice(1))
      .filter((line) => {
        const cols = line.trim().split(/\s+/);
        return cols[2]?.endsWith(`:${hexPort}`) && cols[3] === '01';
      }).length;
  } catch {
    return null;
  }
}

// ---- assignment rounds ------------------------------------------------------------------------------

interface RoundSamples {
  /** Assign PUT started → ModelStatusAck back in the agent, ms. */
  readonly ackMs: number[];
  /** Assign PUT started → snapshot with the new revision arrived in the agent, ms. */
  readonly pushMs: number[];
  /** Snapshot arrived → ModelStatusAck back (the report's round trip), ms. */
  readonly reportMs: number[];
  /** The PUT's own duration, ms. */
  readonly assignMs: number[];
  /** First PUT started → last ack, s. */
  readonly seconds: number;
  /** Each device's new camera revision. */
  readonly revisions: readonly number[];
}

/** Assigns `model` to every device's camera and waits for every acknowledgement of the new revisions. */
async function assignRound(
  api: ApiClient,
  agents: AgentProcess,
  devices: readonly SimulatedDevice[],
  model: UploadedModel,
  label: string,
): Promise<RoundSamples> {
  const started = new Array<number>(devices.length);
  const finished = new Array<number>(devices.length);
  const revisions = new Array<number>(devices.length);
  const t0 = epochMs();
  await forEachLimit(devices, ASSIGN_CONCURRENCY, async (d, i) => {
    started[i] = epochMs();
    const res = await api.json<{ revision: number }>(
      'PUT',
      `/api/v1/devices/${d.deviceId}/cameras/${d.cameraId}/assignment`,
      {
        model: model.serial,
        reason: `bench:rollout ${label}`,
      },
    );
    finished[i] = epochMs();
    revisions[i] = res.revision;
    agents.check();
  });
  await agents.waitForAcks(revisions, ACK_TIMEOUT_MS);
  const samples: RoundSamples = { ackMs: [], pushMs: [], reportMs: [], assignMs: [], seconds: 0, revisions };
  let last = t0;
  revisions.forEach((revision, i) => {
    const ack = agents.ack(i, revision)!;
    samples.ackMs.push(ack.ackAt - started[i]!);
    samples.pushMs.push(ack.snapshotAt - started[i]!);
    samples.reportMs.push(ack.ackAt - ack.snapshotAt);
    samples.assignMs.push(finished[i]! - started[i]!);
    last = Math.max(last, ack.ackAt);
  });
  return { ...samples, seconds: (last - t0) / 1000 };
}

function describeRound(label: string, s: RoundSamples): string {
  return (
    `${label}: ${s.ackMs.length} acks in ${round(s.seconds, 2)} s; ack p50 ${round(percentile(s.ackMs, 50), 1)} ms, p99 ${round(percentile(s.ackMs, 99), 1)} ms, ` +
    `max ${round(Math.max(...s.ackMs), 1)} ms (push p50 ${round(percentile(s.pushMs, 50), 1)} ms, report p50 ${round(percentile(s.reportMs, 50), 1)} ms, ` +
    `PUT p50 ${round(percentile(s.assignMs, 50), 1)} ms)`
  );
}

function summarize(rounds: readonly RoundSamples[], devices: number) {
  const all = (pick: (r: RoundSamples) => number[]) => rounds.flatMap(pick);
  const ack = all((r) => r.ackMs);
  const dist = (xs: number[]) => ({ p50Ms: round(percentile(xs, 50), 1), p99Ms: round(percentile(xs, 99), 1) });
  return {
    rounds: rounds.length,
    acknowledgements: ack.length,
    // Every round waits for every device's ack (or the benchmark fails): reaching here means all came.
    allAcknowledged: ack.length === rounds.length * devices,
    p50Ms: round(percentile(ack, 50), 1),
    p95Ms: round(percentile(ack, 95), 1),
    p99Ms: round(percentile(ack, 99), 1),
    maxMs: round(Math.max(...ack), 1),
    roundP99Ms: rounds.map((r) => round(percentile(r.ackMs, 99), 1)),
    roundSeconds: rounds.map((r) => round(r.seconds, 2)),
    push: dist(all((r) => r.pushMs)),
    report: dist(all((r) => r.reportMs)),
    assignRequest: dist(all((r) => r.assignMs)),
  };
}

// ---- downloads --------------------------------------------------------------------------------------

const VIAS: readonly DownloadVia[] = ['grpc', 'raw', 'http2'];

/** One timed download round of one path: throughput, and CPU per MiB on the sending and the receiving side. */
interface DownloadSample {
  readonly mbps: number;
  readonly serverCpuMsPerMiB: number | null;
  readonly clientCpuMsPerMiB: number;
}

const perMiB = (ms: number, bytes: number): number => ms / (bytes / 1024 / 1024);

/**
 * The downloads run in a process of their own with one channel, as on a device (the process holding 500
 * channels spends a large share of its time in GC that no agent has), while the 500 watches stay open on
 * the control plane.
 */
async function downloadBench(
  cp: ControlPlaneProcess,
  target: string,
  downloader: SimulatedDevice,
  artifact: string,
  model: UploadedModel,
  chunkSizes: readonly number[],
  label: string,
) {
  const server = await startLoopbackCopyProcess(artifact);
  cleanup.push(server.close);
  const client = await AgentProcess.start(target, [], downloader, 1, progress);
  const stopClient = () => client.stop();
  cleanup.push(stopClient);
  try {
    const count = Math.max(1, Math.ceil((DOWNLOAD_MIB * 1024 * 1024) / model.sizeBytes));
    const request = (chunkBytes: number, n: number, verify: boolean) => ({
      sha256: model.sha256,
      sizeBytes: model.sizeBytes,
      chunkBytes,
      count: n,
      rawPort: server.port,
      http2Port: server.http2Port,
      verify,
    });
    // Untimed: both paths deliver the artifact's bytes, and connections and code paths are warm.
    for (const chunkBytes of chunkSizes) {
      for (const via of VIAS) {
        const r = await client.download(via, request(chunkBytes, 2, true));
        if (r.digests.some((d) => d !== model.sha256))
          throw new Error(
            `${via} download (${chunkBytes} B chunks) delivered other bytes: ${r.digests.join(', ')} ≠ ${model.sha256}`,
          );
      }
    }
    progress(
      `download ${label}: every path delivers the artifact's sha256; ${DOWNLOAD_ROUNDS} rounds of ${count} × ${model.sizeBytes} bytes per path and chunk size`,
    );
    const samples = new Map<string, DownloadSample[]>();
    for (let r = 1; r <= DOWNLOAD_ROUNDS; r++) {
      for (const chunkBytes of chunkSizes) {
        const line: string[] = [];
        // The order flips every round, so neither path always runs after the other.
        for (const via of r % 2 === 1 ? VIAS : [...VIAS].reverse()) {
          // Sender: the control plane for gRPC, the loopback copy process for the baselines.
          const senderCpu = () => processCpuMs(via === 'grpc' ? cp.pid : server.pid);
          const cpu0 = senderCpu();
          const res = await client.download(via, request(chunkBytes, count, false));
          const cpu1 = senderCpu();
          const sample: DownloadSample = {
            mbps: res.bytes / 1e6 / (res.ms / 1000),
            serverCpuMsPerMiB: cpu0 === null || cpu1 === null ? null : perMiB(cpu1 - cpu0, res.bytes),
            clientCpuMsPerMiB: perMiB(res.cpuMs, res.bytes),
          };
          const key = `${via}/${chunkBytes}`;
          samples.set(key, [...(samples.get(key) ?? []), sample]);
          line.push(`${via} ${round(sample.mbps, 0)} MB/s`);
        }
        progress(
          `download ${label}, round ${r}/${DOWNLOAD_ROUNDS}, ${chunkBytes / 1024} KiB chunks: ${line.join(', ')}`,
        );
      }
    }
    const figures = (via: DownloadVia, chunkBytes: number) => {
      const xs = samples.get(`${via}/${chunkBytes}`) ?? [];
      const server = xs.flatMap((x) => (x.serverCpuMsPerMiB === null ? [] : [x.serverCpuMsPerMiB]));
      return {
        mbps: round(median(xs.map((x) => x.mbps)), 0),
        rounds: xs.map((x) => round(x.mbps, 0)),
        senderCpuMsPerMiB: server.length > 0 ? round(median(server), 2) : null,
        receiverCpuMsPerMiB: round(median(xs.map((x) => x.clientCpuMsPerMiB)), 2),
      };
    };
    // Each round runs the paths back to back, so a round's ratio compares like with like; the headline is
    // the median of those paired ratios (the ratio of the medians is beside it).
    const pairedRatio = (
      via: DownloadVia,
      chunkBytes: number,
      over: DownloadVia = 'raw',
    ): { median: number; rounds: number[] } => {
      const xs = samples.get(`${via}/${chunkBytes}`) ?? [];
      const bases = samples.get(`${over}/${chunkBytes}`) ?? [];
      const rounds = xs.map((x, i) => round(x.mbps / bases[i]!.mbps, 3));
      return { median: round(median(rounds), 3), rounds };
    };
    const byChunkSize = chunkSizes.map((chunkBytes) => {
      const grpc = figures('grpc', chunkBytes);
      const raw = figures('raw', chunkBytes);
      const http2 = figures('http2', chunkBytes);
      const paired = pairedRatio('grpc', chunkBytes);
      return {
        chunkBytes,
        ratio: paired.median,
        ratioPerRound: paired.rounds,
        ratioOfMedians: round(grpc.mbps / raw.mbps, 3),
        http2CeilingRatio: pairedRatio('http2', chunkBytes).median,
        grpcOverHttp2Ratio: pairedRatio('grpc', chunkBytes, 'http2').median,
        grpc,
        raw,
        http2,
      };
    });
    const headline = byChunkSize[0]!;
    return {
      artifact: ARTIFACT,
      sizeBytes: model.sizeBytes,
      downloadsPerRound: count,
      bytesPerRound: count * model.sizeBytes,
      rounds: DOWNLOAD_ROUNDS,
      client: 'edge-agent ControlClient in a process of its own',
      chunkBytes: headline.chunkBytes,
      grpcMBps: headline.grpc.mbps,
      rawLoopbackMBps: headline.raw.mbps,
      ratio: headline.ratio,
      // The same bytes over bare HTTP/2 (no gRPC, no protobuf) from the copy process: Node's HTTP/2 ceiling.
      http2Ceiling: {
        windowBytes: HTTP2_WINDOW_BYTES,
        mbps: headline.http2.mbps,
        ratio: headline.http2CeilingRatio,
        grpcOverHttp2Ratio: headline.grpcOverHttp2Ratio,
      },
      byChunkSize,
    };
  } finally {
    await cleanup.release(stopClient);
    await cleanup.release(server.close);
  }
}

// ---- main -------------------------------------------------------------------------------------------

async function main() {
  const artifact = join(sharedDir, ARTIFACT);
  const haveArtifact = existsSync(artifact);
  if (!haveArtifact)
    progress(
      `shared test data missing at ${artifact} (../shared beside the checkout): the download figures are skipped`,
    );
  const artifactSha256 = haveArtifact ? createHash('sha256').update(readFileSync(artifact)).digest('hex') : null;

  const db = await createTempDatabase('bench_rollout');
  cleanup.push(() => db.drop());
  const dataDir = join(work, 'control-plane');
  progress(
    `postgres: database ${db.name}; ${AGENTS} simulated agents, ${ROUNDS} timed rounds, assign concurrency ${ASSIGN_CONCURRENCY}`,
  );

  // -- 1. credentials cached
  let rig = await startRig(db.url, dataDir, { CP_GRPC__AUTH_CACHE_TTL_MS: String(CACHED_TTL_MS) });
  progress(
    `control plane: http ${rig.cp.httpPort}, grpc ${rig.cp.grpcPort} (credential cache ${CACHED_TTL_MS / 1000} s)`,
  );
  const t0 = performance.now();
  const deviceIds = Array.from({ length: AGENTS }, (_, i) => `sim-agent-${String(i + 1).padStart(4, '0')}`);
  const [downloader, ...devices] = await enrol(rig.api, ['bench-downloader', ...deviceIds]);
  progress(`enrolled ${AGENTS + 1} devices in ${round((performance.now() - t0) / 1000, 1)} s`);
  // Rounds: warm-up + timed (phase 1), warm-up + idle (phase 3). Uploaded in order, so each is newer.
  const detectors = await uploadDetectors(rig.api, 1 + ROUNDS + 1 + IDLE_ROUNDS);
  const big = haveArtifact ? await upload(rig.api, artifact, 'bench-rollout-download', '1') : null;
  if (big && big.sha256 !== artifactSha256)
    throw new Error(`uploaded ${ARTIFACT} has sha256 ${big.sha256}, the file ${artifactSha256}`);
  progress(`uploaded ${detectors.length} detectors${big ? ` and ${ARTIFACT} (${big.sizeBytes} bytes)` : ''}`);

  // The same download figures with no agent connected yet: what the number of connections costs.
  const downloadAlone = big
    ? await downloadBench(
        rig.cp,
        rig.target,
        downloader!,
        artifact,
        big,
        [AGENT_CHUNK_BYTES],
        'with no agent connected',
      )
    : null;

  let agents = await AgentProcess.start(rig.target, devices, downloader!, CONNECT_CONCURRENCY, progress);
  const stopAgents = () => agents.stop();
  cleanup.push(stopAgents);
  const connections = establishedConnectionsTo(rig.cp.grpcPort as number);
  progress(
    `${AGENTS} watches open in ${round(agents.connectMs / 1000, 1)} s (first calls: one scrypt each, untimed); ${connections ?? '?'} gRPC connections established`,
  );

  let next = 0;
  const connectMs = agents.connectMs;
  progress(
    describeRound(
      'warm-up round (untimed)',
      await assignRound(rig.api, agents, devices, detectors[next++]!, 'warm-up'),
    ),
  );
  const cached: RoundSamples[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const s = await assignRound(rig.api, agents, devices, detectors[next++]!, `round ${r}`);
    cached.push(s);
    progress(describeRound(`round ${r}/${ROUNDS}`, s));
  }
  const download = big
    ? await downloadBench(rig.cp, rig.target, downloader!, artifact, big, CHUNK_SIZES, `with ${AGENTS} watches open`)
    : null;

  // -- 3. default configuration, after idle
  await cleanup.release(stopAgents);
  await cleanup.release(rig.cp.stop);
  rig = await startRig(db.url, dataDir, {});
  progress(
    `control plane restarted with the default configuration (credential cache ${DEFAULT_TTL_MS / 1000} s): http ${rig.cp.httpPort}, grpc ${rig.cp.grpcPort}`,
  );
  // Each device resumes from the revision it acknowledged last, as an agent that keeps its state does.
  const lastRevisions = cached.at(-1)!.revisions;
  const known = devices.map((d, i) => ({ ...d, knownRevision: lastRevisions[i]! }));
  agents = await AgentProcess.start(rig.target, known, downloader!, CONNECT_CONCURRENCY, progress);
  cleanup.push(stopAgents);
  progress(`${AGENTS} watches open again in ${round(agents.connectMs / 1000, 1)} s`);
  progress(
    describeRound(
      'warm-up round (untimed)',
      await assignRound(rig.api, agents, known, detectors[next++]!, 'warm-up after restart'),
    ),
  );
  const idle: RoundSamples[] = [];
  for (let r = 1; r <= IDLE_ROUNDS; r++) {
    const waitMs = DEFAULT_TTL_MS + 1000;
    progress(`idle for ${waitMs / 1000} s: every cached credential expires`);
    await sleep(waitMs);
    agents.check();
    const s = await assignRound(rig.api, agents, known, detectors[next++]!, `after idle ${r}`);
    idle.push(s);
    progress(describeRound(`after-idle round ${r}/${IDLE_ROUNDS}`, s));
  }
  await cleanup.release(stopAgents);
  await cleanup.release(rig.cp.stop);

  const ack = summarize(cached, AGENTS);
  const ackAfterIdle = summarize(idle, AGENTS);
  const meets = {
    ackP99: ack.p99Ms < TARGETS.ackP99Ms,
    ackAfterIdleP99: ackAfterIdle.p99Ms < TARGETS.ackP99Ms,
    downloadRatio: download !== null && download.ratio >= TARGETS.downloadRatio,
  };
  const result = {
    bench: 'rollout',
    agents: AGENTS,
    grpcConnections: connections,
    assignConcurrency: ASSIGN_CONCURRENCY,
    // Opening every watch, first calls included (one scrypt each; not part of any figure above).
    connectSeconds: round(connectMs / 1000, 1),
    ack: { credentialCacheMs: CACHED_TTL_MS, ...ack },
    ackAfterIdle: { credentialCacheMs: DEFAULT_TTL_MS, idleMs: DEFAULT_TTL_MS + 1000, ...ackAfterIdle },
    download:
      download === null ? { skipped: `shared test data missing at ${artifact}` } : { watchesOpen: AGENTS, ...download },
    downloadWithNoAgentConnected: downloadAlone === null ? null : { watchesOpen: 0, ...downloadAlone },
    targets: TARGETS,
    meetsTargetsDetail: meets,
    meetsTargets: meets.ackP99 && meets.ackAfterIdleP99 && meets.downloadRatio,
  };
  return result;
}

await cleanup.run(main);
