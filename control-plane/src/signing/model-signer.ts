import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { modelSignaturePayload, signingKeyId, type ModelDescriptor } from '@edgefleet/proto';
import { CpError } from '../errors.js';
import { loadOrCreateSecretFile } from '@edgefleet/service-kit/config';

/**
 * The control plane's ed25519 model signing key. Generated at the first start into a PKCS#8 PEM file
 * (mode 0600), loaded on every later one; agents pin its public key. Replicas must share the file
 * (`signing.keyFile`): a model signed by another key is refused by every agent pinned to this one.
 */

export type SignedFields = Pick<ModelDescriptor, 'sha256' | 'sizeBytes' | 'modelId' | 'version' | 'serial'>;

export interface SigningKeyInfo {
  /** First 16 hex digits of SHA-256 over the raw public key (proto `signingKeyId`). */
  readonly keyId: string;
  /** The raw 32-byte public key, base64. */
  readonly publicKeyBase64: string;
  /** SubjectPublicKeyInfo PEM. */
  readonly publicKeyPem: string;
}

export class ModelSigner {
  readonly info: SigningKeyInfo;
  readonly publicKeyRaw: Buffer;

  private constructor(
    private readonly privateKey: KeyObject,
    private readonly publicKey: KeyObject,
  ) {
    // JWK's "x" is the raw public key (RFC 8037), the form agents pin and key ids are computed over.
    this.publicKeyRaw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
    this.info = Object.freeze({
      keyId: signingKeyId(this.publicKeyRaw),
      publicKeyBase64: this.publicKeyRaw.toString('base64'),
      publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    });
  }

  /** Loads the key from `path`, or generates it there first. CP_ERR_SIGNING_KEY when it cannot. */
  static async loadOrCreate(path: string): Promise<{ signer: ModelSigner; created: boolean; exposed: boolean }> {
    try {
      const file = await loadOrCreateSecretFile({
        path,
        make: () => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      });
      const privateKey = createPrivateKey(file.text);
      if (privateKey.asymmetricKeyType !== 'ed25519') {
        throw new CpError(
          'CP_ERR_SIGNING_KEY',
          `${path} holds a ${privateKey.asymmetricKeyType ?? 'non-asymmetric'} key, expected ed25519`,
        );
      }
      return {
        signer: new ModelSigner(privateKey, createPublicKey(privateKey)),
        created: file.created,
        exposed: file.exposed,
      };
    } catch (err) {
      if (err instanceof CpError) throw err;
      throw new CpError('CP_ERR_SIGNING_KEY', `${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** ed25519 signature (64 bytes) over the descriptor's signed payload. */
  sign(fields: SignedFields): Uint8Array {
    return new Uint8Array(sign(null, modelSignaturePayload(fields), this.privateKey));
  }

  verify(fields: SignedFields, signature: Uint8Array): boolean {
    return verify(null, modelSignaturePayload(fields), this.publicKey, signature);
  }
}
