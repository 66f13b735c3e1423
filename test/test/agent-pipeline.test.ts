import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Agent, parseConfig } from '@edgefleet/edge-agent';

import { encodeVideo, fixture, imageSequence, shared, tempDir } from '../support/fixtures.js';
import { silentLogger } from '@edgefleet/service-kit';

interface Row {
  camera_id: string;
  seq: number;
}

function detectionSeqs(db: Database.Database, camera: string): number[] {
  return (db.prepare('SELECT seq FROM detections WHERE camera_id = ? ORDER BY seq').all(camera) as Row[]).map(
    (r) => r.seq,
  );
}
function frameSeqs(db: Database.Database, camera: string): number[] {
  return (
    db.prepare('SELECT frame_seq AS seq FROM frames WHERE camera_id = ? ORDER BY frame_seq').all(camera) as Row[]
  ).map((r) => r.seq);
}
/** Capture frame ids in storage order: strictly increasing when frames in flight are stored in capture order. */
function assertCaptureOrder(db: Database.Database, camera: string): void {
  const ids = (
    db.prepare('SELECT frame_id AS id FROM frames WHERE camera_id = ? ORDER BY frame_seq').all(camera) as {
      id: number;
    }[]
  ).map((r) => r.id);
  for (let i = 1; i < ids.length; i++) {
    assert.ok(ids[i]! > ids[i - 1]!, `${camera}: frame ${ids[i]} stored after frame ${ids[i - 1]}`);
  }
}
function assertGapless(seqs: number[], from: number, what: string): void {
  seqs.forEach((s, i) => {
    assert.equal(s, from + i, `${what}: expected seq ${from + i} at position ${i}, got ${s}`);
  });
}

async function runToEnd(config: ReturnType<typeof parseConfig>): Promise<Agent> {
  const agent = new Agent({ config, logger: silentLogger });
  await agent.start();
  await agent.idle();
  await agent.stop();
  return agent;
}

test('image-sequence and video-file cameras fill the outbox with gapless per-camera sequences in capture order that continue after a restart', async (t) => {
  const tmp = tempDir('agent-pipeline');
  t.after(tmp.cleanup);
  const seqDir = imageSequence(join(tmp.path, 'seq'), shared('images/person.jpg'), 12);
  const video = encodeVideo(shared('images/dog.jpg'), join(tmp.path, 'dog.avi'), 15);
  // The first run detects in worker threads with frames in flight (the default), the second on the event loop.
  const configFor = (inferenceThread: 'worker' | 'caller') =>
    parseConfig({
      deviceId: 'test-device',
      dataDir: join(tmp.path, 'data'),
      model: { path: shared('models/yolov8n_int8.onnx'), providers: ['cpu'], conf: 0.5, inferenceThread },
      cameras: [
        { id: 'seq', uri: `dir://${seqDir}` },
        { id: 'video', uri: `file://${video}` },
      ],
      metrics: { enabled: false },
    });

  await runToEnd(configFor('worker'));
  const db = new Database(join(tmp.path, 'data', 'outbox.sqlite'), { readonly: true });
  try {
    // person.jpg: horse, person, dog on every frame; dog.jpg: dog, bicycle, car/truck.
    assertGapless(frameSeqs(db, 'seq'), 1, 'seq frames');
    assert.equal(frameSeqs(db, 'seq').length, 12);
    assert.equal(frameSeqs(db, 'video').length, 15);
    const seq1 = detectionSeqs(db, 'seq');
    const vid1 = detectionSeqs(db, 'video');
    assert.ok(seq1.length >= 36, `expected ≥ 3 detections per person.jpg frame, got ${seq1.length}`);
    assert.ok(vid1.length >= 45, `expected ≥ 3 detections per dog.jpg frame, got ${vid1.length}`);
    assertGapless(seq1, 1, 'seq detections');
    assertGapless(vid1, 1, 'video detections');
    const labels = new Set(
      (db.prepare("SELECT DISTINCT label FROM detections WHERE camera_id = 'video'").all() as { label: string }[]).map(
        (r) => r.label,
      ),
    );
    for (const l of ['dog', 'bicycle']) assert.ok(labels.has(l), `video camera should detect ${l}, got ${[...labels]}`);
    assertCaptureOrder(db, 'seq');
    assertCaptureOrder(db, 'video');
    db.close();

    // Second run on the same data dir: sequences continue where they stopped.
    await runToEnd(configFor('caller'));
    const db2 = new Database(join(tmp.path, 'data', 'outbox.sqlite'), { readonly: true });
    const seq2 = detectionSeqs(db2, 'seq');
    const vid2 = detectionSeqs(db2, 'video');
    assert.equal(seq2.length, seq1.length * 2);
    assertGapless(seq2, 1, 'seq detections across restart');
    assertGapless(vid2, 1, 'video detections across restart');
    assertGapless(frameSeqs(db2, 'video'), 1, 'video frames across restart');
    db2.close();
  } finally {
    if (db.open) db.close();
  }
});

test('a bad model, a corrupt model, a non-detector model and an unreachable RTSP camera each fail with a clear error while a good camera keeps running', async (t) => {
  const tmp = tempDir('agent-bad-input');
  t.after(tmp.cleanup);
  const corrupt = join(tmp.path, 'corrupt.onnx');
  writeFileSync(corrupt, Buffer.from('this is not an onnx model at all'.repeat(100)));
  const seqDir = imageSequence(join(tmp.path, 'seq'), shared('images/person.jpg'), 4);
  const good = { path: shared('models/yolov8n_int8.onnx'), providers: ['cpu'] as const };
  const config = parseConfig({
    deviceId: 'test-device',
    dataDir: join(tmp.path, 'data'),
    model: good,
    cameras: [
      { id: 'missing', uri: `dir://${seqDir}`, model: { path: join(tmp.path, 'nope.onnx') } },
      { id: 'corrupt', uri: `dir://${seqDir}`, model: { path: corrupt } },
      { id: 'not-detector', uri: `dir://${seqDir}`, model: { path: fixture('not-a-detector.onnx') } },
      { id: 'rtsp', uri: 'rtsp://127.0.0.1:9/nothing', stallTimeoutMs: 2000 },
      { id: 'good', uri: `dir://${seqDir}`, loop: true },
    ],
    metrics: { enabled: false },
  });
  const agent = new Agent({ config, logger: silentLogger });
  await agent.start();
  try {
    // Poll until the good camera has processed frames and the RTSP camera has failed at least once.
    const deadline = Date.now() + 60_000;
    let status = agent.status();
    while (Date.now() < deadline) {
      status = agent.status();
      const rtsp = status.cameras.rtsp!.capture;
      if (status.cameras.good!.framesProcessed >= 8 && rtsp.restarts >= 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status.cameras.missing!.state, 'failed');
    assert.match(status.cameras.missing!.error ?? '', /MODEL_NOT_FOUND/);
    assert.equal(status.cameras.corrupt!.state, 'failed');
    assert.match(status.cameras.corrupt!.error ?? '', /MODEL_CORRUPT/);
    assert.equal(status.cameras['not-detector']!.state, 'failed');
    assert.match(status.cameras['not-detector']!.error ?? '', /NOT_DETECTOR/);
    const rtsp = status.cameras.rtsp!.capture;
    assert.ok(['reconnecting', 'starting'].includes(rtsp.state), `rtsp state ${rtsp.state}`);
    assert.match(rtsp.lastError ?? '', /EDGE_ERR_(PIPELINE|SOURCE_STALLED|SOURCE_UNAVAILABLE)/);
    assert.ok(status.cameras.good!.framesProcessed >= 8, 'good camera kept processing frames');
    assert.equal(status.cameras.good!.state, 'running');
  } finally {
    await agent.stop();
  }
});
