import { status, type ServiceError } from '@grpc/grpc-js';
import { isProtoError } from '@edgefleet/proto';
import { CpError } from '../errors.js';

/**
 * The one translation of errors into gRPC statuses (as error-handler.ts is for HTTP). Catalogue codes
 * map through their HTTP status; contract violations of a request (ProtoError) are INVALID_ARGUMENT
 * naming the field; anything else is INTERNAL without internals.
 */

const BY_HTTP_STATUS: Readonly<Record<number, status>> = {
  400: status.INVALID_ARGUMENT,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  404: status.NOT_FOUND,
  409: status.FAILED_PRECONDITION,
  413: status.RESOURCE_EXHAUSTED,
  416: status.OUT_OF_RANGE,
  422: status.INVALID_ARGUMENT,
  429: status.RESOURCE_EXHAUSTED,
  503: status.UNAVAILABLE,
};

export type GrpcStatusError = Partial<ServiceError> & { code: status; details: string };

export function toGrpcStatus(err: unknown): GrpcStatusError {
  if (isProtoError(err)) return { code: status.INVALID_ARGUMENT, details: err.message };
  if (err instanceof CpError)
    return { code: BY_HTTP_STATUS[err.status] ?? status.INTERNAL, details: `${err.code}: ${err.message}` };
  return { code: status.INTERNAL, details: 'internal error' };
}

/** True when the failure is the server's (worth an error log), not the caller's. */
export function isServerFault(err: unknown): boolean {
  return !isProtoError(err) && !(err instanceof CpError && err.status < 500);
}
