import { decodeDeviceMetrics } from '@edgefleet/proto';
import type { Store } from '../../storage/store.js';
import type { HandlerOutcome, MessageHandler } from '../message-handler.js';
import { decodeDeviceMessage, storeOrReject } from '../device-message.js';
import type { Clock } from '@edgefleet/service-kit';

/** `{prefix}/{device}/metrics` (QoS 0, periodic): keeps the device's latest metrics and last seen time. */
export interface MetricsHandlerDeps {
  readonly store: Store;
  readonly maxPayloadBytes: number;
  readonly clock: Clock;
}

export class MetricsHandler implements MessageHandler {
  constructor(private readonly deps: MetricsHandlerDeps) {}

  async handle(deviceId: string, payload: Buffer): Promise<HandlerOutcome> {
    const decoded = decodeDeviceMessage(decodeDeviceMetrics, payload, {
      deviceId,
      maxPayloadBytes: this.deps.maxPayloadBytes,
    });
    if (!decoded.ok) return decoded.outcome;
    const metrics = decoded.message;
    return storeOrReject(() =>
      this.deps.store.updateDeviceMetrics({ deviceId, metrics, seenAt: this.deps.clock.now() }),
    );
  }
}
