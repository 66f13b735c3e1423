/**
 * Renders synthetic camera frames off the main thread. The scene renderer costs ~20-30 ms per
 * 640x480 frame; on the agent's event loop that would delay MQTT, the watchdog and inference
 * callbacks by as much at every frame, so it runs in one worker thread per camera
 * (synthetic-render-worker.ts) and frames come back as transferred ArrayBuffers (no copy).
 */
import { Worker } from 'node:worker_threads';
import type { GroundTruthBox } from '@edgefleet/scenes';

/** What the worker needs to build its scene stream (structured-cloned into it). */
export interface SyntheticRenderConfig {
  readonly schedule: string;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly loop: boolean;
}

export interface RenderedSyntheticFrame {
  /** Scene stream frame index; its stream time is `index / fps` seconds. */
  readonly index: number;
  readonly streamTimeMs: number;
  /** Domain label from the schedule, e.g. `fog` or `day->fog 40%`. */
  readonly domain: string;
  /** Exact boxes in native pixels of the synthetic camera. */
  readonly labels: readonly GroundTruthBox[];
  /** Packed RGB in GStreamer's layout: each row padded to a multiple of 4 bytes. */
  readonly data: Uint8Array;
}

/** The seam between the feeder and the renderer (a worker thread in production). */
export interface SceneRenderer {
  render(index: number): Promise<RenderedSyntheticFrame>;
  /** Ends the renderer; pending renders reject. Idempotent. */
  close(): Promise<void>;
}

/** Worker protocol. */
export interface RenderRequest {
  readonly id: number;
  readonly index: number;
}

export type RenderReply =
  | ({ readonly id: number; readonly ok: true } & RenderedSyntheticFrame)
  | { readonly id: number; readonly ok: false; readonly message: string };

interface Pending {
  readonly resolve: (frame: RenderedSyntheticFrame) => void;
  readonly reject: (err: Error) => void;
}

export class WorkerSceneRenderer implements SceneRenderer {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;
  private closed = false;

  constructor(private readonly config: SyntheticRenderConfig) {}

  /** Rejects when the worker failed (it is not restarted here: the caller builds a new renderer). */
  render(index: number): Promise<RenderedSyntheticFrame> {
    if (this.closed) return Promise.reject(new Error('renderer is closed'));
    if (this.failure !== null) return Promise.reject(this.failure);
    // Spawned on first use: a camera that is never started costs no thread.
    const worker = (this.worker ??= this.spawn());
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, index } satisfies RenderRequest);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rejectAll(new Error('renderer is closed'));
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate();
  }

  private spawn(): Worker {
    const worker = new Worker(new URL('./synthetic-render-worker.js', import.meta.url), {
      workerData: this.config,
      name: 'synthetic-render',
    });
    worker.on('message', (reply: RenderReply) => {
      const p = this.pending.get(reply.id);
      if (p === undefined) return; // rejected already (close or failure)
      this.pending.delete(reply.id);
      if (reply.ok) {
        const { id: _id, ok: _ok, ...frame } = reply;
        p.resolve(frame);
      } else {
        p.reject(new Error(reply.message));
      }
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`render worker exited with code ${code}`));
    });
    return worker;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.rejectAll(this.failure);
  }

  private rejectAll(err: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(err);
  }
}
