/**
 * Writes a YOLO dataset of procedural scenes in the Ultralytics layout:
 * `images/{train,val,test}/*.png`, `labels/{train,val,test}/*.txt`, `data.yaml`, plus
 * `manifest.json` (how it was made). Byte-for-byte deterministic for the same arguments.
 */

import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatDomain, parseDomain, resolveDomain, type DomainSpec } from '../domain/domain-spec.js';
import { ScenesError } from '../errors.js';
import { CLASS_NAMES } from '../objects/object-spec.js';
import { encodePng } from '../png/png-encode.js';
import { hashSeed } from '../prng.js';
import { DEFAULT_LABEL_RULE } from '../render/label-rule.js';
import { renderScene } from '../render/render-scene.js';
import { sampleScene, type SceneSamplerOptions } from '../sampling/sample-scene.js';
import { formatDataYaml, yoloLine } from './yolo-format.js';

export const SPLITS = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

export interface GenerateOptions {
  readonly domain: DomainSpec | string;
  readonly count: number;
  readonly seed: number;
  readonly outDir: string;
  readonly width?: number;
  readonly height?: number;
  /** Fractions for train, val, test; default [0.8, 0.1, 0.1]. */
  readonly split?: readonly [number, number, number];
  /** Replace an existing dataset in `outDir` (only the files this generator writes are removed). */
  readonly overwrite?: boolean;
  readonly sampler?: SceneSamplerOptions;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface DatasetSummary {
  readonly outDir: string;
  readonly domain: string;
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly images: Readonly<Record<SplitName, number>>;
  readonly instances: Readonly<Record<string, number>>;
}

/** Image counts per split: rounded fractions, the remainder goes to test. */
export function splitCounts(count: number, split: readonly [number, number, number]): Record<SplitName, number> {
  const train = Math.round(count * split[0]);
  const val = Math.min(count - train, Math.round(count * split[1]));
  return { train, val, test: count - train - val };
}

function validate(o: GenerateOptions): void {
  if (!Number.isInteger(o.count) || o.count < 1 || o.count > 10_000_000)
    throw new ScenesError('SCENES_ERR_ARGS', `count must be a positive integer, got ${o.count}`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff)
    throw new ScenesError('SCENES_ERR_ARGS', `seed must be an integer within 0..4294967295, got ${o.seed}`);
  const split = o.split ?? [0.8, 0.1, 0.1];
  if (
    split.length !== 3 ||
    split.some((v) => !Number.isFinite(v) || v < 0) ||
    Math.abs(split[0] + split[1] + split[2] - 1) > 1e-6
  ) {
    throw new ScenesError(
      'SCENES_ERR_ARGS',
      `split must be three non-negative fractions summing to 1, got ${split.join(',')}`,
    );
  }
  for (const [name, v] of [
    ['width', o.width ?? 320],
    ['height', o.height ?? 320],
  ] as const) {
    if (!Number.isInteger(v) || v < 32 || v > 8192)
      throw new ScenesError('SCENES_ERR_ARGS', `${name} must be an integer within 32..8192, got ${v}`);
  }
}

function prepareOutDir(outDir: string, overwrite: boolean): void {
  if (existsSync(outDir)) {
    let entries: string[];
    try {
      entries = readdirSync(outDir);
    } catch (err) {
      throw new ScenesError('SCENES_ERR_OUTPUT', `${outDir} is not a readable directory`, { cause: err });
    }
    if (entries.length > 0) {
      if (!overwrite)
        throw new ScenesError(
          'SCENES_ERR_OUTPUT',
          `${outDir} is not empty (pass --overwrite to replace a dataset there)`,
        );
      for (const name of ['images', 'labels', 'data.yaml', 'manifest.json'])
        rmSync(join(outDir, name), { recursive: true, force: true });
    }
  }
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (err) {
    throw new ScenesError('SCENES_ERR_OUTPUT', `cannot create ${outDir}`, { cause: err });
  }
}

export function generateDataset(options: GenerateOptions): DatasetSummary {
  validate(options);
  const domainMix = typeof options.domain === 'string' ? parseDomain(options.domain) : options.domain;
  const params = resolveDomain(domainMix);
  const domain = formatDomain(domainMix);
  const width = options.width ?? 320;
  const height = options.height ?? 320;
  const split = options.split ?? [0.8, 0.1, 0.1];
  const outDir = resolve(options.outDir);
  prepareOutDir(outDir, options.overwrite ?? false);
  const counts = splitCounts(options.count, split);
  const instances: Record<string, number> = Object.fromEntries(CLASS_NAMES.map((n) => [n, 0]));
  const digits = Math.max(6, String(options.count - 1).length);
  let index = 0;
  try {
    for (const splitName of SPLITS) {
      if (counts[splitName] === 0) continue;
      const imgDir = join(outDir, 'images', splitName);
      const lblDir = join(outDir, 'labels', splitName);
      mkdirSync(imgDir, { recursive: true });
      mkdirSync(lblDir, { recursive: true });
      for (let k = 0; k < counts[splitName]; k++, index++) {
        const sceneSeed = hashSeed(options.seed, index);
        const scene = sampleScene(sceneSeed, width, height, options.sampler);
        const r = renderScene(scene, params, { seed: sceneSeed });
        const name = `scene_${String(index).padStart(digits, '0')}`;
        writeFileSync(join(imgDir, `${name}.png`), encodePng(r.data, width, height));
        const lines = r.labels.map((l) => yoloLine(l.classId, l.box, width, height));
        for (const l of r.labels) instances[l.className] = (instances[l.className] ?? 0) + 1;
        writeFileSync(join(lblDir, `${name}.txt`), lines.length ? `${lines.join('\n')}\n` : '');
        options.onProgress?.(index + 1, options.count);
      }
    }
    const splits: Partial<Record<SplitName, string>> = {};
    for (const s of SPLITS) if (counts[s] > 0) splits[s] = `images/${s}`;
    writeFileSync(
      join(outDir, 'data.yaml'),
      formatDataYaml({
        comment: `procedural scenes by @edgefleet/scenes: domain ${domain}, seed ${options.seed}, ${options.count} images of ${width}x${height}`,
        path: outDir,
        splits,
        names: CLASS_NAMES,
      }),
    );
    const manifest = {
      generator: '@edgefleet/scenes',
      domain,
      params,
      seed: options.seed,
      count: options.count,
      width,
      height,
      split,
      images: counts,
      instances,
      labelRule: DEFAULT_LABEL_RULE,
      names: CLASS_NAMES,
    };
    writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  } catch (err) {
    if (err instanceof ScenesError) throw err;
    throw new ScenesError('SCENES_ERR_OUTPUT', `writing the dataset to ${outDir} failed`, { cause: err });
  }
  return { outDir, domain, seed: options.seed, width, height, images: counts, instances };
}
