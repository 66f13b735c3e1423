/**
 * Picks the adapter for a model: by name when the caller overrides it, otherwise the one whose
 * contract the model's inputs, outputs and metadata fit.
 */
import { VisionError } from '../errors.js';
import type { DetectorAdapter } from './detector-adapter.js';
import { describeSignature, type ModelSignature } from './tensor-layout.js';
import { Yolov8Adapter } from './yolov8-adapter.js';
import { YoloxAdapter } from './yolox-adapter.js';

type AdapterFactory = (signature: ModelSignature) => DetectorAdapter | string;

/** In auto mode earlier entries win when several fit (only possible with dynamic shapes). */
const ADAPTERS: ReadonlyArray<readonly [string, AdapterFactory]> = [
  ['yolov8', (s) => Yolov8Adapter.fromSignature(s)],
  ['yolox', (s) => YoloxAdapter.fromSignature(s)],
];

export const ADAPTER_NAMES: readonly string[] = ADAPTERS.map(([name]) => name);

export function selectAdapter(signature: ModelSignature, override?: string): DetectorAdapter {
  if (override !== undefined) {
    const entry = ADAPTERS.find(([name]) => name === override);
    if (!entry) {
      throw new VisionError(
        'VISION_ERR_BAD_OPTION',
        `unknown adapter '${override}' (known: ${ADAPTER_NAMES.join(', ')})`,
      );
    }
    const result = entry[1](signature);
    if (typeof result === 'string') {
      throw new VisionError(
        'VISION_ERR_MODEL_NOT_DETECTOR',
        `adapter '${override}' does not fit: ${result} (${describeSignature(signature)})`,
      );
    }
    return result;
  }
  const reasons: string[] = [];
  for (const [name, factory] of ADAPTERS) {
    const result = factory(signature);
    if (typeof result !== 'string') return result;
    reasons.push(`${name}: ${result}`);
  }
  throw new VisionError('VISION_ERR_MODEL_NOT_DETECTOR', `${describeSignature(signature)}; ${reasons.join('; ')}`);
}
