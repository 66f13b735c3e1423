import { timingSafeEqual } from 'node:crypto';
import { deviceTopicRoot, isDeviceId } from '@edgefleet/proto';
import type { DeviceCredentials } from './device-credentials.js';

/**
 * Who a broker connection is, and what it may do:
 *
 * - a **device** (user name = its device id, password from enrolment) may publish only under
 *   `{prefix}/{its id}/` and subscribe only to filters inside that subtree (future command topics);
 * - a **service** (the control plane's own clients, integrations; credentials held in memory) may
 *   subscribe to every device's topics (`{prefix}/+/…`) and publish under `{prefix}/`.
 *
 * Nothing else is allowed: no `$SYS`, no topics outside the prefix, no wildcards across devices for a device.
 */

export type Principal =
  | { readonly kind: 'device'; readonly deviceId: string }
  | { readonly kind: 'service'; readonly name: string };

export interface TopicAuthorizerDeps {
  readonly credentials: DeviceCredentials;
  /** Service user name → password. */
  readonly services: ReadonlyMap<string, string>;
  /** `fleet/v1` or a deployment's own prefix. */
  readonly topicPrefix: string;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export type AuthResult =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reason: 'bad-credentials' | 'client-id' };

export class TopicAuthorizer {
  constructor(private readonly deps: TopicAuthorizerDeps) {}

  /**
   * A device's client id must be its device id or `edge-<device id>` (the agent's default): otherwise one
   * device could take over another's session by connecting with its client id.
   */
  async authenticate(
    clientId: string,
    username: string | undefined,
    password: string | undefined,
  ): Promise<AuthResult> {
    if (username === undefined || password === undefined) return { ok: false, reason: 'bad-credentials' };
    const service = this.deps.services.get(username);
    if (service !== undefined) {
      return sameSecret(password, service)
        ? { ok: true, principal: { kind: 'service', name: username } }
        : { ok: false, reason: 'bad-credentials' };
    }
    if (!isDeviceId(username) || !(await this.deps.credentials.verify(username, password)))
      return { ok: false, reason: 'bad-credentials' };
    if (clientId !== username && clientId !== `edge-${username}`) return { ok: false, reason: 'client-id' };
    return { ok: true, principal: { kind: 'device', deviceId: username } };
  }

  canPublish(principal: Principal, topic: string): boolean {
    if (principal.kind === 'service') return topic.startsWith(`${this.deps.topicPrefix}/`);
    return topic.startsWith(deviceTopicRoot(principal.deviceId, this.deps.topicPrefix));
  }

  /** Subscription filters: a device only inside its own subtree (wildcards allowed below its id). */
  canSubscribe(principal: Principal, filter: string): boolean {
    if (filter.startsWith('$')) return false;
    if (principal.kind === 'service') return filter.startsWith(`${this.deps.topicPrefix}/`);
    return filter.startsWith(deviceTopicRoot(principal.deviceId, this.deps.topicPrefix));
  }
}
