import { decodeDeviceStatus, type DeviceStatus } from '@edgefleet/proto';
import type { Store } from '../../storage/store.js';
import { rejected, type HandlerOutcome, type MessageHandler } from '../message-handler.js';
import { decodeDeviceMessage, storeOrReject } from '../device-message.js';
import type { Clock } from '@edgefleet/service-kit';

/**
 * `{prefix}/{device}/status` (retained; the broker publishes the last will with online = false): updates
 * the device's online flag, last seen time and latest status report, its agent version, hardware and
 * providers, and the state of each camera it lists (the registry's cameras).
 */
export interface StatusHandlerDeps {
  readonly store: Store;
  readonly maxPayloadBytes: number;
  readonly clock: Clock;
}

export class StatusHandler implements MessageHandler {
  constructor(private readonly deps: StatusHandlerDeps) {}

  async handle(deviceId: string, payload: Buffer): Promise<HandlerOutcome> {
    const decoded = decodeDeviceMessage(decodeDeviceStatus, payload, {
      deviceId,
      maxPayloadBytes: this.deps.maxPayloadBytes,
    });
    if (!decoded.ok) return decoded.outcome;
    const status = decoded.message;
    const json = JSON.stringify(status);
    if (json.includes('\\u0000')) return rejected('unstorable', 'NUL character in a text field');
    return storeOrReject(() => this.store(deviceId, status));
  }

  private async store(deviceId: string, status: DeviceStatus): Promise<void> {
    const seenAt = this.deps.clock.now();
    await this.deps.store.updateDeviceStatus({ deviceId, online: status.online, status, seenAt });
    // The last will (online = false) carries no cameras and no agent facts: it changes neither.
    if (status.agentVersion !== '') {
      await this.deps.store.registry.recordAgent({
        deviceId,
        agentVersion: status.agentVersion,
        hardware: status.hardware,
        providers: status.providers,
        seenAt,
      });
    }
    const cameras = status.cameras.map((c) => ({ cameraId: c.cameraId, status: c.state, lastError: c.lastError }));
    await this.deps.store.registry.upsertCameras(deviceId, cameras, seenAt);
  }
}
