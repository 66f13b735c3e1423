/**
 * A ledger of everything an agent's outbox committed, kept in the outbox file itself: a trigger copies
 * each detection row into `ledger_detections` inside the agent's own insert transaction, so the ledger
 * holds exactly the committed rows (a kill -9 rolls back both) and survives their acknowledgement.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DetectionRow, Store } from '@edgefleet/control-plane/testing';
import { SqliteOutbox } from '@edgefleet/edge-agent/testing';
import Database from 'better-sqlite3';

const COLUMNS =
  'camera_id, seq, frame_seq, ts_ms, model_id, model_version, arm, class_id, label, score, x1, y1, x2, y2';

/** What the ingest stores of a detection, as compared with the ledger. */
export type CommittedDetection = Omit<DetectionRow, 'deviceId'>;

/** Creates the outbox at `path` (the agent's schema) with the ledger, before any agent writes to it. */
export function installOutboxLedger(path: string, deviceId: string): void {
  mkdirSync(dirname(path), { recursive: true });
  SqliteOutbox.open({ path, deviceId, maxRows: 1_000_000, maxBytes: 1 << 30 }).close();
  const db = new Database(path);
  try {
    db.exec(`
      CREATE TABLE ledger_detections AS SELECT ${COLUMNS} FROM detections WHERE 0;
      CREATE TRIGGER ledger_detections_insert AFTER INSERT ON detections BEGIN
        INSERT INTO ledger_detections (${COLUMNS})
        VALUES (NEW.camera_id, NEW.seq, NEW.frame_seq, NEW.ts_ms, NEW.model_id, NEW.model_version, NEW.arm,
                NEW.class_id, NEW.label, NEW.score, NEW.x1, NEW.y1, NEW.x2, NEW.y2);
      END;`);
  } finally {
    db.close();
  }
}

function readOnly<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Every detection the outbox committed for `cameraId`, by sequence number. */
export function committedDetections(path: string, cameraId: string): CommittedDetection[] {
  const camelCase = COLUMNS.split(', ')
    .map((c) => `${c} AS "${c.replace(/_(\w)/g, (_m, ch: string) => ch.toUpperCase())}"`)
    .join(', ');
  return readOnly(
    path,
    (db) =>
      db
        .prepare(`SELECT ${camelCase} FROM ledger_detections WHERE camera_id = ? ORDER BY seq`)
        .all(cameraId) as CommittedDetection[],
  );
}

/**
 * Detections still in the outbox (unacknowledged: the agent will send them again) that the database
 * already stores: a kill that leaves any hit a batch in flight, and the next run must redeliver it.
 */
export async function storedButUnacknowledged(path: string, store: Store, deviceId: string): Promise<number> {
  const pending = readOnly(
    path,
    (db) => db.prepare('SELECT camera_id, seq FROM detections').all() as { camera_id: string; seq: number }[],
  );
  const byCamera = new Map<string, Set<number>>();
  for (const p of pending) byCamera.set(p.camera_id, (byCamera.get(p.camera_id) ?? new Set()).add(p.seq));
  let stored = 0;
  for (const [camera, seqs] of byCamera) {
    const recent = await store.recentDetections(deviceId, camera, 10_000);
    stored += recent.filter((d) => seqs.has(d.seq)).length;
  }
  return stored;
}
