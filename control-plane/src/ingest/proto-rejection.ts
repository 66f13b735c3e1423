import { isProtoError } from '@edgefleet/proto';
import type { HandlerOutcome } from './message-handler.js';
import { rejected } from './message-handler.js';

/** Maps a codec failure to a rejection reason; anything that is not a ProtoError is rethrown. */
export function protoRejection(err: unknown): HandlerOutcome {
  if (!isProtoError(err)) throw err;
  switch (err.code) {
    case 'PROTO_ERR_TOO_LARGE':
      return rejected('oversized', err.message);
    case 'PROTO_ERR_DECODE':
      return rejected('decode', err.message);
    default:
      return rejected('invalid', err.message);
  }
}

/** PostgreSQL text cannot hold NUL, and jsonb refuses the \u0000 escape. */
export function hasNul(text: string): boolean {
  return text.includes('\u0000');
}
