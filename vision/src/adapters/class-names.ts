/**
 * Class names for a model: from its metadata when it has them, COCO-80 for an 80-class model without,
 * numbered placeholders otherwise.
 */
import { COCO_80_NAMES } from '../coco-names.js';
import { parseClassNames } from '../ultralytics-metadata.js';

/** Names from Ultralytics `names` metadata, or null when the model has none. */
export function metadataClassNames(metadata: Readonly<Record<string, string>>): string[] | null {
  const names = metadata.names;
  return names === undefined ? null : parseClassNames(names);
}

export function fallbackClassNames(classCount: number): readonly string[] {
  if (classCount === COCO_80_NAMES.length) return COCO_80_NAMES;
  return Array.from({ length: classCount }, (_, i) => `class${i}`);
}
