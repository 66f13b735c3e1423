/**
 * The open WatchAssignments streams, by device: the resync polls only for watched devices, and stop
 * ends every stream (agents reconnect to another replica or to this one once it is back).
 */
export interface OpenWatch {
  readonly deviceId: string;
  /** Ends the stream with OK (the agent reconnects). */
  end(): void;
}

export class WatchRegistry {
  private readonly byDevice = new Map<string, Set<OpenWatch>>();

  add(watch: OpenWatch): () => void {
    let set = this.byDevice.get(watch.deviceId);
    if (!set) {
      set = new Set();
      this.byDevice.set(watch.deviceId, set);
    }
    set.add(watch);
    return () => {
      set.delete(watch);
      if (set.size === 0 && this.byDevice.get(watch.deviceId) === set) this.byDevice.delete(watch.deviceId);
    };
  }

  devices(): string[] {
    return [...this.byDevice.keys()];
  }

  count(): number {
    let n = 0;
    for (const set of this.byDevice.values()) n += set.size;
    return n;
  }

  endAll(): void {
    for (const set of [...this.byDevice.values()]) for (const watch of [...set]) watch.end();
  }
}
