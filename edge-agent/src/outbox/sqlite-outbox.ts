import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type {
  AppendedFrame,
  AppendResult,
  EvictedRange,
  EvictionEvent,
  EvictionListener,
  Outbox,
  OutboxFrame,
  OutboxStats,
  PeekResult,
  StoredDetection,
  StoredFrame,
} from './outbox.js';
import { OutboxError } from './outbox-error.js';
import { migrateOutbox } from './outbox-schema.js';
import { estimateFrameBytes } from './row-size.js';

/**
 * `normal`: in WAL mode a commit is durable across a process crash (kill -9, OOM), the database can
 * never be corrupted, and no fsync happens per append (cheap on SD cards/eMMC, no flash wear from
 * 30 commits/s per camera). A power loss can roll back the last commits since the previous checkpoint,
 * which is why the sync worker calls `checkpoint()` (fsync) before it publishes rows: numbers the
 * broker has seen are then on stable storage and can never be handed out twice.
 * `full`: fsync on every commit; choose it when even unsent detections must survive power loss.
 */
export type OutboxSynchronous = 'normal' | 'full';

export interface SqliteOutboxOptions {
  /** Database file; its directory is created when missing. */
  readonly path: string;
  /** Written into every row so rows stay meaningful after they leave the device. */
  readonly deviceId: string;
  /**
   * Bound on stored rows, frames plus detections together (a frame with no detection still costs a row).
   * @example 1_000_000
   */
  readonly maxRows: number;
  /** Bound on accounted bytes (see `estimateFrameBytes`), not on the file size. */
  readonly maxBytes: number;
  /** Default 'normal' (see OutboxSynchronous). */
  readonly synchronous?: OutboxSynchronous;
  /**
   * Hard cap on the database file (SQLite `max_page_count`); writes past it fail with SQLITE_FULL
   * exactly as on a full disk. Unset: only the disk limits it.
   */
  readonly maxFileBytes?: number;
}

interface FrameRow {
  row_id: number;
  device_id: string;
  camera_id: string;
  frame_seq: number;
  frame_id: number;
  ts_ms: number;
  model_id: string;
  model_version: string;
  arm: string;
  detection_count: number;
  first_seq: number | null;
  last_seq: number | null;
  bytes: number;
  brightness: number | null;
  contrast: number | null;
  sharpness: number | null;
  saturation: number | null;
  luma_grid: Buffer | null;
}

interface DetectionRow {
  row_id: number;
  frame_row_id: number;
  device_id: string;
  camera_id: string;
  seq: number;
  frame_seq: number;
  frame_id: number;
  ts_ms: number;
  model_id: string;
  model_version: string;
  arm: string;
  class_id: number;
  label: string;
  score: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

interface CameraSeq {
  lastFrameSeq: number;
  lastSeq: number;
}

/** Running totals kept in memory (one process owns the file) and recomputed from the tables on open. */
interface Totals {
  frames: number;
  detections: number;
  bytes: number;
  evictedFrames: number;
  evictedDetections: number;
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new OutboxError('open', `option ${name} must be a positive integer, got ${String(value)}`);
  }
}

function statements(db: Database.Database) {
  return {
    insertFrame: db.prepare(
      `INSERT INTO frames (device_id, camera_id, frame_seq, frame_id, ts_ms, model_id, model_version, arm,
         detection_count, first_seq, last_seq, bytes, brightness, contrast, sharpness, saturation, luma_grid)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertDetection: db.prepare(
      `INSERT INTO detections (frame_row_id, device_id, camera_id, seq, frame_seq, frame_id, ts_ms, model_id,
         model_version, arm, class_id, label, score, x1, y1, x2, y2)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    upsertCameraSeq: db.prepare(
      `INSERT INTO camera_seq (camera_id, last_frame_seq, last_seq) VALUES (?, ?, ?)
       ON CONFLICT (camera_id) DO UPDATE SET last_frame_seq = excluded.last_frame_seq, last_seq = excluded.last_seq`,
    ),
    oldestFrames: db.prepare<[], Pick<FrameRow, 'row_id' | 'camera_id' | 'frame_seq' | 'detection_count' | 'bytes'>>(
      'SELECT row_id, camera_id, frame_seq, detection_count, bytes FROM frames ORDER BY row_id',
    ),
    deleteDetectionsUpTo: db.prepare('DELETE FROM detections WHERE frame_row_id <= ?'),
    deleteFramesUpTo: db.prepare('DELETE FROM frames WHERE row_id <= ?'),
    deleteDetectionsOf: db.prepare('DELETE FROM detections WHERE frame_row_id = ?'),
    deleteFrame: db.prepare<[number], Pick<FrameRow, 'detection_count' | 'bytes'>>(
      'DELETE FROM frames WHERE row_id = ? RETURNING detection_count, bytes',
    ),
    addCounter: db.prepare('UPDATE counters SET value = value + ? WHERE name = ?'),
    peekFrames: db.prepare<[number, number], FrameRow>('SELECT * FROM frames WHERE row_id > ? ORDER BY row_id LIMIT ?'),
    peekDetections: db.prepare<[number, number], DetectionRow>(
      'SELECT * FROM detections WHERE frame_row_id BETWEEN ? AND ? ORDER BY frame_row_id, row_id',
    ),
  };
}

/**
 * The outbox on SQLite (better-sqlite3, WAL). One instance owns the file: totals and sequence state are
 * cached in memory and only advanced after a transaction committed.
 */
export class SqliteOutbox implements Outbox {
  private readonly stmts: ReturnType<typeof statements>;
  private readonly listeners = new Set<EvictionListener>();
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly options: SqliteOutboxOptions,
    private totals: Totals,
    private readonly seqs: Map<string, CameraSeq>,
  ) {
    this.stmts = statements(db);
  }

  /** Opens (creating or migrating) the outbox file. Throws EDGE_ERR_OUTBOX when it cannot. */
  static open(options: SqliteOutboxOptions): SqliteOutbox {
    positiveInteger('maxRows', options.maxRows);
    positiveInteger('maxBytes', options.maxBytes);
    if (options.maxFileBytes !== undefined) positiveInteger('maxFileBytes', options.maxFileBytes);
    if (typeof options.deviceId !== 'string' || options.deviceId.length === 0) {
      throw new OutboxError('open', 'option deviceId must be a non-empty string');
    }
    const synchronous = options.synchronous ?? 'normal';
    if (synchronous !== 'normal' && synchronous !== 'full') {
      throw new OutboxError('open', `option synchronous must be 'normal' or 'full', got ${String(synchronous)}`);
    }
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(options.path), { recursive: true });
      db = new Database(options.path);
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal')
        throw new OutboxError('open', `${options.path}: WAL mode not available (journal_mode=${String(mode)})`);
      db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
      // Another process (a backup, sqlite3 CLI) may briefly hold the lock.
      db.pragma('busy_timeout = 5000');
      // Truncate the WAL after checkpoints so it does not keep its high-water size on disk.
      db.pragma('journal_size_limit = 16777216');
      migrateOutbox(db, options.path);
      if (options.maxFileBytes !== undefined) {
        const pageSize = db.pragma('page_size', { simple: true }) as number;
        db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxFileBytes / pageSize))}`);
      }
      const sums = db
        .prepare<[], { frames: number; detections: number; bytes: number }>(
          'SELECT count(*) AS frames, coalesce(sum(detection_count), 0) AS detections, coalesce(sum(bytes), 0) AS bytes FROM frames',
        )
        .get()!;
      const counters = new Map(
        db
          .prepare<[], { name: string; value: number }>('SELECT name, value FROM counters')
          .all()
          .map((r) => [r.name, r.value]),
      );
      const seqs = new Map<string, CameraSeq>();
      for (const r of db
        .prepare<[], { camera_id: string; last_frame_seq: number; last_seq: number }>('SELECT * FROM camera_seq')
        .all()) {
        seqs.set(r.camera_id, { lastFrameSeq: r.last_frame_seq, lastSeq: r.last_seq });
      }
      const totals: Totals = {
        ...sums,
        evictedFrames: counters.get('evicted_frames') ?? 0,
        evictedDetections: counters.get('evicted_detections') ?? 0,
      };
      return new SqliteOutbox(db, { ...options, synchronous }, totals, seqs);
    } catch (err) {
      db?.close();
      throw OutboxError.from(`open ${options.path}`, err);
    }
  }

  append(frames: readonly OutboxFrame[]): AppendResult {
    this.assertOpen();
    if (frames.length === 0) return { frames: [], evicted: null };
    const { deviceId, maxRows, maxBytes } = this.options;
    let newRows = 0;
    let newBytes = 0;
    const sizes = frames.map((f, i) => {
      // Camera ids key the sequence numbers; an empty one would silently merge cameras.
      if (typeof f.cameraId !== 'string' || f.cameraId === '') {
        throw new OutboxError('append', `frame ${i} has no cameraId`);
      }
      const bytes = estimateFrameBytes(deviceId, f);
      newRows += 1 + f.detections.length;
      newBytes += bytes;
      return bytes;
    });
    // Work on copies; they replace the cached state only once the transaction committed.
    const touched = new Map<string, CameraSeq>();
    const totals = { ...this.totals };
    const evictions: EvictionEvent[] = [];
    let appended: AppendedFrame[];
    try {
      appended = this.db.transaction(() => {
        const overRows = totals.frames + totals.detections + newRows - maxRows;
        const overBytes = totals.bytes + newBytes - maxBytes;
        if (overRows > 0 || overBytes > 0) this.evictInto(totals, overRows, overBytes, 'bounds', evictions);
        const out = frames.map((f, i) => this.insertFrame(f, sizes[i] as number, touched));
        for (const [cameraId, s] of touched) this.stmts.upsertCameraSeq.run(cameraId, s.lastFrameSeq, s.lastSeq);
        totals.frames += frames.length;
        totals.detections += newRows - frames.length;
        totals.bytes += newBytes;
        // Only when this batch alone exceeds the bounds: its own oldest frames go (their numbers stay used).
        const stillRows = totals.frames + totals.detections - maxRows;
        const stillBytes = totals.bytes - maxBytes;
        if (stillRows > 0 || stillBytes > 0) this.evictInto(totals, stillRows, stillBytes, 'bounds', evictions);
        return out;
      })();
    } catch (err) {
      throw OutboxError.from('append', err);
    }
    this.totals = totals;
    for (const [cameraId, s] of touched) this.seqs.set(cameraId, s);
    const evicted = mergeEvictions(evictions);
    if (evicted) this.emit(evicted);
    return { frames: appended, evicted };
  }

  private insertFrame(f: OutboxFrame, bytes: number, touched: Map<string, CameraSeq>): AppendedFrame {
    const prev = touched.get(f.cameraId) ?? this.seqs.get(f.cameraId) ?? { lastFrameSeq: 0, lastSeq: 0 };
    const frameSeq = prev.lastFrameSeq + 1;
    const n = f.detections.length;
    const firstSeq = n > 0 ? prev.lastSeq + 1 : null;
    const lastSeq = n > 0 ? prev.lastSeq + n : null;
    const deviceId = this.options.deviceId;
    const info = this.stmts.insertFrame.run(
      deviceId,
      f.cameraId,
      frameSeq,
      f.frameId,
      Math.round(f.timestampMs),
      f.modelId,
      f.modelVersion,
      f.arm,
      n,
      firstSeq,
      lastSeq,
      bytes,
      f.imageStats?.brightness ?? null,
      f.imageStats?.contrast ?? null,
      f.imageStats?.sharpness ?? null,
      f.imageStats?.saturation ?? null,
      f.imageStats ? encodeLumaGrid(f.imageStats.lumaGrid) : null,
    );
    const rowId = Number(info.lastInsertRowid);
    let seq = prev.lastSeq;
    for (const d of f.detections) {
      seq++;
      this.stmts.insertDetection.run(
        rowId,
        deviceId,
        f.cameraId,
        seq,
        frameSeq,
        f.frameId,
        Math.round(f.timestampMs),
        d.modelId ?? f.modelId,
        d.modelVersion ?? f.modelVersion,
        d.arm ?? f.arm,
        d.classId,
        d.label,
        d.score,
        d.box[0],
        d.box[1],
        d.box[2],
        d.box[3],
      );
    }
    touched.set(f.cameraId, { lastFrameSeq: frameSeq, lastSeq: seq });
    return { rowId, cameraId: f.cameraId, frameSeq, firstSeq, lastSeq };
  }

  /**
   * Deletes the oldest frames (with their detections) until at least `overRows` rows and `overBytes`
   * bytes are freed, or nothing is left; updates `totals` and the persisted counters. Runs inside the
   * caller's transaction.
   */
  private evictInto(
    totals: Totals,
    overRows: number,
    overBytes: number,
    reason: EvictionEvent['reason'],
    out: EvictionEvent[],
    maxFrames = Infinity,
  ): void {
    let frames = 0;
    let detections = 0;
    let bytes = 0;
    let lastRowId = 0;
    const cameras = new Map<
      string,
      { frames: number; detections: number; firstFrameSeq: number; lastFrameSeq: number }
    >();
    for (const row of this.stmts.oldestFrames.iterate()) {
      if (frames >= maxFrames || (frames + detections >= overRows && bytes >= overBytes)) break;
      frames++;
      detections += row.detection_count;
      bytes += row.bytes;
      lastRowId = row.row_id;
      const c = cameras.get(row.camera_id);
      if (c) {
        c.frames++;
        c.detections += row.detection_count;
        c.firstFrameSeq = Math.min(c.firstFrameSeq, row.frame_seq);
        c.lastFrameSeq = Math.max(c.lastFrameSeq, row.frame_seq);
      } else {
        cameras.set(row.camera_id, {
          frames: 1,
          detections: row.detection_count,
          firstFrameSeq: row.frame_seq,
          lastFrameSeq: row.frame_seq,
        });
      }
    }
    if (frames === 0) return;
    this.stmts.deleteDetectionsUpTo.run(lastRowId);
    this.stmts.deleteFramesUpTo.run(lastRowId);
    this.stmts.addCounter.run(frames, 'evicted_frames');
    this.stmts.addCounter.run(detections, 'evicted_detections');
    totals.frames -= frames;
    totals.detections -= detections;
    totals.bytes -= bytes;
    totals.evictedFrames += frames;
    totals.evictedDetections += detections;
    out.push({
      reason,
      frames,
      detections,
      bytes,
      cameras: [...cameras].map(([cameraId, c]) => ({ cameraId, ...c })),
    });
  }

  peekFrames(limit: number, afterRowId = 0): PeekResult {
    this.assertOpen();
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new OutboxError('peek', `limit must be a positive integer, got ${String(limit)}`);
    try {
      const frameRows = this.stmts.peekFrames.all(afterRowId, limit);
      if (frameRows.length === 0) return { frames: [], detections: [] };
      const first = (frameRows[0] as FrameRow).row_id;
      const last = (frameRows[frameRows.length - 1] as FrameRow).row_id;
      const detectionRows = this.stmts.peekDetections.all(first, last);
      return { frames: frameRows.map(toStoredFrame), detections: detectionRows.map(toStoredDetection) };
    } catch (err) {
      throw OutboxError.from('peek', err);
    }
  }

  ack(frameRowIds: readonly number[]): number {
    this.assertOpen();
    if (frameRowIds.length === 0) return 0;
    const totals = { ...this.totals };
    let deleted: number;
    try {
      deleted = this.db.transaction(() => {
        let n = 0;
        for (const id of frameRowIds) {
          this.stmts.deleteDetectionsOf.run(id);
          // Unknown ids (already acked, or evicted meanwhile) are skipped: ack is idempotent.
          const row = this.stmts.deleteFrame.get(id);
          if (!row) continue;
          n++;
          totals.frames--;
          totals.detections -= row.detection_count;
          totals.bytes -= row.bytes;
        }
        return n;
      })();
    } catch (err) {
      throw OutboxError.from('ack', err);
    }
    this.totals = totals;
    return deleted;
  }

  evictOldest(frames: number): EvictionEvent | null {
    this.assertOpen();
    if (!Number.isSafeInteger(frames) || frames < 1)
      throw new OutboxError('evict', `frames must be a positive integer, got ${String(frames)}`);
    const totals = { ...this.totals };
    const evictions: EvictionEvent[] = [];
    try {
      this.db.transaction(() => this.evictInto(totals, Infinity, Infinity, 'manual', evictions, frames))();
    } catch (err) {
      throw OutboxError.from('evict', err);
    }
    this.totals = totals;
    const evicted = mergeEvictions(evictions);
    if (evicted) this.emit(evicted);
    return evicted;
  }

  lastSeq(cameraId: string): number {
    return this.seqs.get(cameraId)?.lastSeq ?? 0;
  }

  lastFrameSeq(cameraId: string): number {
    return this.seqs.get(cameraId)?.lastFrameSeq ?? 0;
  }

  checkpoint(): void {
    this.assertOpen();
    try {
      // sqlite.org/wal.html: with synchronous=NORMAL the WAL is fsynced before each checkpoint.
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch (err) {
      throw OutboxError.from('checkpoint', err);
    }
  }

  stats(): OutboxStats {
    const { frames, detections, bytes, evictedFrames, evictedDetections } = this.totals;
    return { frames, detections, bytes, evictedFrames, evictedDetections };
  }

  onEvicted(listener: EvictionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.db.close();
  }

  private emit(event: EvictionEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        // The rows are committed; a faulty listener must not turn that into a reported failure,
        // but it must not vanish either: rethrow outside this call.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new OutboxError('use', 'outbox is closed');
  }
}

function mergeEvictions(events: readonly EvictionEvent[]): EvictionEvent | null {
  if (events.length === 0) return null;
  if (events.length === 1) return events[0] as EvictionEvent;
  const cameras = new Map<string, EvictedRange>();
  for (const e of events) {
    for (const c of e.cameras) {
      const prev = cameras.get(c.cameraId);
      cameras.set(
        c.cameraId,
        prev
          ? {
              cameraId: c.cameraId,
              frames: prev.frames + c.frames,
              detections: prev.detections + c.detections,
              firstFrameSeq: Math.min(prev.firstFrameSeq, c.firstFrameSeq),
              lastFrameSeq: Math.max(prev.lastFrameSeq, c.lastFrameSeq),
            }
          : c,
      );
    }
  }
  return {
    reason: (events[0] as EvictionEvent).reason,
    frames: events.reduce((s, e) => s + e.frames, 0),
    detections: events.reduce((s, e) => s + e.detections, 0),
    bytes: events.reduce((s, e) => s + e.bytes, 0),
    cameras: [...cameras.values()],
  };
}

// toStoredFrame and toStoredDetection spell out the columns they share on purpose: the sync worker maps
// every outbox row through them, and building the shared part once and spreading it into each row made
// bench:sync's end-to-end ratio fall from about 0.8 to 0.55 and stalled outbox appends while syncing.
function toStoredFrame(r: FrameRow): StoredFrame {
  return {
    rowId: r.row_id,
    deviceId: r.device_id,
    cameraId: r.camera_id,
    frameSeq: r.frame_seq,
    frameId: r.frame_id,
    timestampMs: r.ts_ms,
    modelId: r.model_id,
    modelVersion: r.model_version,
    arm: r.arm,
    detectionCount: r.detection_count,
    firstSeq: r.first_seq,
    lastSeq: r.last_seq,
    bytes: r.bytes,
    imageStats:
      r.brightness === null || r.luma_grid === null
        ? null
        : {
            brightness: r.brightness,
            contrast: r.contrast ?? 0,
            sharpness: r.sharpness ?? 0,
            saturation: r.saturation ?? 0,
            lumaGrid: decodeLumaGrid(r.luma_grid),
          },
  };
}

/** The luma grid as a BLOB of float32 little-endian values (the precision it has on the wire). */
function encodeLumaGrid(grid: readonly number[]): Buffer {
  const buf = Buffer.allocUnsafe(grid.length * 4);
  for (let i = 0; i < grid.length; i++) buf.writeFloatLE(grid[i]!, i * 4);
  return buf;
}

function decodeLumaGrid(buf: Buffer): number[] {
  const grid = new Array<number>(buf.length >> 2);
  for (let i = 0; i < grid.length; i++) grid[i] = buf.readFloatLE(i * 4);
  return grid;
}

function toStoredDetection(r: DetectionRow): StoredDetection {
  return {
    rowId: r.row_id,
    frameRowId: r.frame_row_id,
    deviceId: r.device_id,
    cameraId: r.camera_id,
    seq: r.seq,
    frameSeq: r.frame_seq,
    frameId: r.frame_id,
    timestampMs: r.ts_ms,
    modelId: r.model_id,
    modelVersion: r.model_version,
    arm: r.arm,
    classId: r.class_id,
    label: r.label,
    score: r.score,
    box: [r.x1, r.y1, r.x2, r.y2],
  };
}
