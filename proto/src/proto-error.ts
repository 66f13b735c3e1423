/**
 * Error catalogue of the wire contract. Codecs throw nothing but ProtoError, so a consumer (the ingest)
 * can reject a bad payload by code without guarding against anything else.
 */

export interface ProtoErrorSpec {
  readonly message: string;
}

export const PROTO_ERRORS = {
  PROTO_ERR_DECODE: { message: 'payload is not a valid protobuf message' },
  PROTO_ERR_INVALID: { message: 'message violates the fleet.v1 contract' },
  PROTO_ERR_TOO_LARGE: { message: 'payload exceeds the size limit' },
} as const satisfies Record<string, ProtoErrorSpec>;

export type ProtoErrorCode = keyof typeof PROTO_ERRORS;

export class ProtoError extends Error {
  readonly code: ProtoErrorCode;
  /** Path of the offending field in proto names, e.g. `detections[3].score`; undefined for whole-payload errors. */
  readonly field: string | undefined;

  constructor(code: ProtoErrorCode, detail: string, options?: { field?: string; cause?: unknown }) {
    super(
      `${PROTO_ERRORS[code].message}: ${detail}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'ProtoError';
    this.code = code;
    this.field = options?.field;
  }
}

export function isProtoError(err: unknown, code?: ProtoErrorCode): err is ProtoError {
  return err instanceof ProtoError && (code === undefined || err.code === code);
}

/** Shorthand for a field-level contract violation: the message starts with the field path. */
export function invalid(field: string, why: string): ProtoError {
  return new ProtoError('PROTO_ERR_INVALID', `${field}: ${why}`, { field });
}
