import { createHash } from 'node:crypto';
import type { ModelDescriptor } from './control-messages.js';

/**
 * What the control plane signs for a model artifact and the agent verifies (ed25519, node:crypto).
 * The payload binds the file (sha256, size) to its identity (name, version) and its place in the
 * registry's history (serial, for the downgrade check), one field per line after a fixed tag, so no two
 * descriptors share a payload:
 *
 *     edgefleet-model-signature-v1
 *     <sha256 hex>
 *     <size in bytes>
 *     <model id>
 *     <version>
 *     <serial>
 *
 * Model ids and versions cannot contain a newline (the registry refuses them), so the lines are unambiguous.
 */
export const MODEL_SIGNATURE_TAG = 'edgefleet-model-signature-v1';

export function modelSignaturePayload(
  m: Pick<ModelDescriptor, 'sha256' | 'sizeBytes' | 'modelId' | 'version' | 'serial'>,
): Buffer {
  for (const [name, value] of [
    ['model id', m.modelId],
    ['version', m.version],
  ] as const) {
    if (/[\r\n]/.test(value)) throw new Error(`model ${name} must not contain a line break: ${JSON.stringify(value)}`);
  }
  return Buffer.from(
    [MODEL_SIGNATURE_TAG, m.sha256, String(m.sizeBytes), m.modelId, m.version, String(m.serial)].join('\n'),
    'utf8',
  );
}

/** Key id of an ed25519 public key: first 16 hex digits of SHA-256 over its raw 32 bytes. */
export function signingKeyId(rawPublicKey: Uint8Array): string {
  return createHash('sha256').update(rawPublicKey).digest('hex').slice(0, 16);
}
