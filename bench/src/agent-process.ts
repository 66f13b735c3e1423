import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { join } from 'node:path';
import { childProfilingArgs } from './bench-util.js';
import type { AckRecord, DownloadVia, FromAgents, SimulatedDevice, ToAgents } from './rollout-ipc.js';

const STOP_TIMEOUT_MS = 10_000;

export interface DownloadResult {
  readonly bytes: number;
  readonly ms: number;
  /** CPU time of the downloading process meanwhile. */
  readonly cpuMs: number;
  readonly digests: readonly string[];
}

/**
 * The benchmark's handle on the simulated-agent process (simulated-agents.ts): starts it, collects the
 * acknowledgements it sends, asks it for downloads, and turns whatever it reports as a failure (or its
 * exit) into a rejection of every wait.
 */
export class AgentProcess {
  private readonly acks = new Map<string, AckRecord>();
  private readonly updates = new EventEmitter();
  private failure: Error | null = null;
  private nextDownload = 1;
  private readonly downloads = new Map<number, DownloadResult>();
  private readonly exited: Promise<void>;
  private ready = false;
  /** Milliseconds from the first watch opened to the last first snapshot. */
  connectMs = 0;

  private constructor(
    private readonly child: ChildProcess,
    onProgress: (msg: string) => void,
  ) {
    this.updates.setMaxListeners(0);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (message: FromAgents) => {
      switch (message.type) {
        case 'acks':
          for (const a of message.acks) this.acks.set(key(a.device, a.revision), a);
          break;
        case 'connecting':
          onProgress(`  ${message.watching}/${message.total} watches delivered their first snapshot`);
          break;
        case 'ready':
          this.connectMs = message.connectMs;
          this.ready = true;
          break;
        case 'downloaded':
          this.downloads.set(message.id, {
            bytes: message.bytes,
            ms: message.ms,
            cpuMs: message.cpuMs,
            digests: message.digests,
          });
          break;
        case 'failure':
          this.failure ??= new Error(`simulated agents: ${message.message}`);
          break;
        case 'stopped':
          break;
      }
      this.updates.emit('update');
    });
    void this.exited.then(() => {
      this.failure ??= new Error(
        `simulated-agent process exited (code ${String(child.exitCode)}, signal ${String(child.signalCode)})`,
      );
      this.updates.emit('update');
    });
  }

  /** Forks the process and opens every watch; resolves once each delivered its first snapshot. */
  static async start(
    target: string,
    devices: readonly SimulatedDevice[],
    downloader: SimulatedDevice,
    connectConcurrency: number,
    onProgress: (msg: string) => void,
  ): Promise<AgentProcess> {
    const child = fork(join(import.meta.dirname, 'simulated-agents.js'), [], {
      execArgv: [...process.execArgv, ...childProfilingArgs()],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const agents = new AgentProcess(child, onProgress);
    try {
      agents.post({ type: 'start', target, devices, downloader, connectConcurrency });
      await agents.until(
        () => agents.ready,
        600_000,
        () => 'watches not ready',
      );
      return agents;
    } catch (err) {
      await agents.stop();
      throw err;
    }
  }

  get pid(): number {
    return this.child.pid as number;
  }

  ack(device: number, revision: number): AckRecord | undefined {
    return this.acks.get(key(device, revision));
  }

  /** Resolves once every (device, revision) has its acknowledgement; rejects naming the missing ones after `timeoutMs`. */
  async waitForAcks(revisions: readonly number[], timeoutMs: number): Promise<void> {
    const missing = (): number[] => revisions.flatMap((r, device) => (this.acks.has(key(device, r)) ? [] : [device]));
    if (missing().length === 0) return;
    await this.until(
      () => missing().length === 0,
      timeoutMs,
      () => {
        const left = missing();
        return `${left.length} of ${revisions.length} devices did not acknowledge their new revision within ${timeoutMs} ms (devices ${left.slice(0, 10).join(', ')}${left.length > 10 ? ', …' : ''})`;
      },
    );
  }

  async download(
    via: DownloadVia,
    request: {
      sha256: string;
      sizeBytes: number;
      chunkBytes: number;
      count: number;
      rawPort: number;
      http2Port: number;
      verify: boolean;
    },
  ): Promise<DownloadResult> {
    const id = this.nextDownload++;
    this.post({ type: 'download', id, via, ...request });
    await this.until(
      () => this.downloads.has(id),
      600_000,
      () => `${via} download did not finish`,
    );
    const result = this.downloads.get(id) as DownloadResult;
    this.downloads.delete(id);
    return result;
  }

  /** Closes every channel and ends the process (killed if it has not exited after 10 s). Safe to call twice. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.post({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** Throws the failure the process reported, if any. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  private post(message: ToAgents): void {
    this.child.send(message);
  }

  /**
   * Resolves once `done()` (a condition on the state the messages build) holds, looking again after each
   * message; rejects on a failure or after `timeoutMs`. Several messages can arrive in one turn of the
   * loop, so the condition is on state, never on the message that woke the wait.
   */
  private async until(done: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      for (;;) {
        this.check();
        if (done()) return;
        try {
          await once(this.updates, 'update', { signal: ac.signal });
        } catch (err) {
          if (!ac.signal.aborted) throw err;
          throw new Error(describe());
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

function key(device: number, revision: number): string {
  return `${device}:${revision}`;
}
