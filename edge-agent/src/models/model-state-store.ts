import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { CandidateMode, ModelArm, ModelDescriptor, RollbackPolicy } from '@edgefleet/proto';
import { EdgeError } from '../errors.js';

/**
 * The last activation of a camera, for the crash-loop rule (docs/architecture.md §6: a boot counter persisted
 * in SQLite).
 */
export interface Activation {
  /** Which model was activated: the primary, or the candidate. */
  readonly arm: 'primary' | 'candidate';
  readonly sha256: string;
  readonly atMs: number;
  /** Boots without a clean stop since the activation. */
  readonly boots: number;
  /** Survived the crash-loop window: restarts no longer count against it. */
  readonly stable: boolean;
}

/** What one camera runs, as persisted: the agent boots on it even when the control plane is unreachable. */
export interface PersistedCamera {
  readonly cameraId: string;
  /** Highest assignment revision handled (applied, refused or rolled back); 0: none. */
  readonly revision: number;
  /** null: the configured model (the baseline). */
  readonly primary: ModelDescriptor | null;
  /** What a rollback of the primary returns to; null: the baseline. */
  readonly previous: ModelDescriptor | null;
  readonly candidate: ModelDescriptor | null;
  readonly candidateMode: CandidateMode | null;
  readonly splitBasisPoints: number;
  readonly policy: RollbackPolicy | null;
  readonly activation: Activation | null;
}

export function emptyCamera(cameraId: string): PersistedCamera {
  return {
    cameraId,
    revision: 0,
    primary: null,
    previous: null,
    candidate: null,
    candidateMode: null,
    splitBasisPoints: 0,
    policy: null,
    activation: null,
  };
}

/** The arm a candidate's reports and detections carry. */
export function candidateArm(mode: CandidateMode | null): ModelArm {
  return mode === 'shadow' ? 'shadow' : 'candidate';
}

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE cameras (
    camera_id TEXT PRIMARY KEY,
    state     TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE agent (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
];

interface DescriptorJson extends Omit<ModelDescriptor, 'signature'> {
  readonly signature: string;
}

const toJson = (d: ModelDescriptor | null): DescriptorJson | null =>
  d ? { ...d, signature: Buffer.from(d.signature).toString('base64') } : null;
const fromJson = (d: DescriptorJson | null): ModelDescriptor | null =>
  d ? { ...d, signature: new Uint8Array(Buffer.from(d.signature, 'base64')) } : null;

/**
 * Per-camera model state and the clean-stop flag in `<dataDir>/model-state.sqlite` (WAL, synchronous FULL:
 * a few writes per activation, and an activation that a power cut forgot could boot a rolled-back model).
 */
export class ModelStateStore {
  private constructor(private readonly db: Database.Database) {}

  static open(path: string): ModelStateStore {
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current > MIGRATIONS.length)
        throw new Error(`schema version ${current} is newer than this agent's ${MIGRATIONS.length}`);
      for (let v = current + 1; v <= MIGRATIONS.length; v++) {
        const sql = MIGRATIONS[v - 1] as string;
        db.transaction(() => {
          db!.exec(sql);
          db!.pragma(`user_version = ${v}`);
        })();
      }
      return new ModelStateStore(db);
    } catch (err) {
      db?.close();
      throw new EdgeError('EDGE_ERR_MODEL_STATE', `open ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  load(): Map<string, PersistedCamera> {
    const out = new Map<string, PersistedCamera>();
    for (const row of this.db
      .prepare<[], { camera_id: string; state: string }>('SELECT camera_id, state FROM cameras')
      .all()) {
      const s = JSON.parse(row.state) as Omit<PersistedCamera, 'primary' | 'previous' | 'candidate'> & {
        primary: DescriptorJson | null;
        previous: DescriptorJson | null;
        candidate: DescriptorJson | null;
      };
      out.set(row.camera_id, {
        ...s,
        cameraId: row.camera_id,
        primary: fromJson(s.primary),
        previous: fromJson(s.previous),
        candidate: fromJson(s.candidate),
      });
    }
    return out;
  }

  save(c: PersistedCamera): void {
    const state = JSON.stringify({
      ...c,
      primary: toJson(c.primary),
      previous: toJson(c.previous),
      candidate: toJson(c.candidate),
    });
    try {
      this.db
        .prepare(
          'INSERT INTO cameras (camera_id, state) VALUES (?, ?) ON CONFLICT (camera_id) DO UPDATE SET state = excluded.state',
        )
        .run(c.cameraId, state);
    } catch (err) {
      throw new EdgeError('EDGE_ERR_MODEL_STATE', `save camera ${c.cameraId}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** Called once at boot: whether the previous run stopped cleanly; from now on the agent counts as running. */
  markRunning(): { cleanStop: boolean } {
    const row = this.db.prepare<[], { value: string }>("SELECT value FROM agent WHERE key = 'run_state'").get();
    this.db
      .prepare(
        "INSERT INTO agent (key, value) VALUES ('run_state', 'running') ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run();
    // A first boot (no row) is not a restart.
    return { cleanStop: row === undefined || row.value === 'stopped' };
  }

  /** Called by a clean stop (SIGTERM): the next boot is not a crash. */
  markStopped(): void {
    this.db
      .prepare(
        "INSERT INTO agent (key, value) VALUES ('run_state', 'stopped') ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run();
  }

  close(): void {
    this.db.close();
  }
}
