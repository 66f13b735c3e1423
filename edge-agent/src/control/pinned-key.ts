import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signingKeyId } from '@edgefleet/proto';
import { EdgeError } from '../errors.js';

/** The ed25519 key model signatures must verify with (docs/architecture.md §7: refuse unknown-key artifacts). */
export interface PinnedKey {
  readonly key: KeyObject;
  /** Raw 32-byte public key. */
  readonly raw: Buffer;
  /** `signingKeyId(raw)`: what a descriptor's key_id must say. */
  readonly keyId: string;
}

/** RFC 8410 SubjectPublicKeyInfo prefix of an ed25519 key; the raw key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A pinned key from its raw 32 bytes. Throws EDGE_ERR_SIGNING_KEY. */
export function pinnedKeyFromRaw(raw: Uint8Array, source: string): PinnedKey {
  if (raw.length !== 32)
    throw new EdgeError(
      'EDGE_ERR_SIGNING_KEY',
      `${source}: expected a raw 32-byte ed25519 public key, got ${raw.length} bytes`,
    );
  const bytes = Buffer.from(raw);
  const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, bytes]), format: 'der', type: 'spki' });
  return { key, raw: bytes, keyId: signingKeyId(bytes) };
}

/** `control.publicKey`: base64 of the raw key. */
export function pinnedKeyFromBase64(text: string): PinnedKey {
  return pinnedKeyFromRaw(Buffer.from(text.trim(), 'base64'), 'control.publicKey');
}

/** `control.publicKeyFile`: a PEM public key (SPKI) or the raw 32 bytes. Throws EDGE_ERR_CONFIG_READ or EDGE_ERR_SIGNING_KEY. */
export function readPinnedKeyFile(path: string): PinnedKey {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new EdgeError(
      'EDGE_ERR_CONFIG_READ',
      `control.publicKeyFile ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      { cause: err, details: { path } },
    );
  }
  if (bytes.length === 32) return pinnedKeyFromRaw(bytes, path);
  let key: KeyObject;
  try {
    key = createPublicKey(bytes.toString('utf8'));
  } catch (err) {
    throw new EdgeError('EDGE_ERR_SIGNING_KEY', `${path}: neither a PEM public key nor 32 raw bytes`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new EdgeError(
      'EDGE_ERR_SIGNING_KEY',
      `${path}: expected an ed25519 key, got ${String(key.asymmetricKeyType)}`,
    );
  }
  const der = key.export({ format: 'der', type: 'spki' });
  return pinnedKeyFromRaw(der.subarray(der.length - 32), path);
}
