import type { Component } from '@edgefleet/service-kit';
import type { Watchdog } from '../systemd/watchdog.js';

export interface MainLoopDeps {
  readonly watchdog: Watchdog;
  /** Refreshes gauges and the systemd status line; runs once at start and then every `intervalMs`. */
  readonly tick: () => void;
  /** Default 1000 ms. */
  readonly intervalMs?: number;
}

/**
 * The agent's main loop: each tick kicks the systemd watchdog (proof that the event loop is alive) and runs
 * the agent's refresh. A blocked event loop stops the ticks, the watchdog withholds its ping and systemd
 * restarts the service (docs/architecture.md §10).
 */
export class MainLoop implements Component {
  readonly name = 'main-loop';
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: MainLoopDeps) {}

  async start(_signal?: AbortSignal): Promise<void> {
    if (this.timer) return;
    this.deps.watchdog.start();
    this.onTick();
    this.timer = setInterval(() => this.onTick(), this.deps.intervalMs ?? 1000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.deps.watchdog.stop();
  }

  private onTick(): void {
    this.deps.watchdog.kick();
    this.deps.tick();
  }
}
