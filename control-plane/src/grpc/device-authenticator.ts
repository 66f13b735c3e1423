import { createHash } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { isDeviceId } from '@edgefleet/proto';
import type { DeviceCredentials } from '../broker/device-credentials.js';
import { CpError } from '../errors.js';
import type { Clock } from '@edgefleet/service-kit';

/**
 * Authenticates the device behind a gRPC call: metadata `authorization: Basic base64(<device>:<password>)`
 * with its enrolment credentials (the MQTT ones), verified against the stored salted hash; with mTLS, the
 * client certificate's subject CN must name the same device. A verified credential is trusted for `ttlMs`
 * (keyed by a SHA-256 of the credential, never the password itself) and concurrent verifications of the
 * same credential share one check: a store round trip (and, for hashes still in the earlier scrypt format,
 * ~50 ms of a libuv thread) is saved on every call of a busy agent and on a fleet reconnecting at once.
 */

export interface CallIdentity {
  readonly metadata: Metadata;
  /** Subject CN of the verified client certificate (mTLS), undefined without one. */
  readonly certificateCommonName?: string | undefined;
}

export interface DeviceAuthenticatorOptions {
  readonly credentials: Pick<DeviceCredentials, 'verify'>;
  readonly ttlMs: number;
  /** mTLS: a certificate whose CN is the device id is required. */
  readonly requireCertificate: boolean;
  readonly clock: Clock;
}

const MAX_CACHED = 100_000;

export class DeviceAuthenticator {
  private readonly verified = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<boolean>>();

  constructor(private readonly options: DeviceAuthenticatorOptions) {}

  /** The device id of the call; CP_ERR_UNAUTHENTICATED otherwise. */
  async authenticate(call: CallIdentity): Promise<string> {
    const header = call.metadata.get('authorization')[0];
    const match = typeof header === 'string' ? /^Basic +([A-Za-z0-9+/=_-]+) *$/i.exec(header) : null;
    if (!match)
      throw new CpError(
        'CP_ERR_UNAUTHENTICATED',
        'send metadata "authorization: Basic base64(<device id>:<password>)"',
      );
    const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const deviceId = colon < 0 ? '' : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    if (!isDeviceId(deviceId) || password === '')
      throw new CpError('CP_ERR_UNAUTHENTICATED', 'malformed Basic credentials');
    if (this.options.requireCertificate && call.certificateCommonName !== deviceId) {
      throw new CpError(
        'CP_ERR_UNAUTHENTICATED',
        `client certificate CN ${JSON.stringify(call.certificateCommonName ?? null)} is not device ${deviceId}`,
      );
    }
    if (!(await this.check(deviceId, password)))
      throw new CpError('CP_ERR_UNAUTHENTICATED', 'unknown device or wrong password');
    return deviceId;
  }

  private async check(deviceId: string, password: string): Promise<boolean> {
    const now = this.options.clock.now();
    const key = createHash('sha256').update(deviceId).update('\0').update(password).digest('base64');
    const until = this.verified.get(key);
    if (until !== undefined && until > now) return true;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.options.credentials.verify(deviceId, password).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    const ok = await pending;
    if (ok && this.options.ttlMs > 0) {
      if (this.verified.size >= MAX_CACHED) this.prune(now);
      this.verified.set(key, now + this.options.ttlMs);
    }
    return ok;
  }

  private prune(now: number): void {
    for (const [key, until] of this.verified) if (until <= now) this.verified.delete(key);
    // Still full of live entries: start over rather than grow without bound.
    if (this.verified.size >= MAX_CACHED) this.verified.clear();
  }
}
