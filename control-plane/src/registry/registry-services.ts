import { join } from 'node:path';
import { FileArtifactStore } from '../artifacts/file-artifact-store.js';
import { AssignmentService } from '../assignments/assignment-service.js';
import { describeError } from '../errors.js';
import { EventBus } from '../events/event-bus.js';
import { ModelRegistry } from '../models/model-registry.js';
import { validateOnnxDetector, type ModelValidator } from '../models/model-validator.js';
import { UploadSpool } from '../models/upload-spool.js';
import { ModelSigner } from '../signing/model-signer.js';
import type { Store } from '../storage/store.js';
import type { Clock, Logger } from '@edgefleet/service-kit';

/**
 * The registry side of the control plane (artifact store, signing key, model registry, assignments and
 * their event bus), built the same way by the composition root and by tests that need it without the
 * broker and the servers.
 */
export interface RegistryServicesOptions {
  readonly store: Store;
  readonly dataDir: string;
  readonly signingKeyFile: string;
  readonly maxUploadBytes: number;
  readonly logger: Logger;
  readonly validate?: ModelValidator;
  readonly clock: Clock;
}

export interface RegistryServices {
  readonly bus: EventBus;
  readonly artifacts: FileArtifactStore;
  readonly signer: ModelSigner;
  readonly models: ModelRegistry;
  readonly assignments: AssignmentService;
}

export async function createRegistryServices(o: RegistryServicesOptions): Promise<RegistryServices> {
  const { store, logger } = o;
  const bus = new EventBus((event, err) => logger.error('event listener failed', { event, error: describeError(err) }));
  const artifacts = new FileArtifactStore(join(o.dataDir, 'artifacts'));
  await artifacts.start();
  const spool = new UploadSpool(join(o.dataDir, 'uploads'));
  await spool.start();
  const key = await ModelSigner.loadOrCreate(o.signingKeyFile);
  if (key.created)
    logger.info('model signing key generated', { keyFile: o.signingKeyFile, keyId: key.signer.info.keyId });
  if (key.exposed)
    logger.warn('model signing key file is readable by group or others; chmod 600 it', { keyFile: o.signingKeyFile });
  const models = new ModelRegistry({
    registry: store.registry,
    artifacts,
    signer: key.signer,
    spool,
    validate: o.validate ?? validateOnnxDetector,
    maxUploadBytes: o.maxUploadBytes,
    logger,
  });
  const assignments = new AssignmentService({
    registry: store.registry,
    bus,
    logger,
    clock: o.clock,
  });
  return { bus, artifacts, signer: key.signer, models, assignments };
}
