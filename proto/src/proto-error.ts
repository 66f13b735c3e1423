/**
 * Error catalogue of the wire contract. Codecs throw nothing but ProtoError, so a consumer (the ingest)
 * can reject a bad payload by code without guarding against anything else.
 */

import { defineErrorCatalogue, type ErrorEntry, errorGuard } from '@edgefleet/service-kit';

export type ProtoErrorSpec = ErrorEntry;

export const PROTO_ERRORS = {
  PROTO_ERR_DECODE: { message: 'payload is not a valid protobuf message' },
  PROTO_ERR_INVALID: { message: 'message violates the fleet.v1 contract' },
  PROTO_ERR_TOO_LARGE: { message: 'payload exceeds the size limit' },
} as const satisfies Record<string, ProtoErrorSpec>;

export type ProtoErrorCode = keyof typeof PROTO_ERRORS;

const ProtoErrorBase = defineErrorCatalogue({ name: 'ProtoError', catalogue: PROTO_ERRORS }).ErrorClass;

/** A codec failure; `field` says which field, for field-level contract violations. */
export class ProtoError extends ProtoErrorBase {
  /** Path of the offending field in proto names, e.g. `detections[3].score`; undefined for whole-payload errors. */
  readonly field: string | undefined;

  constructor(code: ProtoErrorCode, detail: string, options?: { field?: string; cause?: unknown }) {
    super(code, detail, { cause: options?.cause });
    this.field = options?.field;
  }
}

export const isProtoError = errorGuard(ProtoError);

/** Shorthand for a field-level contract violation: the message starts with the field path. */
export function invalid(field: string, why: string): ProtoError {
  return new ProtoError('PROTO_ERR_INVALID', `${field}: ${why}`, { field });
}
