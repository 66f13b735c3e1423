/**
 * Maps a model's class ids onto a dataset's class ids: by name when any names are shared (so a
 * COCO-80 model is evaluated on a 3-class person/bicycle/car dataset), by index when no name is
 * shared but the class counts are equal (a model trained on the dataset with other labels).
 * Model classes without a dataset class are dropped; dataset classes the model lacks are reported.
 */

import { CpError } from '../errors.js';

export interface ClassMapping {
  readonly by: 'name' | 'index';
  /** Model class id → dataset class id. */
  readonly modelToDataset: ReadonlyMap<number, number>;
  /** Dataset classes no model class maps to (their AP can only be 0). */
  readonly unmatchedDatasetClasses: readonly string[];
}

const norm = (s: string): string => s.trim().toLowerCase();

export function mapClasses(modelNames: readonly string[], datasetNames: readonly string[]): ClassMapping {
  const datasetIndex = new Map(datasetNames.map((n, i) => [norm(n), i]));
  const byName = new Map<number, number>();
  modelNames.forEach((n, i) => {
    const d = datasetIndex.get(norm(n));
    if (d !== undefined && ![...byName.values()].includes(d)) byName.set(i, d);
  });
  if (byName.size > 0) {
    const mapped = new Set(byName.values());
    return {
      by: 'name',
      modelToDataset: byName,
      unmatchedDatasetClasses: datasetNames.filter((_, i) => !mapped.has(i)),
    };
  }
  if (modelNames.length === datasetNames.length) {
    return { by: 'index', modelToDataset: new Map(modelNames.map((_, i) => [i, i])), unmatchedDatasetClasses: [] };
  }
  throw new CpError(
    'CP_ERR_CLASS_MISMATCH',
    `no class name is shared and the counts differ (model ${modelNames.length}: ${modelNames.slice(0, 5).join(', ')}…; dataset ${datasetNames.length}: ${datasetNames.slice(0, 5).join(', ')})`,
  );
}
