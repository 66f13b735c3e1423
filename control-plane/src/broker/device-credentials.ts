import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { isDeviceId } from '@edgefleet/proto';
import { CpError } from '../errors.js';
import type { Store } from '../storage/store.js';

/**
 * Per-device MQTT credentials. Enrolment generates a random password, returns it once and stores only
 * its scrypt hash (node:crypto, in the libuv threadpool, so verification does not block the loop).
 * Stored format: `scrypt$N$r$p$<salt base64>$<hash base64>`, so the cost can be raised later
 * without invalidating existing hashes.
 */

const SCRYPT = { N: 16_384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function scryptAsync(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export function generatePassword(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, KEY_LENGTH, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Constant-time comparison against a stored hash; false (never a throw) for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
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
    if (!isDeviceId(deviceId)) throw new CpError('CP_ERR_DEVICE_ID', `expected letters, digits, ".", "_" or "-" (1..128), got ${JSON.stringify(deviceId)}`);
    const password = generatePassword(this.deps.passwordBytes);
    await this.deps.store.enrolDevice(deviceId, await hashPassword(password), { replace: options.rotate === true });
    return { deviceId, username: deviceId, password };
  }

  /**
   * True when the device is enrolled and the password matches. Unknown devices cost one scrypt too, so
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
