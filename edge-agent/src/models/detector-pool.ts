import { OnnxDetector, type Detector, type OnnxDetectorOptions } from '@edgefleet/vision';
import { describeError } from '../errors.js';
import type { Logger } from '@edgefleet/service-kit';

export type DetectorLoader = (path: string, options: OnnxDetectorOptions) => Promise<Detector>;

interface Entry {
  readonly key: string;
  readonly loading: Promise<Detector>;
  refs: number;
}

/**
 * A loaded detector with a reference count. Every holder (a camera's routing, a frame in flight, a model
 * being prepared) retains it once and releases it once; the detector closes when the count drops to 0.
 * `acquire` returns it retained once for the caller.
 */
export class DetectorHandle {
  constructor(
    private readonly pool: DetectorPool,
    private readonly entry: Entry,
    readonly detector: Detector,
  ) {}

  get key(): string {
    return this.entry.key;
  }

  retain(): void {
    this.entry.refs++;
  }

  release(): void {
    this.pool.unref(this.entry);
  }

  /** Holders right now (status, tests). */
  get refs(): number {
    return this.entry.refs;
  }
}

/**
 * Loaded detectors shared by key (the artifact's sha256 with the load options): cameras assigned the same
 * model run one ONNX Runtime session, loaded once, closed when no camera uses it any more.
 */
export class DetectorPool {
  private readonly entries = new Map<string, Entry>();
  private readonly handles = new WeakMap<Entry, DetectorHandle>();
  private readonly closing = new Set<Promise<void>>();

  constructor(
    private readonly logger: Logger,
    private readonly load: DetectorLoader = (path, options) => OnnxDetector.load(path, options),
  ) {}

  /** A retained handle; loads the model unless it is loaded (or loading). Rejects with the load error. */
  async acquire(key: string, path: string, options: OnnxDetectorOptions): Promise<DetectorHandle> {
    let entry = this.entries.get(key);
    if (!entry) {
      const loading = this.load(path, options);
      entry = { key, loading, refs: 0 };
      this.entries.set(key, entry);
      const created = entry;
      loading.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
    }
    entry.refs++;
    let detector: Detector;
    try {
      detector = await entry.loading;
    } catch (err) {
      entry.refs--;
      throw err;
    }
    let handle = this.handles.get(entry);
    if (!handle) {
      handle = new DetectorHandle(this, entry, detector);
      this.handles.set(entry, handle);
    }
    return handle;
  }

  /** Loaded (or loading) detectors and their holders, for status. */
  size(): number {
    return this.entries.size;
  }

  unref(entry: Entry): void {
    if (entry.refs <= 0) throw new Error(`model ${entry.key} released more often than retained`);
    entry.refs--;
    if (entry.refs > 0 || this.entries.get(entry.key) !== entry) return;
    this.entries.delete(entry.key);
    const closing = entry.loading
      .then((d) => d.close())
      .catch((err: unknown) =>
        this.logger.warn('closing a model failed', { model: entry.key, error: describeError(err) }),
      );
    this.closing.add(closing);
    void closing.finally(() => this.closing.delete(closing));
  }

  /** Closes every detector (agent stop). */
  async close(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all([
      ...this.closing,
      ...entries.map((e) =>
        e.loading.then(
          (d) => d.close(),
          () => undefined,
        ),
      ),
    ]);
  }
}
