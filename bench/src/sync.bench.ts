import { systemClock } from '@edgefleet/service-kit';
/**
 * Sync benchmark (`npm run bench:sync`). Prints progress on stderr and, as its last line, one JSON object
 * with the figures. Every ratio compares against a baseline measured in this run.
 *
 * 1. End to end: detections/s from a pre-filled SQLite outbox to committed rows, through the real path
 *    (MqttSyncWorker → embedded aedes broker of a ControlPlane → ingest, committed before PUBACK → Store),
 *    timed from the worker's start until the ingest has committed every detection. Baseline: bare
 *    `store.insertBatch` of the same rows, one statement at a time, cut as the sync path cuts them: the
 *    worker's message batches (its default frame and byte limits, exact wire sizes) grouped as the ingest
 *    groups them into one flush (whole messages up to its default batchMaxRows). Rounds are interleaved (bare, sync, bare, sync, …) on one
 *    database, each into a fresh device id so ON CONFLICT never short-circuits; medians are reported.
 *    PostgreSQL (a fresh database per run, dropped at the end) and PGlite (in-process, data dir on disk).
 * 2. Outbox insert rate while the worker drains a full outbox: this process appends frames in a loop
 *    (1 frame per transaction as the agent's camera workers do, then 10), yielding to the event loop after
 *    each transaction, against the same loop on an idle outbox; then checks that every row arrived. Here
 *    the control plane is the `control-plane start` CLI in its own process (same PostgreSQL database), so
 *    this process holds only what a device runs: outbox, worker and the appending loop.
 *
 * Environment: BENCH_SYNC_DETECTIONS (200000), BENCH_ROUNDS (3), BENCH_SYNC_PGLITE_ROUNDS (1),
 * BENCH_SYNC_APPEND_MS (2000 per append phase), BENCH_POSTGRES_URL, BENCH_CPU_PROF_DIR (a V8 CPU profile of the
 * control plane process, written when it exits).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { ControlPlane, parseControlPlaneConfig } from '@edgefleet/control-plane';
import {
  createPgliteStore,
  createPgStore,
  dayOf,
  type DetectionRow,
  type FrameRow,
  type IngestStatsSnapshot,
  type Store,
} from '@edgefleet/control-plane/testing';
import { DEFAULT_SYNC_OPTIONS, MqttSyncWorker, SqliteOutbox, type OutboxFrame } from '@edgefleet/edge-agent/testing';
import { batchHeaderWireSize, detectionWireSize, frameWireSize, type Arm } from '@edgefleet/proto';
import { BenchCleanup } from './bench-cleanup.js';
import { createTempDatabase } from './bench-database.js';
import { startControlPlaneProcess } from './control-plane-process.js';
import { median, positiveIntEnv, progress, round } from './bench-util.js';
import { createLogger, type Logger } from '@edgefleet/service-kit';

const DETECTIONS = positiveIntEnv('BENCH_SYNC_DETECTIONS', 200_000);
const ROUNDS = positiveIntEnv('BENCH_ROUNDS', 3);
const PGLITE_ROUNDS = positiveIntEnv('BENCH_SYNC_PGLITE_ROUNDS', 1);
const APPEND_MS = positiveIntEnv('BENCH_SYNC_APPEND_MS', 2000);
/** Untimed round of each path first, so JIT warm-up and first-connection costs do not land in round 1. */
const WARMUP_DETECTIONS = Math.min(DETECTIONS, 20_000);
const CAMERAS = ['cam-front', 'cam-yard', 'cam-gate'];
const LABELS = ['person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck', 'dog', 'backpack'];
/** Outbox rows pre-filled per transaction (untimed). */
const PREFILL_FRAMES_PER_TX = 1000;
const TARGETS = { detectionsPerSecond: 20_000, ratio: 0.5 };
/** The worker's own defaults (what an agent without overrides uses); the baseline cuts its batches the same way. */
const BATCH_LIMITS = { maxFrames: DEFAULT_SYNC_OPTIONS.batchMaxFrames, maxBytes: DEFAULT_SYNC_OPTIONS.batchMaxBytes };
const POLL_MS = 5;

const work = mkdtempSync(join(tmpdir(), 'sync-bench-'));
const cpLogger = createLogger({ level: 'warn' });
const edgeLogger = createLogger({ level: 'warn' });

/** The worker's warnings on stderr, except the disconnect it logs when the benchmark itself stops it. */
function workerLogger(stopping: () => boolean): Logger {
  const quiet =
    (fn: (msg: string, fields?: Record<string, unknown>) => void) =>
    (msg: string, fields?: Record<string, unknown>) => {
      if (!stopping()) fn(msg, fields);
    };
  return { ...edgeLogger, warn: quiet(edgeLogger.warn), child: () => workerLogger(stopping) };
}

// ---- cleanup ---------------------------------------------------------------------------------------

/** Undo steps, run last-in first-out at the end, on failure and on SIGINT/SIGTERM. */
const cleanup = new BenchCleanup(work);

// ---- data ------------------------------------------------------------------------------------------

/** Deterministic pseudo-random numbers (mulberry32), so every run ships the same values. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `detections` detections as outbox frames: 3 to 7 per frame (5 on average), cameras round-robin at
 * 30 fps each, capture times ending at `endMs`.
 */
function makeFrames(detections: number, endMs: number, seed: number): OutboxFrame[] {
  const rnd = random(seed);
  const counts: number[] = [];
  for (let left = detections, i = 0; left > 0; i++) {
    const n = Math.min(left, 3 + (i % 5));
    counts.push(n);
    left -= n;
  }
  const startMs = endMs - Math.ceil(counts.length / CAMERAS.length) * 33;
  return counts.map((n, i) => ({
    cameraId: CAMERAS[i % CAMERAS.length]!,
    frameId: Math.floor(i / CAMERAS.length) + 1,
    timestampMs: startMs + Math.floor(i / CAMERAS.length) * 33,
    modelId: 'yolov8n',
    modelVersion: '1.4.2',
    arm: 'primary',
    detections: Array.from({ length: n }, () => {
      const classId = Math.floor(rnd() * LABELS.length);
      const x = rnd() * 1800;
      const y = rnd() * 1000;
      return {
        classId,
        label: LABELS[classId]!,
        score: Math.fround(0.25 + rnd() * 0.75),
        box: [
          Math.fround(x),
          Math.fround(y),
          Math.fround(x + 10 + rnd() * 300),
          Math.fround(y + 10 + rnd() * 400),
        ] as const,
      };
    }),
  }));
}

interface RowBatch {
  readonly frames: FrameRow[];
  readonly detections: DetectionRow[];
}

/**
 * The rows the ingest stores for these frames of a fresh outbox (per-camera frame and detection sequence
 * numbers from 1, as the outbox hands them out), cut like the worker's DetectionBatches: whole frames, at
 * most `maxFrames`, and encoded frames plus detections within `maxBytes` minus the largest batch header.
 */
function rowBatches(deviceId: string, frames: readonly OutboxFrame[]): RowBatch[] {
  const budget =
    BATCH_LIMITS.maxBytes - batchHeaderWireSize(deviceId, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const seqs = new Map<string, { frameSeq: number; seq: number }>();
  const out: RowBatch[] = [];
  let current: RowBatch = { frames: [], detections: [] };
  let bytes = 0;
  for (const f of frames) {
    const s = seqs.get(f.cameraId) ?? { frameSeq: 0, seq: 0 };
    s.frameSeq++;
    seqs.set(f.cameraId, s);
    const tsMs = Math.round(f.timestampMs);
    const arm = f.arm as Arm;
    const frame: FrameRow = {
      deviceId,
      cameraId: f.cameraId,
      frameSeq: s.frameSeq,
      frameId: f.frameId,
      tsMs,
      modelId: f.modelId,
      modelVersion: f.modelVersion,
      arm,
      detectionCount: f.detections.length,
    };
    let frameBytes = frameWireSize({ ...frame, timestampMs: tsMs, arm });
    const detections = f.detections.map((d): DetectionRow => {
      s.seq++;
      const row: DetectionRow = {
        deviceId,
        cameraId: f.cameraId,
        seq: s.seq,
        frameSeq: s.frameSeq,
        tsMs,
        modelId: f.modelId,
        modelVersion: f.modelVersion,
        arm,
        classId: d.classId,
        label: d.label,
        score: d.score,
        x1: d.box[0],
        y1: d.box[1],
        x2: d.box[2],
        y2: d.box[3],
      };
      // On the wire a detection takes model and arm from its frame (no overrides).
      frameBytes += detectionWireSize({
        cameraId: row.cameraId,
        seq: row.seq,
        frameSeq: row.frameSeq,
        classId: row.classId,
        label: row.label,
        score: row.score,
        x1: row.x1,
        y1: row.y1,
        x2: row.x2,
        y2: row.y2,
      });
      return row;
    });
    if (current.frames.length > 0 && (current.frames.length >= BATCH_LIMITS.maxFrames || bytes + frameBytes > budget)) {
      out.push(current);
      current = { frames: [], detections: [] };
      bytes = 0;
    }
    current.frames.push(frame);
    current.detections.push(...detections);
    bytes += frameBytes;
  }
  if (current.frames.length > 0) out.push(current);
  return out;
}

function deviceId(kind: 'bare' | 'sync', label: string): string {
  // Same length for both kinds: the device id is part of every row and of the batch header.
  return `bench-${kind}-${label}-${randomBytes(4).toString('hex')}`;
}

// ---- baseline: bare batched INSERT -----------------------------------------------------------------

/** The ingest's default group-commit bound (rows per flush). */
const INGEST_BATCH_MAX_ROWS = parseControlPlaneConfig({}).ingest.batchMaxRows;

/**
 * Message batches grouped the way the ingest's BatchWriter groups a backlog into one statement: whole
 * messages, as many as fit in `batchMaxRows` (at least one). Under a backlog the ingest always has the
 * next messages queued, so this is the grouping it reaches; the figures report its real flush count.
 */
function commitGroups(batches: readonly RowBatch[]): RowBatch[] {
  const out: RowBatch[] = [];
  let current: RowBatch = { frames: [], detections: [] };
  for (const b of batches) {
    const rows = b.frames.length + b.detections.length;
    if (current.frames.length > 0 && current.frames.length + current.detections.length + rows > INGEST_BATCH_MAX_ROWS) {
      out.push(current);
      current = { frames: [], detections: [] };
    }
    current.frames.push(...b.frames);
    current.detections.push(...b.detections);
  }
  if (current.frames.length > 0) out.push(current);
  return out;
}

async function bareRound(
  store: Store,
  frames: readonly OutboxFrame[],
  label: string,
): Promise<{ detectionsPerSecond: number; statements: number }> {
  const device = deviceId('bare', label);
  const groups = commitGroups(rowBatches(device, frames));
  const detections = groups.reduce((s, b) => s + b.detections.length, 0);
  const t0 = performance.now();
  // One statement at a time, like the ingest's flushes.
  for (const g of groups) await store.insertBatch(g.frames, g.detections);
  const seconds = (performance.now() - t0) / 1000;
  const stored = await store.countDetections({ deviceId: device });
  if (stored !== detections) throw new Error(`bare insert stored ${stored} of ${detections} detections for ${device}`);
  return { detectionsPerSecond: detections / seconds, statements: groups.length };
}

// ---- system: outbox → sync worker → embedded broker → ingest → store ----------------------------

/** Where the rows go: a ControlPlane in this process, or the `control-plane start` CLI in a child process. */
interface RigControlPlane {
  readonly mqttPort: number;
  readonly httpPort: number;
  /** The control plane's bootstrap admin token (REST calls). */
  readonly adminToken: string;
  /** How often to look at the ingest counters while waiting. */
  readonly pollMs: number;
  ingest(): Promise<IngestStatsSnapshot>;
  stop(): Promise<void>;
}

async function inProcessControlPlane(store: Store, dataDir: string): Promise<RigControlPlane> {
  const config = parseControlPlaneConfig({
    dataDir,
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    grpc: { host: '127.0.0.1', port: 0 },
  });
  const cp = new ControlPlane(config, { store, logger: cpLogger });
  await cp.start();
  return {
    mqttPort: cp.info.mqtt.port as number,
    httpPort: cp.info.http.port,
    adminToken: cp.adminToken as string,
    // In memory and committed-only (counted after the flush's statement returned): cheap to poll often.
    pollMs: 5,
    ingest: async () => cp.stats.snapshot(),
    stop: () => cp.stop(),
  };
}

async function childControlPlane(databaseUrl: string, dataDir: string): Promise<RigControlPlane> {
  const child = await startControlPlaneProcess(databaseUrl, dataDir);
  return {
    mqttPort: child.mqttPort,
    httpPort: child.httpPort,
    adminToken: child.adminToken,
    pollMs: 20,
    ingest: async () => {
      const res = await fetch(`http://127.0.0.1:${child.httpPort}/api/v1/ingest/stats`, {
        headers: { authorization: `Bearer ${child.adminToken}` },
      });
      if (res.status !== 200) throw new Error(`GET /api/v1/ingest/stats: ${res.status} ${await res.text()}`);
      return (await res.json()) as IngestStatsSnapshot;
    },
    stop: () => child.stop(),
  };
}

interface SyncRig {
  readonly device: string;
  readonly outbox: SqliteOutbox;
  readonly cp: RigControlPlane;
  readonly worker: MqttSyncWorker;
  /** Stops the worker and the control plane, closes the outbox and removes its directory. */
  close(): Promise<void>;
}

/**
 * A fresh outbox pre-filled with `frames` (untimed), a control plane (built by `startCp` in the rig's
 * directory), the device enrolled over its REST API, and the device's worker, not started yet.
 */
async function syncRig(
  frames: readonly OutboxFrame[],
  label: string,
  startCp: (dataDir: string) => Promise<RigControlPlane>,
): Promise<SyncRig> {
  const device = deviceId('sync', label);
  const dir = mkdtempSync(join(work, `${label}-`));
  const outbox = SqliteOutbox.open({
    path: join(dir, 'outbox.sqlite'),
    deviceId: device,
    maxRows: 100_000_000,
    maxBytes: 64 * 1024 ** 3,
  });
  let cp: RigControlPlane | null = null;
  let worker: MqttSyncWorker | null = null;
  let stopping = false;
  const close = async (): Promise<void> => {
    stopping = true;
    await worker?.stop();
    await cp?.stop();
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const t0 = performance.now();
    for (let i = 0; i < frames.length; i += PREFILL_FRAMES_PER_TX)
      outbox.append(frames.slice(i, i + PREFILL_FRAMES_PER_TX));
    const prefillMs = performance.now() - t0;
    const { detections } = outbox.stats();
    progress(
      `  ${label}: outbox pre-filled with ${frames.length} frames, ${detections} detections (${round((frames.length + detections) / (prefillMs / 1000), 0)} rows/s, untimed)`,
    );
    cp = await startCp(join(dir, 'cp'));
    const res = await fetch(`http://127.0.0.1:${cp.httpPort}/api/v1/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${cp.adminToken}` },
      body: JSON.stringify({ deviceId: device }),
    });
    if (res.status !== 201) throw new Error(`enrolment of ${device} failed: ${res.status} ${await res.text()}`);
    const creds = (await res.json()) as { username: string; password: string; clientId: string };
    worker = new MqttSyncWorker({
      clock: systemClock,
      outbox,
      deviceId: device,
      logger: workerLogger(() => stopping),
      settings: {
        url: `mqtt://127.0.0.1:${cp.mqttPort}`,
        clientId: creds.clientId,
        username: creds.username,
        password: creds.password,
        batchMaxFrames: BATCH_LIMITS.maxFrames,
        batchMaxBytes: BATCH_LIMITS.maxBytes,
      },
    });
    return { device, outbox, cp, worker, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Resolves with performance.now() once the ingest has committed `target` new detections; throws after `timeoutMs`. */
async function committed(rig: SyncRig, target: number, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const ingest = await rig.cp.ingest();
    if (ingest.insertedDetections >= target) return performance.now();
    if (performance.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms: ${ingest.insertedDetections} of ${target} detections committed; ` +
          `worker ${JSON.stringify(rig.worker.stats())}; ingest ${JSON.stringify(ingest)}`,
      );
    }
    await sleep(rig.cp.pollMs);
  }
}

/** Checks (untimed) that the database holds exactly the expected rows and nothing was rejected. */
async function verify(store: Store, rig: SyncRig, frames: number, detections: number): Promise<IngestStatsSnapshot> {
  const [d, f, ingest] = await Promise.all([
    store.countDetections({ deviceId: rig.device }),
    store.countFrames({ deviceId: rig.device }),
    rig.cp.ingest(),
  ]);
  const w = rig.worker.stats();
  if (d !== detections || f !== frames || ingest.rejectedTotal > 0 || w.rejectedFrames > 0) {
    throw new Error(
      `${rig.device}: stored ${f}/${frames} frames and ${d}/${detections} detections; ingest rejected ${ingest.rejectedTotal}, worker rejected ${w.rejectedFrames} frames`,
    );
  }
  return ingest;
}

interface SyncResult {
  readonly detectionsPerSecond: number;
  readonly publishedBatches: number;
  readonly flushes: number;
  readonly duplicateRows: number;
  readonly reconnects: number;
}

function timeoutFor(detections: number): number {
  // Generous: 1000 detections/s at least, so only a stall ends a round.
  return Math.max(60_000, detections);
}

async function syncRound(store: Store, frames: readonly OutboxFrame[], label: string): Promise<SyncResult> {
  const rig = await syncRig(frames, label, (dir) => inProcessControlPlane(store, dir));
  cleanup.push(rig.close);
  try {
    const detections = rig.outbox.stats().detections;
    const t0 = performance.now();
    await rig.worker.start();
    const t1 = await committed(rig, detections, timeoutFor(detections));
    const ingest = await verify(store, rig, frames.length, detections);
    const w = rig.worker.stats();
    return {
      detectionsPerSecond: detections / ((t1 - t0) / 1000),
      publishedBatches: w.publishedBatches,
      flushes: ingest.flushes,
      duplicateRows: ingest.duplicateRows,
      reconnects: w.reconnects,
    };
  } finally {
    await cleanup.release(rig.close);
  }
}

// ---- outbox appends while syncing -----------------------------------------------------------------

interface AppendPhase {
  readonly framesPerTransaction: number;
  readonly transactions: number;
  readonly rows: number;
  readonly detections: number;
  readonly frames: number;
  readonly rowsPerSecond: number;
  /** Longest wait for the event loop between two transactions, ms. */
  readonly maxGapMs: number;
}

/**
 * Appends frames for `ms`, `framesPerTx` per transaction, yielding to the event loop after each one (the
 * worker shares this thread, as in the agent). New frames take current capture times.
 */
async function appendFor(outbox: SqliteOutbox, framesPerTx: number, ms: number, seed: number): Promise<AppendPhase> {
  // Enough pre-made frames to cycle through without generating them in the timed loop.
  const pool = makeFrames(framesPerTx * 5 * 512, Date.now(), seed);
  let frames = 0;
  let detections = 0;
  let transactions = 0;
  let next = 0;
  let maxGapMs = 0;
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < ms) {
    if (next + framesPerTx > pool.length) next = 0;
    const batch = pool.slice(next, next + framesPerTx).map((f) => ({ ...f, timestampMs: Date.now() }));
    next += framesPerTx;
    outbox.append(batch);
    transactions++;
    frames += batch.length;
    for (const f of batch) detections += f.detections.length;
    const before = performance.now();
    await yieldToLoop();
    now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - before);
  }
  const seconds = (now - t0) / 1000;
  return {
    framesPerTransaction: framesPerTx,
    transactions,
    rows: frames + detections,
    frames,
    detections,
    rowsPerSecond: (frames + detections) / seconds,
    maxGapMs,
  };
}

const PHASE_TX_SIZES = [1, 10] as const;

async function idleAppendRates(): Promise<AppendPhase[]> {
  const dir = mkdtempSync(join(work, 'idle-append-'));
  const outbox = SqliteOutbox.open({
    path: join(dir, 'outbox.sqlite'),
    deviceId: 'bench-idle',
    maxRows: 100_000_000,
    maxBytes: 64 * 1024 ** 3,
  });
  try {
    const phases: AppendPhase[] = [];
    for (const [i, n] of PHASE_TX_SIZES.entries()) phases.push(await appendFor(outbox, n, APPEND_MS, 1000 + i));
    return phases;
  } finally {
    outbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The device side alone in this process (outbox, worker, appender), the control plane in its own process
 * over the same database: on a device the ingest never shares the agent's event loop.
 */
async function appendWhileSyncing(store: Store, databaseUrl: string, frames: readonly OutboxFrame[]) {
  const rig = await syncRig(frames, 'append', (dir) => childControlPlane(databaseUrl, dir));
  cleanup.push(rig.close);
  try {
    const backlog = rig.outbox.stats();
    const t0 = performance.now();
    await rig.worker.start();
    // Steady state first: connected, and the first batch committed and acknowledged.
    const deadline = performance.now() + 30_000;
    while (rig.worker.stats().ackedBatches === 0) {
      if (performance.now() > deadline)
        throw new Error(`no batch acknowledged within 30 s: ${JSON.stringify(rig.worker.stats())}`);
      await sleep(POLL_MS);
    }
    const phases: AppendPhase[] = [];
    for (const [i, n] of PHASE_TX_SIZES.entries()) phases.push(await appendFor(rig.outbox, n, APPEND_MS, 2000 + i));
    const appendEnd = performance.now();
    // The appends only measure "while syncing" if the pre-filled backlog was still draining when they ended.
    const backlogStillDraining = (await rig.cp.ingest()).insertedDetections < backlog.detections;
    const expectedDetections = backlog.detections + phases.reduce((s, p) => s + p.detections, 0);
    const expectedFrames = backlog.frames + phases.reduce((s, p) => s + p.frames, 0);
    const t1 = await committed(rig, expectedDetections, timeoutFor(expectedDetections));
    await verify(store, rig, expectedFrames, expectedDetections);
    return {
      phases,
      backlogStillDraining,
      appendSeconds: (appendEnd - t0) / 1000,
      expectedDetections,
      syncDetectionsPerSecond: expectedDetections / ((t1 - t0) / 1000),
    };
  } finally {
    await cleanup.release(rig.close);
  }
}

// ---- rounds ----------------------------------------------------------------------------------------

interface StoreFigures {
  bare: number[];
  sync: SyncResult[];
  bareStatements: number;
}

async function interleaved(
  store: Store,
  name: string,
  frames: readonly OutboxFrame[],
  warmup: readonly OutboxFrame[],
  rounds: number,
): Promise<StoreFigures> {
  progress(
    `${name}: warm-up (${warmup.reduce((s, f) => s + f.detections.length, 0)} detections each path, not recorded)`,
  );
  await bareRound(store, warmup, `${name}-w`);
  await syncRound(store, warmup, `${name}-w`);
  const figures: StoreFigures = { bare: [], sync: [], bareStatements: 0 };
  for (let r = 1; r <= rounds; r++) {
    const bare = await bareRound(store, frames, `${name}-${r}`);
    figures.bare.push(bare.detectionsPerSecond);
    figures.bareStatements = bare.statements;
    progress(
      `${name} round ${r}/${rounds}: bare insertBatch ${round(bare.detectionsPerSecond, 0)} detections/s (${bare.statements} statements)`,
    );
    const sync = await syncRound(store, frames, `${name}-${r}`);
    figures.sync.push(sync);
    progress(
      `${name} round ${r}/${rounds}: end to end ${round(sync.detectionsPerSecond, 0)} detections/s ` +
        `(${sync.publishedBatches} MQTT batches, ${sync.flushes} ingest flushes, ${sync.reconnects} reconnects)`,
    );
  }
  return figures;
}

function summary(f: StoreFigures, totalDetections: number, frames: number) {
  const e2e = median(f.sync.map((s) => s.detectionsPerSecond));
  const bare = median(f.bare);
  const flushes = median(f.sync.map((s) => s.flushes));
  return {
    e2eDetectionsPerSecond: round(e2e, 0),
    bareInsertDetectionsPerSecond: round(bare, 0),
    ratio: round(e2e / bare, 3),
    rounds: f.bare.length,
    e2eRounds: f.sync.map((s) => round(s.detectionsPerSecond, 0)),
    bareRounds: f.bare.map((b) => round(b, 0)),
    mqttBatches: median(f.sync.map((s) => s.publishedBatches)),
    bareInsertStatements: f.bareStatements,
    ingestFlushes: flushes,
    ingestRowsPerFlush: round((totalDetections + frames) / flushes, 0),
    duplicateRows: Math.max(...f.sync.map((s) => s.duplicateRows)),
    reconnects: Math.max(...f.sync.map((s) => s.reconnects)),
  };
}

async function main() {
  const now = Date.now();
  const frames = makeFrames(DETECTIONS, now, 1);
  const warmup = makeFrames(WARMUP_DETECTIONS, now, 2);
  progress(
    `${DETECTIONS} detections in ${frames.length} frames over ${CAMERAS.length} cameras; ${ROUNDS} interleaved rounds (bare, sync)`,
  );

  const db = await createTempDatabase('bench_sync');
  cleanup.push(() => db.drop());
  progress(`postgres: database ${db.name}`);
  const pgStore = createPgStore({
    connectionString: db.url,
    onPoolError: (err) => progress(`idle pg connection failed: ${err.message}`),
  });
  const closePg = () => pgStore.close();
  cleanup.push(closePg);
  await pgStore.migrate();
  // The day partitions the control plane's maintainer would create, there for the baseline too.
  await pgStore.ensurePartitions(dayOf(frames[0]!.timestampMs), 3);

  const pgFigures = await interleaved(pgStore, 'postgres', frames, warmup, ROUNDS);

  progress(`outbox appends on an idle outbox (${APPEND_MS} ms per transaction size)`);
  const idle = await idleAppendRates();
  progress(
    `outbox appends while the worker drains ${DETECTIONS} detections (control plane in its own process, PostgreSQL)`,
  );
  const busy = await appendWhileSyncing(pgStore, db.url, frames);
  for (const [i, p] of busy.phases.entries()) {
    progress(
      `  ${p.framesPerTransaction} frame(s)/tx: ${round(p.rowsPerSecond, 0)} rows/s while syncing, ${round(idle[i]!.rowsPerSecond, 0)} rows/s idle`,
    );
  }
  progress(
    `  all ${busy.expectedDetections} detections committed; sync ${round(busy.syncDetectionsPerSecond, 0)} detections/s with the appends`,
  );

  await cleanup.release(closePg);
  const pgliteDir = mkdtempSync(join(work, 'pglite-'));
  const pglite = await createPgliteStore({ dataDir: pgliteDir });
  cleanup.push(() => pglite.close());
  await pglite.migrate();
  await pglite.ensurePartitions(dayOf(frames[0]!.timestampMs), 3);
  const pgliteFigures = await interleaved(pglite, 'pglite', frames, warmup, PGLITE_ROUNDS);

  const detections = DETECTIONS;
  const postgres = summary(pgFigures, detections, frames.length);
  const pgl = summary(pgliteFigures, detections, frames.length);
  const phase = (p: AppendPhase, idlePhase: AppendPhase) => ({
    framesPerTransaction: p.framesPerTransaction,
    rowsPerSecondWhileSyncing: round(p.rowsPerSecond, 0),
    rowsPerSecondIdle: round(idlePhase.rowsPerSecond, 0),
    ratioToIdle: round(p.rowsPerSecond / idlePhase.rowsPerSecond, 3),
    transactions: p.transactions,
    rows: p.rows,
    maxEventLoopGapMs: round(p.maxGapMs, 1),
  });
  const result = {
    bench: 'sync',
    detections,
    frames: frames.length,
    cameras: CAMERAS.length,
    detectionsPerFrame: round(detections / frames.length, 2),
    batchLimits: BATCH_LIMITS,
    postgres,
    pglite: { label: 'PGlite (in-process WASM PostgreSQL, data dir on disk)', ...pgl },
    // The agent writes one frame per transaction: that is the headline figure.
    outboxInsertRowsPerSecondWhileSyncing: round(busy.phases[0]!.rowsPerSecond, 0),
    outboxWhileSyncing: {
      controlPlane: 'control-plane start in its own process, PostgreSQL',
      phaseMs: APPEND_MS,
      phases: busy.phases.map((p, i) => phase(p, idle[i]!)),
      backlogStillDrainingAfterAppends: busy.backlogStillDraining,
      allRowsArrived: true,
      detectionsCommitted: busy.expectedDetections,
      syncDetectionsPerSecondWithAppends: round(busy.syncDetectionsPerSecond, 0),
    },
    targets: TARGETS,
    meetsTargets: postgres.e2eDetectionsPerSecond >= TARGETS.detectionsPerSecond && postgres.ratio >= TARGETS.ratio,
  };
  return result;
}

await cleanup.run(main);
