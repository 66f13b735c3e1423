import type { ModelArm, ModelDescriptor, RollbackPolicy } from '@edgefleet/proto';
import type { OnnxDetectorOptions } from '@edgefleet/vision';
import { EdgeError } from '../errors.js';
import { ModelRejectedError } from './artifact-verifier.js';
import type { CameraSlot } from './camera-slot.js';
import type { ActiveModel, ModelIdentity } from './camera-models.js';
import type { ManagedControl, ManagerContext } from './manager-context.js';
import { ModelHealth } from './model-health.js';
import { warmUp } from './warm-up.js';

/** An assigned artifact to load for one camera, held to `policy` once it serves. */
export interface LoadRequest {
  readonly slot: CameraSlot;
  readonly descriptor: ModelDescriptor;
  readonly policy: RollbackPolicy;
  /** Called when the warm-up starts. */
  readonly onWarming?: () => void;
}

/** A `LoadRequest` for an assignment: its progress is reported for `arm` of `revision`. */
export interface PrepareRequest extends LoadRequest {
  readonly arm: ModelArm;
  readonly revision: number;
  readonly signal: AbortSignal;
}

/** Progress reports of a download at most 4 times a second, plus the first and the last. */
const PROGRESS_INTERVAL_MS = 250;

export function identityOf(d: ModelDescriptor): ModelIdentity {
  return { modelId: d.modelId, version: d.version, sha256: d.sha256, serial: d.serial, baseline: false };
}

/** Loading models through the detector pool: the configured baseline, or assigned artifacts from the store. */
export class ModelLoader {
  constructor(private readonly ctx: ManagerContext) {}

  async loadBaseline(slot: CameraSlot): Promise<ActiveModel> {
    const m = slot.baseline;
    const key = `config:${JSON.stringify([m.path, m.adapter, m.providers, m.letterbox, m.tensorrtFp16, m.inferenceThread, m.sessions])}`;
    const handle = await this.ctx.deps.pool.acquire(key, m.path, this.loadOptions(slot, false));
    return {
      handle,
      identity: {
        modelId: m.id ?? m.path,
        version: m.version ?? 'local',
        sha256: handle.detector.info.sha256,
        serial: 0,
        baseline: true,
      },
      health: null,
    };
  }

  /** Loads an assigned artifact already on disk and warms it up. Throws when it is not there or fails. */
  async loadFromDisk(request: LoadRequest): Promise<ActiveModel> {
    const { slot, descriptor: d } = request;
    const control = this.ctx.deps.control;
    if (!control) throw new EdgeError('EDGE_ERR_MODEL_NOT_FOUND', 'no model store without a control section');
    if (!control.store.has(d.sha256))
      throw new EdgeError(
        'EDGE_ERR_MODEL_NOT_FOUND',
        `${d.modelId} ${d.version} (${d.sha256}) is not in the model store`,
      );
    const m = slot.baseline;
    const key = `artifact:${d.sha256}:${JSON.stringify([m.providers, m.tensorrtFp16, m.inferenceThread, m.sessions])}`;
    const handle = await this.ctx.deps.pool.acquire(key, control.store.pathOf(d.sha256), this.loadOptions(slot, true));
    try {
      checkUntampered({ control, descriptor: d, loadedSha256: handle.detector.info.sha256 });
      request.onWarming?.();
      await warmUp(handle.detector, control.settings.warmupRuns);
    } catch (err) {
      handle.release();
      throw err;
    }
    control.store.touch(d.sha256);
    return { handle, identity: identityOf(d), health: new ModelHealth(request.policy) };
  }

  /** Fetch (download + verify when not on disk), load beside the running models, warm up: the model, not yet serving. */
  async prepare(request: PrepareRequest): Promise<ActiveModel> {
    const control = this.ctx.deps.control;
    if (!control) throw new EdgeError('EDGE_ERR_CONTROL', 'no control section');
    const { slot, descriptor: d, arm, revision } = request;
    const report = (state: 'downloading' | 'verifying' | 'warming', bytesDone?: number) =>
      this.ctx.book.report({ slot, model: d, arm, state, revision, ...(bytesDone === undefined ? {} : { bytesDone }) });
    if (!control.store.has(d.sha256)) {
      const onProgress = this.throttledProgress(d.sizeBytes, (bytes) => report('downloading', bytes));
      await control.store.fetch(d, { downloading: onProgress, verifying: () => report('verifying') }, request.signal);
    }
    return await this.loadFromDisk({ ...request, onWarming: () => report('warming') });
  }

  private throttledProgress(sizeBytes: number, onProgress: (bytes: number) => void): (bytes: number) => void {
    let lastProgressAt = 0;
    let lastBytes = -1;
    return (bytes) => {
      const t = this.ctx.now();
      if (bytes === lastBytes) return;
      if (t - lastProgressAt < PROGRESS_INTERVAL_MS && bytes < sizeBytes && lastBytes >= 0) return;
      lastProgressAt = t;
      lastBytes = bytes;
      onProgress(bytes);
    };
  }

  private loadOptions(slot: CameraSlot, forAssigned: boolean): OnnxDetectorOptions {
    const m = slot.baseline;
    return {
      providers: m.providers,
      tensorrtFp16: m.tensorrtFp16,
      engineCacheDir: m.engineCacheDir,
      thread: m.inferenceThread,
      // One session on the event loop's thread; `auto` there means that one.
      replicas: m.inferenceThread === 'worker' ? m.sessions : 1,
      logger: this.ctx.deps.logger,
      // Adapter and letterbox overrides belong to the configured file; assigned models are recognised.
      ...(forAssigned ? {} : { adapter: m.adapter === 'auto' ? undefined : m.adapter, letterbox: m.letterbox }),
    };
  }
}

/** The file changed on disk after it was verified: never serve it, and let it be fetched again. */
function checkUntampered(o: { control: ManagedControl; descriptor: ModelDescriptor; loadedSha256: string }): void {
  if (o.loadedSha256 === o.descriptor.sha256) return;
  o.control.store.remove(o.descriptor.sha256);
  throw new ModelRejectedError(
    'tampered',
    `tampered: the stored file hashes to ${o.loadedSha256}, not ${o.descriptor.sha256}`,
  );
}
