import type { Detector, RgbFrame } from '@edgefleet/vision';
import { EdgeError } from '../errors.js';
import type { SerialLock } from '../agent/serial-lock.js';

/** A mid-grey frame at the model's input size: every real detector runs on it, nothing is detected. */
export function warmUpFrame(detector: Detector): RgbFrame {
  const { inputWidth: width, inputHeight: height, pixelFormat } = detector.info;
  return { data: new Uint8Array(width * height * 3).fill(128), width, height, format: pixelFormat, sourceWidth: width, sourceHeight: height };
}

/**
 * Runs `runs` detections on a synthetic frame before a model serves: the first inference allocates and
 * (with TensorRT) builds engines, and a model that cannot even run on a grey frame never goes live.
 * Takes the detector's lock per run, so cameras already served by it keep their turn. Throws
 * EDGE_ERR_MODEL_WARMUP.
 */
export async function warmUp(detector: Detector, lock: SerialLock, runs: number): Promise<void> {
  const frame = warmUpFrame(detector);
  for (let i = 0; i < runs; i++) {
    try {
      await lock.run(() => detector.detect(frame));
    } catch (err) {
      throw new EdgeError('EDGE_ERR_MODEL_WARMUP', `${detector.info.path}: run ${i + 1} of ${runs}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
}
