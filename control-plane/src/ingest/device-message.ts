import { isDataError } from '../storage/storage-errors.js';
import { type HandlerOutcome, rejected, STORED } from './message-handler.js';
import { protoRejection } from './proto-rejection.js';

/** A decoded device message, or the outcome that ends its handling (rejected as undecodable or misrouted). */
export type DeviceMessage<T> =
  | { readonly ok: true; readonly message: T }
  | { readonly ok: false; readonly outcome: HandlerOutcome };

/**
 * Decodes a payload with its codec (a contract violation is a rejection, never a throw) and checks that
 * the message names the device whose topic it came on: a device may only speak for itself.
 */
export function decodeDeviceMessage<T extends { readonly deviceId: string }>(
  decode: (payload: Buffer, options: { maxBytes: number }) => T,
  payload: Buffer,
  topic: { readonly deviceId: string; readonly maxPayloadBytes: number },
): DeviceMessage<T> {
  let message: T;
  try {
    message = decode(payload, { maxBytes: topic.maxPayloadBytes });
  } catch (err) {
    return { ok: false, outcome: protoRejection(err) };
  }
  if (message.deviceId !== topic.deviceId) {
    const detail = `payload device_id ${JSON.stringify(message.deviceId)} on the topic of ${topic.deviceId}`;
    return { ok: false, outcome: rejected('device-mismatch', detail) };
  }
  return { ok: true, message };
}

/**
 * Runs a store update: stored when it commits, rejected when the database refuses the data itself (it would
 * refuse it again on redelivery); anything else (unreachable, stopping) throws, so the message is not acked.
 */
export async function storeOrReject(update: () => Promise<void>): Promise<HandlerOutcome> {
  try {
    await update();
    return STORED;
  } catch (err) {
    if (isDataError(err)) return rejected('db-rejected', (err as Error).message);
    throw err;
  }
}
