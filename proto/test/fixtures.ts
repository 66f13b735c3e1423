/** Valid messages to start from; tests mutate copies. Not a test file of its own. */
import type { DetectionBatch, DeviceMetrics, DeviceStatus, Frame, Detection } from '../src/index.js';

export function frame(cameraId: string, frameSeq: number, detectionCount: number): Frame {
  return {
    cameraId,
    frameSeq,
    frameId: frameSeq + 1000,
    timestampMs: 1_700_000_000_000 + frameSeq * 33,
    modelId: 'yolov8n',
    modelVersion: '1.0.0',
    arm: 'primary',
    detectionCount,
  };
}

export function detection(cameraId: string, seq: number, frameSeq: number): Detection {
  // Values exactly representable as float32, so a roundtrip compares equal.
  return {
    cameraId,
    seq,
    frameSeq,
    classId: seq % 80,
    label: 'person',
    score: 0.75,
    x1: 10.5,
    y1: 20.25,
    x2: 110.5,
    y2: 220.25,
  };
}

/** Two cameras, three frames (one empty), three detections. */
export function batch(): DetectionBatch {
  return {
    deviceId: 'dev-1',
    batchId: 42,
    sentAtMs: 1_700_000_100_000,
    frames: [frame('front', 1, 2), frame('back', 7, 1), frame('front', 2, 0)],
    detections: [detection('front', 1, 1), detection('front', 2, 1), detection('back', 30, 7)],
  };
}

export function status(): DeviceStatus {
  return {
    deviceId: 'dev-1',
    online: true,
    agentVersion: '0.1.0',
    startedAtMs: 1_700_000_000_000,
    reportedAtMs: 1_700_000_100_000,
    cameras: [
      {
        cameraId: 'front',
        state: 'running',
        lastError: '',
        lastErrorAtMs: 0,
        restarts: 2,
        framesCaptured: 1000,
        framesDropped: 3,
        framesProcessed: 997,
        fps: 29.5,
        modelId: 'yolov8n',
        modelVersion: '1.0.0',
        provider: 'cpu',
      },
    ],
    outboxFrames: 12,
    outboxDetections: 40,
    outboxEvictedDetections: 0,
    syncLagMs: 250,
    hardware: 'x86_64',
    providers: ['cuda', 'cpu'],
  };
}

export function metrics(): DeviceMetrics {
  return {
    deviceId: 'dev-1',
    reportedAtMs: 1_700_000_100_000,
    cameras: [
      {
        cameraId: 'front',
        fps: 29.5,
        framesDropped: 3,
        inferenceMsP50: 12.5,
        inferenceMsP95: 20.25,
        preMsP50: 1.5,
        postMsP50: 0.5,
        brightnessMean: 0.5,
        contrastMean: 0.25,
      },
    ],
    outboxFrames: 12,
    outboxDetections: 40,
    syncLagMs: 250,
    publishedBatches: 9,
  };
}

/** Deterministic PRNG (mulberry32) so a failing fuzz case can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
