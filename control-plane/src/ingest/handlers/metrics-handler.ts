import { decodeDeviceMetrics, type DeviceMetrics } from '@edgefleet/proto';
import { isDataError } from '../../storage/storage-errors.js';
import type { Store } from '../../storage/store.js';
import { rejected, STORED, type HandlerOutcome, type MessageHandler } from '../message-handler.js';
import { protoRejection } from '../proto-rejection.js';
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
    let metrics: DeviceMetrics;
    try {
      metrics = decodeDeviceMetrics(payload, { maxBytes: this.deps.maxPayloadBytes });
    } catch (err) {
      return protoRejection(err);
    }
    if (metrics.deviceId !== deviceId)
      return rejected(
        'device-mismatch',
        `payload device_id ${JSON.stringify(metrics.deviceId)} on the topic of ${deviceId}`,
      );
    try {
      await this.deps.store.updateDeviceMetrics({ deviceId, metrics, seenAt: this.deps.clock.now() });
    } catch (err) {
      if (isDataError(err)) return rejected('db-rejected', (err as Error).message);
      throw err;
    }
    return STORED;
  }
}
