/**
 * A typed in-process event bus (zigbee2mqtt's EventBus): components publish facts, others subscribe
 * and keep the returned function to unsubscribe on stop. A listener that throws is reported to
 * `onListenerError` and never stops the others.
 */

export interface AssignmentChanged {
  readonly deviceId: string;
  /** Absent when the change was noticed by the resync and its camera is not known. */
  readonly cameraId?: string;
  /** Absent when noticed by the resync. */
  readonly revision?: number;
  /** `local`: made by this replica; `resync`: noticed in the database (another replica, or a missed event). */
  readonly source: 'local' | 'resync';
}

export interface ControlPlaneEvents {
  'assignment.changed': AssignmentChanged;
}

type Listener<T> = (payload: T) => void;

export class EventBus<Events extends object = ControlPlaneEvents> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  constructor(private readonly onListenerError: (event: string, err: unknown) => void = () => undefined) {}

  /** Subscribes; the returned function unsubscribes (idempotent). */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => {
      set.delete(listener as Listener<never>);
    };
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (err) {
        this.onListenerError(String(event), err);
      }
    }
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.listeners.get(event)?.size ?? 0;
  }
}
