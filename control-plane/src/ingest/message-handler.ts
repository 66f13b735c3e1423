import type { RejectReason } from './ingest-stats.js';

/**
 * What one topic kind's handler concluded about one message. `stored`: its effect is committed (new or
 * duplicate rows), so it may be acknowledged. `rejected`: it can never be stored; it is acknowledged too,
 * or it would be redelivered forever. A handler that cannot decide now (database unreachable, stopping)
 * throws instead, and the message is not acknowledged.
 */
export type HandlerOutcome =
  | { readonly status: 'stored' }
  | { readonly status: 'rejected'; readonly reason: RejectReason; readonly detail: string };

export interface MessageHandler {
  handle(deviceId: string, payload: Buffer): Promise<HandlerOutcome>;
}

export const STORED: HandlerOutcome = Object.freeze({ status: 'stored' });

export function rejected(reason: RejectReason, detail: string): HandlerOutcome {
  return { status: 'rejected', reason, detail };
}
