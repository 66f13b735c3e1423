import { createHash, verify } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { modelSignaturePayload, type ModelDescriptor } from '@edgefleet/proto';
import { EdgeError } from '../errors.js';
import type { PinnedKey } from '../control/pinned-key.js';

/** Why an artifact was refused; the first word of every reason. */
export type RejectionKind = 'truncated' | 'oversized' | 'tampered' | 'unsigned' | 'wrong key' | 'bad signature';

/** EDGE_ERR_MODEL_REJECTED with the kind of refusal; `reason` is what the status report carries. */
export class ModelRejectedError extends EdgeError {
  constructor(
    readonly kind: RejectionKind,
    readonly reason: string,
  ) {
    super('EDGE_ERR_MODEL_REJECTED', reason, { details: { kind } });
    this.name = 'ModelRejectedError';
  }
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The sizes check alone (a download knows it before it hashes anything). */
export function checkSize(size: number, d: Pick<ModelDescriptor, 'sizeBytes'>): void {
  if (size < d.sizeBytes) throw new ModelRejectedError('truncated', `truncated: ${size} of ${d.sizeBytes} bytes`);
  if (size > d.sizeBytes)
    throw new ModelRejectedError('oversized', `oversized: more than the descriptor's ${d.sizeBytes} bytes`);
}

/**
 * Checks a downloaded artifact before a byte of it is loaded, cheapest and most telling first:
 * size → sha256 of the bytes → a signature at all → the key id is the pinned key's → the ed25519
 * signature over `modelSignaturePayload(descriptor)` verifies with the pinned key (docs/architecture.md §7).
 * The signature binds sha256, size, name, version and serial, so a verified file is the one the control
 * plane signed, under that identity and place in history (the downgrade check relies on the serial).
 * Throws ModelRejectedError.
 */
export async function verifyArtifact(path: string, d: ModelDescriptor, key: PinnedKey): Promise<void> {
  checkSize((await stat(path)).size, d);
  const actual = await sha256OfFile(path);
  if (actual !== d.sha256)
    throw new ModelRejectedError(
      'tampered',
      `tampered: the file hashes to sha256 ${actual}, the descriptor says ${d.sha256}`,
    );
  verifyDescriptorSignature(d, key);
}

/** The signature part of verifyArtifact (the descriptor alone). Throws ModelRejectedError. */
export function verifyDescriptorSignature(d: ModelDescriptor, key: PinnedKey): void {
  // The wire contract requires 64 bytes, so "no signature" arrives as zeros (or, from an older peer, empty).
  if (d.signature.length === 0 || d.signature.every((b) => b === 0)) {
    throw new ModelRejectedError('unsigned', `unsigned: model ${d.modelId} ${d.version} carries no signature`);
  }
  if (d.keyId !== key.keyId) {
    throw new ModelRejectedError(
      'wrong key',
      `wrong key: signed with key ${d.keyId || '(none)'}, the pinned key is ${key.keyId}`,
    );
  }
  let ok = false;
  try {
    ok = verify(null, modelSignaturePayload(d), key.key, d.signature);
  } catch {
    ok = false;
  }
  if (!ok)
    throw new ModelRejectedError(
      'bad signature',
      `bad signature: the signature of ${d.modelId} ${d.version} (serial ${d.serial}) does not verify with key ${key.keyId}`,
    );
}
