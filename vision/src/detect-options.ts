/**
 * Defaults and validation of per-call detection options.
 */
import { VisionError } from './errors.js';
import type { DetectOptions } from './types.js';

export const DEFAULT_DETECT_OPTIONS = Object.freeze({ conf: 0.25, iou: 0.45, maxDetections: 300 });

export type ResolvedDetectOptions = Required<DetectOptions>;

function unitInterval(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
    throw new VisionError('VISION_ERR_BAD_OPTION', `${name} must be a number in [0, 1], got ${String(v)}`);
  }
  return v;
}

export function resolveDetectOptions(options: DetectOptions = {}): ResolvedDetectOptions {
  const conf = unitInterval('conf', options.conf ?? DEFAULT_DETECT_OPTIONS.conf);
  const iou = unitInterval('iou', options.iou ?? DEFAULT_DETECT_OPTIONS.iou);
  const maxDetections = options.maxDetections ?? DEFAULT_DETECT_OPTIONS.maxDetections;
  if (!Number.isInteger(maxDetections) || maxDetections < 1) {
    throw new VisionError(
      'VISION_ERR_BAD_OPTION',
      `maxDetections must be an integer >= 1, got ${String(maxDetections)}`,
    );
  }
  return { conf, iou, maxDetections };
}
