import { invalid } from './proto-error.js';

/**
 * protobufjs decodes uint64 fields as `Long` objects (it finds the `long` package) or as numbers (without
 * it, or for values that fit). Both become a plain number here, and a value above 2^53 - 1 is refused
 * rather than silently rounded: a rounded sequence number would merge two rows under one key.
 */

interface LongLike {
  readonly low: number;
  readonly high: number;
}

const TWO_32 = 4_294_967_296;
/** High word of Number.MAX_SAFE_INTEGER (2^53 - 1 = 0x1F_FFFF_FFFF_FFFF). */
const MAX_SAFE_HIGH = 0x1f_ffff;

function isLongLike(v: unknown): v is LongLike {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as LongLike).low === 'number' &&
    typeof (v as LongLike).high === 'number'
  );
}

/** A decoded uint64 as a safe integer; PROTO_ERR_INVALID naming `field` otherwise. */
export function uint64ToNumber(value: unknown, field: string): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    throw invalid(field, `value ${String(value)} is not a safe unsigned integer`);
  }
  if (isLongLike(value)) {
    const high = value.high >>> 0;
    const low = value.low >>> 0;
    if (high > MAX_SAFE_HIGH) {
      throw invalid(field, `value ${high.toString(16)}:${low.toString(16).padStart(8, '0')} (hex) exceeds 2^53 - 1`);
    }
    return high * TWO_32 + low;
  }
  throw invalid(field, `expected an unsigned 64-bit integer, got ${typeof value}`);
}

/** Checks a number before it is encoded as uint64. */
export function assertUint64(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(field, `must be a safe unsigned integer (0 .. 2^53 - 1), got ${render(value)}`);
  }
}

/** Checks a number before it is encoded as uint32. */
export function assertUint32(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw invalid(field, `must be an unsigned 32-bit integer, got ${render(value)}`);
  }
}

export function render(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
    return String(value);
  return typeof value;
}
