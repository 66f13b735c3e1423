import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteOutbox } from '../src/outbox/sqlite-outbox.js';
import { OutboxError } from '../src/outbox/outbox-error.js';
import { OUTBOX_SCHEMA_VERSION } from '../src/outbox/outbox-schema.js';
import { makeFrame, outboxConformance } from './outbox-conformance.js';

outboxConformance('SqliteOutbox', (bounds) => {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-conf-'));
  return {
    open: () => SqliteOutbox.open({ path: join(dir, 'outbox.sqlite'), ...bounds }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('SqliteOutbox storage', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'outbox-sqlite-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const base = { deviceId: 'dev-1', maxRows: 1_000_000, maxBytes: 1_000_000_000 };

  it('creates the file in WAL mode with the current schema version, in a missing directory', () => {
    const path = join(dir, 'nested', 'a', 'outbox.sqlite');
    const outbox = SqliteOutbox.open({ path, ...base });
    outbox.close();
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('user_version', { simple: true }), OUTBOX_SCHEMA_VERSION);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    assert.deepEqual(tables, ['camera_seq', 'counters', 'detections', 'frames', 'sqlite_sequence']);
    db.close();
  });

  it('persists sequence state in camera_seq and eviction counts in counters', () => {
    const path = join(dir, 'persist.sqlite');
    const outbox = SqliteOutbox.open({ path, ...base, maxRows: 6 });
    for (let i = 1; i <= 4; i++) outbox.append([makeFrame('cam-x', i, 2)]);
    outbox.close();
    const db = new Database(path, { readonly: true });
    assert.deepEqual(db.prepare('SELECT * FROM camera_seq').all(), [
      { camera_id: 'cam-x', last_frame_seq: 4, last_seq: 8 },
    ]);
    assert.deepEqual(db.prepare('SELECT name, value FROM counters ORDER BY name').all(), [
      { name: 'evicted_detections', value: 4 },
      { name: 'evicted_frames', value: 2 },
    ]);
    db.close();
  });

  it('refuses a file written by a newer schema version', () => {
    const path = join(dir, 'newer.sqlite');
    SqliteOutbox.open({ path, ...base }).close();
    const db = new Database(path);
    db.pragma(`user_version = ${OUTBOX_SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(
      () => SqliteOutbox.open({ path, ...base }),
      (err: unknown) => {
        assert.ok(err instanceof OutboxError);
        assert.equal(err.code, 'EDGE_ERR_OUTBOX');
        assert.match(
          err.message,
          new RegExp(`schema version ${OUTBOX_SCHEMA_VERSION + 1}, newer than the ${OUTBOX_SCHEMA_VERSION}`),
        );
        return true;
      },
    );
  });

  it('migrates a version-1 file: its rows keep flowing without image statistics, new rows carry them', () => {
    const path = join(dir, 'v1.sqlite');
    SqliteOutbox.open({ path, ...base }).close();
    // Back to version 1 as an older agent left it, with one unsent frame.
    const db = new Database(path);
    for (const c of ['brightness', 'contrast', 'sharpness', 'saturation', 'luma_grid'])
      db.exec(`ALTER TABLE frames DROP COLUMN ${c}`);
    db.exec(`INSERT INTO frames (device_id, camera_id, frame_seq, frame_id, ts_ms, model_id, model_version, arm,
               detection_count, first_seq, last_seq, bytes) VALUES ('dev-1', 'cam-a', 1, 7, 1700000000000, 'm', '1', 'primary', 0, NULL, NULL, 100)`);
    db.exec("INSERT INTO camera_seq VALUES ('cam-a', 1, 0)");
    db.pragma('user_version = 1');
    db.close();
    const outbox = SqliteOutbox.open({ path, ...base });
    const imageStats = {
      brightness: 0.5,
      contrast: 0.25,
      sharpness: 0.5,
      saturation: 0,
      lumaGrid: Array(16).fill(0.5),
    };
    outbox.append([makeFrame('cam-a', 8, 0, { imageStats })]);
    const { frames } = outbox.peekFrames(10);
    outbox.close();
    assert.deepEqual(
      frames.map((f) => [f.frameSeq, f.frameId, f.imageStats]),
      [
        [1, 7, null],
        [2, 8, imageStats],
      ],
    );
  });

  it('reports a file that is not a database with EDGE_ERR_OUTBOX and the SQLite code', async () => {
    const path = join(dir, 'garbage.sqlite');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, 'this is not a database, just text that is long enough to look like a header '.repeat(20));
    assert.throws(
      () => SqliteOutbox.open({ path, ...base }),
      (err: unknown) => {
        assert.ok(err instanceof OutboxError);
        assert.equal(err.sqliteCode, 'SQLITE_NOTADB');
        assert.match(err.message, /SQLITE_NOTADB/);
        return true;
      },
    );
  });

  it('rejects invalid options with a clear message', () => {
    const path = join(dir, 'opts.sqlite');
    assert.throws(() => SqliteOutbox.open({ path, ...base, maxRows: 0 }), {
      code: 'EDGE_ERR_OUTBOX',
      message: /maxRows must be a positive integer, got 0/,
    });
    assert.throws(() => SqliteOutbox.open({ path, ...base, maxBytes: 1.5 }), {
      message: /maxBytes must be a positive integer/,
    });
    assert.throws(() => SqliteOutbox.open({ path, ...base, deviceId: '' }), {
      message: /deviceId must be a non-empty string/,
    });
    assert.throws(() => SqliteOutbox.open({ path, ...base, synchronous: 'off' as 'full' }), {
      message: /synchronous must be 'normal' or 'full'/,
    });
  });

  it('applies the configured synchronous mode', () => {
    // PRAGMA synchronous is per connection, so check it through a statement on the outbox's own handle.
    for (const [mode, expected] of [
      ['normal', 1],
      ['full', 2],
    ] as const) {
      const outbox = SqliteOutbox.open({ path: join(dir, `sync-${mode}.sqlite`), ...base, synchronous: mode });
      const db = (outbox as unknown as { db: Database.Database }).db;
      assert.equal(db.pragma('synchronous', { simple: true }), expected);
      outbox.checkpoint();
      outbox.close();
    }
  });

  it('a rejected row (NaN score) fails the whole append with EDGE_ERR_OUTBOX and writes nothing', () => {
    const outbox = SqliteOutbox.open({ path: join(dir, 'nan.sqlite'), ...base });
    outbox.append([makeFrame('c', 1, 2)]);
    const bad = makeFrame('c', 2, 2);
    const broken = { ...bad, detections: [bad.detections[0]!, { ...bad.detections[1]!, score: Number.NaN }] };
    assert.throws(
      () => outbox.append([makeFrame('c', 3, 1), broken]),
      (err: unknown) => {
        assert.ok(err instanceof OutboxError);
        assert.equal(err.sqliteCode, 'SQLITE_CONSTRAINT_NOTNULL');
        return true;
      },
    );
    assert.equal(outbox.stats().frames, 1);
    assert.equal(outbox.lastSeq('c'), 2, 'failed append hands out no numbers');
    assert.equal(outbox.append([makeFrame('c', 4, 1)]).frames[0]!.firstSeq, 3);
    assert.throws(() => outbox.append([makeFrame('c', 5, 1), makeFrame('', 6, 1)]), {
      code: 'EDGE_ERR_OUTBOX',
      message: /append: frame 1 has no cameraId/,
    });
    assert.equal(outbox.stats().frames, 2);
    outbox.close();
  });

  it('keeps every reported append and gapless numbering after kill -9 mid-stream (synchronous=normal)', async () => {
    const path = join(dir, 'killed.sqlite');
    const moduleUrl = new URL('../src/outbox/sqlite-outbox.js', import.meta.url).href;
    const helperUrl = new URL('./outbox-conformance.js', import.meta.url).href;
    // The child appends as fast as it can and reports each committed append on stdout.
    const script = `
      const { SqliteOutbox } = await import(${JSON.stringify(moduleUrl)});
      const { makeFrame } = await import(${JSON.stringify(helperUrl)});
      const outbox = SqliteOutbox.open({ path: ${JSON.stringify(path)}, deviceId: 'dev-1', maxRows: 1000000, maxBytes: 1000000000 });
      for (let i = 1; ; i++) {
        outbox.append([makeFrame('cam-k', i, i % 4), makeFrame('cam-j', i, 1)]);
        process.stdout.write(i + '\\n');
        if (i % 50 === 0) await new Promise((r) => setImmediate(r));
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let reported = 0;
    for await (const line of createInterface({ input: child.stdout! })) {
      reported = Number(line);
      if (reported >= 300) break;
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    const outbox = SqliteOutbox.open({ path, ...base });
    const { frames, detections } = outbox.peekFrames(1_000_000);
    const k = frames.filter((f) => f.cameraId === 'cam-k');
    assert.ok(k.length >= reported, `committed ${k.length} cam-k frames, child reported ${reported}`);
    assert.deepEqual(
      k.map((f) => f.frameSeq),
      Array.from({ length: k.length }, (_, i) => i + 1),
    );
    const kSeqs = detections.filter((d) => d.cameraId === 'cam-k').map((d) => d.seq);
    assert.deepEqual(
      kSeqs,
      Array.from({ length: kSeqs.length }, (_, i) => i + 1),
    );
    assert.equal(outbox.lastSeq('cam-k'), kSeqs.length);
    assert.equal(outbox.lastFrameSeq('cam-j'), frames.filter((f) => f.cameraId === 'cam-j').length);
    assert.equal(outbox.stats().frames, frames.length);
    const next = outbox.append([makeFrame('cam-k', 0, 2)]).frames[0]!;
    assert.deepEqual([next.frameSeq, next.firstSeq], [k.length + 1, kSeqs.length + 1]);
    outbox.close();
  });

  describe('full disk (simulated with max_page_count)', () => {
    it('fails append with SQLITE_FULL, keeps existing rows, and works again after eviction and ack', () => {
      const path = join(dir, 'full.sqlite');
      // 24 pages of 4 KiB: a few pages for the schema, the rest fills quickly.
      const outbox = SqliteOutbox.open({ path, ...base, maxFileBytes: 24 * 4096 });
      let appended = 0;
      let failure: unknown = null;
      for (let i = 1; i <= 10_000 && failure === null; i++) {
        try {
          outbox.append([makeFrame('cam-f', i, 20)]);
          appended++;
        } catch (err) {
          failure = err;
        }
      }
      assert.ok(failure instanceof OutboxError, `append must eventually fail, appended ${appended}`);
      assert.equal(failure.code, 'EDGE_ERR_OUTBOX');
      assert.equal(failure.sqliteCode, 'SQLITE_FULL');
      assert.match(failure.message, /^outbox storage failed: append \(SQLITE_FULL\): database or disk is full/);
      assert.ok(appended > 0);

      // Nothing of the failed batch is visible and everything before it is intact.
      const stats = outbox.stats();
      assert.equal(stats.frames, appended);
      assert.equal(stats.detections, appended * 20);
      const all = outbox.peekFrames(100_000);
      assert.equal(all.frames.length, appended);
      assert.equal(all.detections.length, appended * 20);
      assert.deepEqual(
        all.detections.map((d) => d.seq),
        Array.from({ length: appended * 20 }, (_, i) => i + 1),
      );
      assert.equal(outbox.lastSeq('cam-f'), appended * 20);

      // The caller's answer: evict some oldest frames, then appending works again and numbering continues.
      const evicted = outbox.evictOldest(Math.ceil(appended / 2));
      assert.equal(evicted?.frames, Math.ceil(appended / 2));
      const again = outbox.append([makeFrame('cam-f', 99_999, 20)]);
      assert.equal(again.frames[0]!.firstSeq, appended * 20 + 1);

      // Acking frees room as well.
      let more = 0;
      let failedAgain = false;
      for (let i = 0; i < 10_000 && !failedAgain; i++) {
        try {
          outbox.append([makeFrame('cam-f', 100_000 + i, 20)]);
          more++;
        } catch (err) {
          assert.equal((err as OutboxError).sqliteCode, 'SQLITE_FULL');
          failedAgain = true;
        }
      }
      assert.ok(failedAgain);
      const ids = outbox.peekFrames(5).frames.map((f) => f.rowId);
      assert.equal(outbox.ack(ids), 5);
      const last = outbox.append([makeFrame('cam-f', 200_000, 20)]);
      assert.equal(last.frames[0]!.firstSeq, outbox.lastSeq('cam-f') - 19);
      assert.equal(outbox.stats().evictedFrames, Math.ceil(appended / 2));
      outbox.close();

      // The file is consistent after all that: reopen and compare.
      const reopened = SqliteOutbox.open({ path, ...base });
      assert.equal(reopened.stats().frames, appended - Math.ceil(appended / 2) + 1 + more - 5 + 1);
      assert.equal(reopened.lastSeq('cam-f'), (appended + 1 + more + 1) * 20);
      reopened.close();
    });
  });
});
