import { createReadStream } from 'node:fs';
import type { ArtifactStore, ByteSource } from '../artifacts/artifact-store.js';
import { CpError } from '../errors.js';
import type { Logger } from '@edgefleet/service-kit';
import type { ModelSigner } from '../signing/model-signer.js';
import type { ModelListFilter, ModelRecord, RegistryStore } from '../storage/registry-store.js';
import type { ModelValidator } from './model-validator.js';
import type { UploadSpool } from './upload-spool.js';

/**
 * Model uploads: spool and hash → validate (loads in ONNX Runtime, adapter, class names) → artifact
 * store (content-addressed) → one transaction: the next serial, the signature over the descriptor with
 * that serial, the model row and an audit entry. Validations run one at a time (each loads a model).
 */

export interface UploadRequest {
  readonly name: string;
  readonly version: string;
  readonly parentSerial?: number;
  /** Optional metrics to keep with the model (JSON). */
  readonly metrics?: unknown;
  readonly actor: string;
  readonly body: ByteSource;
}

export interface ModelRegistryDeps {
  readonly registry: RegistryStore;
  readonly artifacts: ArtifactStore;
  readonly signer: ModelSigner;
  readonly spool: UploadSpool;
  readonly validate: ModelValidator;
  readonly maxUploadBytes: number;
  readonly logger: Logger;
}

export const modelTarget = (serial: number): string => `model:${serial}`;

export class ModelRegistry {
  private validating: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ModelRegistryDeps) {}

  async upload(req: UploadRequest): Promise<ModelRecord> {
    const { registry, artifacts, signer, spool } = this.deps;
    // Refuse what cannot succeed before reading a byte of the body.
    if (await registry.findModel(req.name, req.version))
      throw new CpError('CP_ERR_MODEL_EXISTS', `${req.name} ${req.version}`);
    if (req.parentSerial !== undefined && !(await registry.getModel(req.parentSerial))) {
      throw new CpError('CP_ERR_PARENT_NOT_FOUND', `serial ${req.parentSerial}`);
    }
    const upload = await spool.receive(req.body, this.deps.maxUploadBytes);
    try {
      if (upload.sizeBytes === 0) throw new CpError('CP_ERR_MODEL_EMPTY');
      const facts = await this.serially(() => this.deps.validate(upload.path));
      await artifacts.put(createReadStream(upload.path), { expectedSha256: upload.sha256 });
      const record = await registry.transaction(async (tx) => {
        const serial = await tx.nextModelSerial();
        const signature = signer.sign({
          sha256: upload.sha256,
          sizeBytes: upload.sizeBytes,
          modelId: req.name,
          version: req.version,
          serial,
        });
        const model = await tx.insertModel({
          serial,
          name: req.name,
          version: req.version,
          sha256: upload.sha256,
          sizeBytes: upload.sizeBytes,
          signature,
          keyId: signer.info.keyId,
          classNames: facts.classNames,
          inputWidth: facts.inputWidth,
          inputHeight: facts.inputHeight,
          adapter: facts.adapter,
          metrics: req.metrics ?? null,
          parentSerial: req.parentSerial ?? null,
          createdBy: req.actor,
        });
        await tx.appendAudit({
          actor: req.actor,
          action: 'model.upload',
          target: modelTarget(serial),
          details: {
            name: req.name,
            version: req.version,
            sha256: upload.sha256,
            sizeBytes: upload.sizeBytes,
            keyId: signer.info.keyId,
            adapter: facts.adapter,
            parentSerial: req.parentSerial ?? null,
          },
        });
        return model;
      });
      this.deps.logger.info('model registered', {
        serial: record.serial,
        name: record.name,
        version: record.version,
        sha256: record.sha256,
        sizeBytes: record.sizeBytes,
      });
      return record;
    } finally {
      await upload.discard();
    }
  }

  async get(serial: number): Promise<ModelRecord> {
    const model = await this.deps.registry.getModel(serial);
    if (!model) throw new CpError('CP_ERR_MODEL_NOT_FOUND', `serial ${serial}`);
    return model;
  }

  list(filter: ModelListFilter): Promise<ModelRecord[]> {
    return this.deps.registry.listModels(filter);
  }

  /** The model's bytes (admins; agents download over gRPC). */
  async openArtifact(
    serial: number,
  ): Promise<{ model: ModelRecord; stream: NodeJS.ReadableStream; sizeBytes: number }> {
    const model = await this.get(serial);
    const { stream, sizeBytes } = await this.deps.artifacts.open(model.sha256);
    return { model, stream, sizeBytes };
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.validating.then(fn, fn);
    // The chain only orders the runs; each caller gets its own run's failure through `run`.
    this.validating = run.catch(() => undefined);
    return run;
  }
}
