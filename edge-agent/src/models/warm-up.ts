import type { Detector, RgbFrame } from '@edgefleet/vision';
import { EdgeError } from '../errors.js';

/** A mid-grey frame at the model's input size: every real detector runs on it, nothing is detected. */
export function warmUpFrame(detector: Detector): RgbFrame {
  const { inputWidth: width, inputHeight: height, pixelFormat } = detector.info;
  return {
    data: new Uint8Array(width * height * 3).fill(128),
    width,
    height,
    format: pixelFormat,
    sourceWidth: width,
    sourceHeight: height,
  };
}

/**
 * Runs `runs` detections on a synthetic frame before a model serves: the first inference allocates and
 * (with TensorRT) builds engines, and a model that cannot even run on a grey frame never goes live.
 * Cameras already served by the detector keep their turn: runs queue in submission order. Throws
 * EDGE_ERR_MODEL_WARMUP.
 */
export async function warmUp(detector: Detector, runs: number): Promise<void> {
  const frame = warmUpFrame(detector);
  for (let i = 0; i < runs; i++) {
    try {
      // One detection per session at once, so every session of a replicated model is warm.
      await Promise.all(Array.from({ length: detector.info.sessions }, () => detector.detect(frame)));
    } catch (err) {
      throw new EdgeError(
        'EDGE_ERR_MODEL_WARMUP',
        `${detector.info.path}: run ${i + 1} of ${runs}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }
}
