import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  detectionsTopic,
  encodeDetectionBatch,
  type Detection,
  type DetectionBatch,
  type Frame,
} from '@edgefleet/proto';
import { ControlPlane } from '../src/server/control-plane.js';
import { createPgliteStore } from '../src/storage/pglite-store.js';
import { createPgStore } from '../src/storage/pg-store.js';
import { parseControlPlaneConfig } from '../src/config/load-control-plane-config.js';
import { silentLogger } from '@edgefleet/service-kit';
import type { ControlPlaneConfigInput } from '../src/config/control-plane-config-schema.js';
import type { Store } from '../src/storage/store.js';
import { createDatabase } from './storage-test-db.js';
import { tempDir } from '@edgefleet/service-kit/testing';

/**
 * Shared pieces of the broker, ingest and interop tests: real stores of both kinds, a control plane on
 * ephemeral ports, MQTT device clients and encoded batches.
 */

export type StoreKind = 'postgres' | 'pglite';
export const STORE_KINDS: readonly StoreKind[] = ['postgres', 'pglite'];

type After = { after: (fn: () => void | Promise<void>) => void };

/**
 * node:test runs a test's `after` hooks in registration order; teardown must run the other way (stop the
 * control plane before closing its store, close the store before dropping its database). Pass the
 * returned object wherever a helper takes `t`.
 */
export function lifo(t: { after: (fn: () => Promise<void>) => void }): After {
  const stack: (() => void | Promise<void>)[] = [];
  t.after(async () => {
    const errors: unknown[] = [];
    while (stack.length > 0) {
      try {
        await stack.pop()?.();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
  return { after: (fn) => void stack.push(fn) };
}

/** A migrated store of the kind; closed (and its database dropped) after the test. */
export async function openTestStore(t: After, kind: StoreKind): Promise<{ store: Store; url?: string }> {
  if (kind === 'pglite') {
    const store = await createPgliteStore();
    await store.migrate();
    t.after(() => store.close());
    return { store };
  }
  const { url, drop } = await createDatabase();
  const store = createPgStore({ connectionString: url });
  await store.migrate();
  t.after(async () => {
    await store.close();
    await drop();
  });
  return { store, url };
}

/** A control plane with the embedded broker on ephemeral ports over a test store. */
export async function startControlPlane(
  t: After,
  store: Store,
  input: ControlPlaneConfigInput = {},
): Promise<ControlPlane> {
  const dataDir = tempDir(t as { after: (fn: () => void) => void });
  const config = parseControlPlaneConfig({
    dataDir,
    ...input,
    mqtt: { host: '127.0.0.1', port: 0, ...input.mqtt },
    http: { host: '127.0.0.1', port: 0, ...input.http },
    grpc: { host: '127.0.0.1', port: 0, ...input.grpc },
  });
  const cp = new ControlPlane(config, { store, logger: silentLogger });
  await cp.start();
  t.after(() => cp.stop());
  return cp;
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Connects and resolves on CONNACK; rejects with the broker's refusal. Ended after the test. */
export async function connectClient(t: After, url: string, options: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  t.after(() => client.endAsync(true));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
  return client;
}

/** Publishes with QoS 1 and resolves on PUBACK. */
export function publishAcked(
  client: MqttClient,
  topic: string,
  payload: Buffer | Uint8Array,
  options: { retain?: boolean } = {},
): Promise<void> {
  return new Promise((resolve, reject) =>
    client.publish(topic, Buffer.from(payload), { qos: 1, retain: options.retain ?? false }, (err) =>
      err ? reject(err) : resolve(),
    ),
  );
}

/**
 * `frames` whole frames of one camera with `perFrame` detections each, frame and detection sequence
 * numbers continuing from `firstFrameSeq` (detection seq = (frameSeq - 1) * perFrame + k + 1).
 */
export function makeBatch(
  deviceId: string,
  cameraId: string,
  opts: { firstFrameSeq: number; frames: number; perFrame: number; startMs?: number; batchId?: number },
): DetectionBatch {
  const frames: Frame[] = [];
  const detections: Detection[] = [];
  const startMs = opts.startMs ?? Date.now();
  for (let i = 0; i < opts.frames; i++) {
    const frameSeq = opts.firstFrameSeq + i;
    frames.push({
      cameraId,
      frameSeq,
      frameId: frameSeq,
      timestampMs: startMs + i * 40,
      modelId: 'yolov8n',
      modelVersion: '1.0.0',
      arm: 'primary',
      detectionCount: opts.perFrame,
    });
    for (let k = 0; k < opts.perFrame; k++) {
      detections.push({
        cameraId,
        seq: (frameSeq - 1) * opts.perFrame + k + 1,
        frameSeq,
        classId: k % 80,
        label: k % 2 === 0 ? 'person' : 'car',
        score: 0.75,
        x1: 10.5,
        y1: 20.25,
        x2: 110.5,
        y2: 220.25,
      });
    }
  }
  return { deviceId, batchId: opts.batchId ?? opts.firstFrameSeq, sentAtMs: Date.now(), frames, detections };
}

/** Encoded batches covering frames 1..frames*count of one camera. */
export function encodedBatches(
  deviceId: string,
  cameraId: string,
  count: number,
  framesPerBatch: number,
  perFrame: number,
): Buffer[] {
  const out: Buffer[] = [];
  for (let b = 0; b < count; b++) {
    out.push(
      Buffer.from(
        encodeDetectionBatch(
          makeBatch(deviceId, cameraId, {
            firstFrameSeq: 1 + b * framesPerBatch,
            frames: framesPerBatch,
            perFrame,
            batchId: b + 1,
          }),
        ),
      ),
    );
  }
  return out;
}

export { detectionsTopic };

/** Polls `check` until it returns true or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Enrols a device over the REST API (with the control plane's bootstrap admin token) and returns its credentials. */
export async function enrolOverHttp(
  cp: ControlPlane,
  deviceId: string,
): Promise<{ username: string; password: string; clientId: string }> {
  const res = await fetch(`http://127.0.0.1:${cp.info.http.port}/api/v1/devices`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${cp.adminToken}` },
    body: JSON.stringify({ deviceId }),
  });
  if (res.status !== 201) throw new Error(`enrolment of ${deviceId} failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { username: string; password: string; clientId: string };
}

/** A device's MQTT 3.1.1 connection to the embedded broker. */
export async function connectDevice(
  t: After,
  cp: ControlPlane,
  deviceId: string,
  options: IClientOptions = {},
): Promise<MqttClient> {
  const creds = await enrolOverHttp(cp, deviceId);
  return connectClient(t, `mqtt://127.0.0.1:${cp.info.mqtt.port}`, {
    protocolVersion: 4,
    clientId: creds.clientId,
    username: creds.username,
    password: creds.password,
    ...options,
  });
}
