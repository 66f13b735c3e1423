import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { isDeviceId } from '@edgefleet/proto';
import { CpError } from '../errors.js';
import type { Store } from '../storage/store.js';

/**
 * Per-device credentials (MQTT and gRPC). Enrolment generates a random password, returns it once and stores
 * only a salted hash of it.
 *
 * Stored formats:
 * - `sha256$<salt base64>$<SHA-256(salt ‖ password) base64>` — what enrolment writes. The password is
 *   `enrolment.passwordBytes` (≥ 16, default 24) random bytes, 128 bits or more of entropy, so guessing it
 *   is hopeless whatever the hash costs; a slow KDF would add nothing but ~50 ms of a libuv thread to every
 *   broker connect and gRPC call (500 agents reconnecting at once queued 15 s of scrypt behind each other).
 *   Tokens and API keys are stored the same way elsewhere, for the same reason.
 * - `scrypt$N$r$p$<salt base64>$<hash base64>` — written by earlier versions; still verified (a device
 *   re-enrolled with `rotate` gets the new format).
 */

const SCRYPT = { N: 16_384, r: 8, p: 1 } as const;

function scryptAsync(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

function sha256(salt: Buffer, password: string): Buffer {
  return createHash('sha256').update(salt).update(password, 'utf8').digest();
}

export function generatePassword(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** The stored form of a generated (high-entropy) device password. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return `sha256$${salt.toString('base64')}$${sha256(salt, password).toString('base64')}`;
}

/** A stored hash in the earlier scrypt format (tests of the upgrade path). */
export async function hashPasswordScrypt(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Constant-time comparison against a stored hash of either format; false (never a throw) for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts[0] === 'sha256' && parts.length === 3) {
    const salt = Buffer.from(parts[1] as string, 'base64');
    const expected = Buffer.from(parts[2] as string, 'base64');
    if (salt.length === 0 || expected.length !== 32) return false;
    return timingSafeEqual(sha256(salt, password), expected);
  }
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4] as string, 'base64');
  const expected = Buffer.from(parts[5] as string, 'base64');
  if (![N, r, p].every(Number.isSafeInteger) || expected.length === 0) return false;
  const key = await scryptAsync(password, salt, expected.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  return timingSafeEqual(key, expected);
}

export interface EnrolledDevice {
  readonly deviceId: string;
  /** MQTT user name: the device id. */
  readonly username: string;
  /** Shown once; only its hash is stored. */
  readonly password: string;
}

export interface DeviceCredentialsDeps {
  readonly store: Store;
  /** Random bytes per password. */
  readonly passwordBytes: number;
}

export class DeviceCredentials {
  /** A hash of a random password, verified against when the device is unknown. */
  private decoy: Promise<string> | null = null;

  constructor(private readonly deps: DeviceCredentialsDeps) {}

  /** Enrols a device (or rotates its password with `rotate`). CP_ERR_DEVICE_ID, CP_ERR_DEVICE_EXISTS. */
  async enrol(deviceId: string, options: { rotate?: boolean } = {}): Promise<EnrolledDevice> {
    if (!isDeviceId(deviceId))
      throw new CpError(
        'CP_ERR_DEVICE_ID',
        `expected letters, digits, ".", "_" or "-" (1..128), got ${JSON.stringify(deviceId)}`,
      );
    const password = generatePassword(this.deps.passwordBytes);
    await this.deps.store.enrolDevice(deviceId, await hashPassword(password), { replace: options.rotate === true });
    return { deviceId, username: deviceId, password };
  }

  /**
   * True when the device is enrolled and the password matches. Unknown devices cost one hash check too, so
   * the answer time does not tell which device ids exist.
   */
  async verify(deviceId: string, password: string): Promise<boolean> {
    const stored = isDeviceId(deviceId) ? await this.deps.store.deviceCredential(deviceId) : null;
    if (stored === null) {
      this.decoy ??= hashPassword(generatePassword(16));
      await verifyPassword(password, await this.decoy);
      return false;
    }
    return verifyPassword(password, stored);
  }
}
