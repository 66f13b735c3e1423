/**
 * One lifecycle for every long-running component of both programs. A constructor only stores its
 * dependencies; `start(signal)` acquires resources (sockets, timers, child processes) and resolves once
 * the component is serving; `stop()` releases them and never throws for a component that never started.
 * `signal` aborts when the program is shutting down, so long waits inside start can give up early.
 */
export interface Component {
  /** Shown in logs when starting or stopping fails. */
  readonly name: string;
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

/** What a composition root must be able to stop: a component, or a resource it adopted (a server, a pool). */
export type Stoppable = Pick<Component, 'name' | 'stop'>;

export interface StopFailure {
  readonly name: string;
  readonly error: unknown;
}

/**
 * The started components of one composition root, in start order. `stopAll` stops them in reverse in
 * one loop: a failure is reported to `onStopError` and the loop goes on, so one broken component
 * cannot keep the others holding ports or files.
 */
export class ComponentStack {
  private readonly started: Stoppable[] = [];

  /**
   * Starts `component` and remembers it for `stopAll`; returns it for chaining into later deps. It is
   * remembered before its start runs, so one whose start fails halfway still has what it acquired released.
   */
  async start<T extends Component>(component: T, signal: AbortSignal): Promise<T> {
    this.started.push(component);
    await component.start(signal);
    return component;
  }

  /** Remembers something started elsewhere (or that needs no start), so it is stopped in order. */
  adopt<T extends Stoppable>(component: T): T {
    this.started.push(component);
    return component;
  }

  get size(): number {
    return this.started.length;
  }

  async stopAll(onStopError: (failure: StopFailure) => void): Promise<void> {
    while (this.started.length > 0) {
      const component = this.started.pop() as Stoppable;
      try {
        await component.stop();
      } catch (error) {
        onStopError({ name: component.name, error });
      }
    }
  }
}
