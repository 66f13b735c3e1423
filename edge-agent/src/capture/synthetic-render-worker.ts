/**
 * Worker thread of WorkerSceneRenderer (synthetic-renderer.ts): renders the requested frames of
 * one scene stream and hands them back in GStreamer's row layout, the buffer transferred.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createSceneStream, type SceneStream } from '@edgefleet/scenes';
import type { RenderReply, RenderRequest, SyntheticRenderConfig } from './synthetic-renderer.js';

const port = parentPort;
if (port === null) throw new Error('synthetic-render-worker.js must run as a worker thread');
const config = workerData as SyntheticRenderConfig;
let stream: SceneStream | null = null;

/**
 * GStreamer pads each row of 24-bit RGB to a multiple of 4 bytes; the renderer packs rows tightly.
 * Widths where `width * 3 % 4 === 0` need no copy.
 */
function toGstLayout(data: Uint8Array, width: number, height: number): Uint8Array {
  const row = width * 3;
  const stride = (row + 3) & ~3;
  const standalone = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
  if (stride === row && standalone) return data;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) out.set(data.subarray(y * row, y * row + row), y * stride);
  return out;
}

port.on('message', (req: RenderRequest) => {
  let reply: RenderReply;
  try {
    stream ??= createSceneStream({
      domainSchedule: config.schedule,
      seed: config.seed,
      width: config.width,
      height: config.height,
      fps: config.fps,
      loop: config.loop,
    });
    const frame = stream.frameAt(req.index);
    const data = toGstLayout(frame.data, frame.width, frame.height);
    reply = {
      id: req.id,
      ok: true,
      index: frame.index,
      streamTimeMs: frame.timestampMs,
      domain: frame.domainLabel,
      labels: frame.labels,
      data,
    };
    port.postMessage(reply, [data.buffer as ArrayBuffer]);
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    const message = typeof e.code === 'string' ? `${e.code}: ${String(e.message)}` : String(e.message ?? err);
    reply = { id: req.id, ok: false, message };
    port.postMessage(reply);
  }
});
