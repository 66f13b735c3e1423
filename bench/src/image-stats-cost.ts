import { imageStatistics } from '@edgefleet/edge-agent/testing';
import type { RgbFrame } from '@edgefleet/vision';

/**
 * Milliseconds of each of `runs` image-statistics passes over `frame`, the pass the camera worker makes once
 * per frame before detection (bench:edge compares its median with the median inference time).
 */
export function timeImageStatistics(frame: RgbFrame, runs: number): number[] {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    imageStatistics(frame);
    ms.push(performance.now() - t0);
  }
  return ms;
}
