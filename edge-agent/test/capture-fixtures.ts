/**
 * Shared helpers of the capture tests: media made with gst-launch-1.0, temp dirs, a manual clock.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Clock, TimerHandle } from '@edgefleet/service-kit';
import type { FitFn } from '../src/capture/pipeline-description.js';

const run = promisify(execFile);

/** Repository root, from edge-agent/dist/test/. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'edgefleet-capture-test-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Run gst-launch-1.0 with a pipeline given as separate arguments (no shell). */
export async function gstLaunch(args: readonly string[]): Promise<void> {
  await run('gst-launch-1.0', ['-q', ...args], { timeout: 60_000 });
}

/** `count` JPEGs of `width`x`height` named img-000.jpg… in `dir`. */
export async function makeJpegs(dir: string, count: number, width: number, height: number): Promise<void> {
  await gstLaunch([
    'videotestsrc',
    `num-buffers=${count}`,
    'pattern=ball',
    '!',
    `video/x-raw,width=${width},height=${height}`,
    '!',
    'jpegenc',
    '!',
    'multifilesink',
    `location=${join(dir, 'img-%03d.jpg')}`,
  ]);
}

/** A Motion-JPEG AVI of `frames` frames (plugins-good only: jpegenc + avimux). */
export async function makeMjpegAvi(
  path: string,
  frames: number,
  width: number,
  height: number,
  fps = 30,
): Promise<void> {
  await gstLaunch([
    'videotestsrc',
    `num-buffers=${frames}`,
    '!',
    `video/x-raw,width=${width},height=${height},framerate=${fps}/1`,
    '!',
    'jpegenc',
    '!',
    'avimux',
    '!',
    'filesink',
    `location=${path}`,
  ]);
}

/** Letterbox content size for a square model input of `side` pixels (same rounding as vision's computeLetterbox). */
export function fitInto(side: number): FitFn {
  return (w, h) => {
    const scale = Math.min(side / w, side / h);
    return {
      width: Math.min(side, Math.max(1, Math.round(w * scale))),
      height: Math.min(side, Math.max(1, Math.round(h * scale))),
    };
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `predicate` every 20 ms until it holds; fails after `timeoutMs` with `what`. */
export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A manual clock: timers fire only when the test advances time. */
export class ManualTimers implements Clock {
  private time = 1_000_000;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.pending.set(id, { at: this.time + ms, fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle as number);
  }

  /** Delays of the timers now pending, relative to now, ascending. */
  pendingDelays(): number[] {
    return [...this.pending.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
  }

  /** Move time forward, firing due timers in order (and timers they schedule, if due). */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      let nextId: number | null = null;
      let nextAt = Infinity;
      for (const [id, t] of this.pending) {
        if (t.at <= end && t.at < nextAt) {
          nextAt = t.at;
          nextId = id;
        }
      }
      if (nextId === null) break;
      const t = this.pending.get(nextId)!;
      this.pending.delete(nextId);
      this.time = t.at;
      t.fn();
      // Let promise continuations scheduled by the timer run before the next one fires.
      await new Promise<void>((r) => setImmediate(r));
    }
    this.time = end;
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (listened on, then closed): nothing answers there. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
