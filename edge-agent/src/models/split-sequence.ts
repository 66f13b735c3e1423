import { createHash } from 'node:crypto';
import { FULL_SPLIT_BASIS_POINTS } from '@edgefleet/proto';

/** Fractional part of the golden ratio: the additive step of the most evenly spread Weyl sequence. */
const GOLDEN_FRACTION = 0.6180339887498949;

/** A camera's seed in [0, 1): the first 48 bits of sha256(camera id). */
export function cameraSeed(cameraId: string): number {
  return createHash('sha256').update(cameraId, 'utf8').digest().readUIntBE(0, 6) / 2 ** 48;
}

/**
 * Which frames of a camera go to the candidate in split mode: frame n takes the candidate when
 * frac(seed + n·φ⁻¹) < basis points / 10 000. The golden-ratio Weyl sequence is deterministic per camera
 * (seeded from its id, so cameras do not all pick the same frames) and spreads candidate frames evenly:
 * its discrepancy is O(log N / N), so over any N consecutive frames the candidate's share is within a few
 * frames of the split, not the ±√N of a coin flip, and never comes in long runs.
 */
export class SplitSequence {
  private position: number;

  constructor(cameraId: string) {
    this.position = cameraSeed(cameraId);
  }

  /** Advances one frame; true when that frame goes to the candidate. */
  next(basisPoints: number): boolean {
    const x = this.position;
    this.position += GOLDEN_FRACTION;
    if (this.position >= 1) this.position -= 1;
    return x < basisPoints / FULL_SPLIT_BASIS_POINTS;
  }
}
