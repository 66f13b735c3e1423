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
 * Components of one kind that start together and stop together, in parallel (the cameras of an agent): one
 * slow member does not hold up the others. A member that fails to stop does not keep the rest from
 * stopping; the failures are thrown together afterwards (one as itself, several as an AggregateError).
 */
export class ComponentGroup implements Component {
  constructor(
    readonly name: string,
    readonly members: readonly Component[],
  ) {}

  async start(signal: AbortSignal): Promise<void> {
    await Promise.all(this.members.map((m) => m.start(signal)));
  }

  async stop(): Promise<void> {
    const outcomes = await Promise.allSettled(this.members.map((m) => m.stop()));
    const errors = outcomes.flatMap((o, i) =>
      o.status === 'rejected' ? [new Error(`${this.members[i]?.name} failed to stop`, { cause: o.reason })] : [],
    );
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} of ${this.name} failed to stop`);
  }
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
