/**
 * Reads a YOLO-format dataset in the Ultralytics layout: `data.yaml` (nc, names, path,
 * train/val/test), images under `images/<split>/`, one `labels/<split>/<name>.txt` per image with
 * `class cx cy w h` lines (normalised; polygon lines `class x1 y1 x2 y2 ...` are reduced to their
 * bounds, as Ultralytics does).
 *
 * Path rules: `path` relative to the YAML's folder (Ultralytics resolves it against its own
 * datasets folder; a dataset's own folder is the useful meaning here); no `path` = the YAML's
 * folder; an absolute `path` that no longer exists (dataset moved) falls back to the YAML's folder.
 * A split is a folder (searched recursively for images), a .txt file listing images, or a list of
 * those. An image's label file is found by replacing the last `/images/` with `/labels/` and the
 * extension with `.txt`. An image without a label file is a background image (no objects), as in
 * Ultralytics; such images are counted and reported. A split whose labels folder is missing
 * altogether is an error, not a set of background images.
 */

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve, sep } from 'node:path';
import { CpError } from '../errors.js';
import { parseDataYaml, type YamlValue } from './data-yaml.js';

/** Ultralytics' IMG_FORMATS. */
export const IMAGE_EXTENSIONS: readonly string[] = [
  'bmp',
  'dng',
  'jpeg',
  'jpg',
  'mpo',
  'png',
  'tif',
  'tiff',
  'webp',
  'pfm',
  'heic',
];

export interface YoloLabel {
  readonly classId: number;
  /** Normalised centre and size, 0..1. */
  readonly cx: number;
  readonly cy: number;
  readonly w: number;
  readonly h: number;
}

export interface LabelledImage {
  readonly imagePath: string;
  readonly labelPath: string;
  /** False when the label file does not exist (a background image). */
  readonly hasLabelFile: boolean;
  readonly labels: readonly YoloLabel[];
}

export interface YoloDataset {
  readonly yamlPath: string;
  readonly root: string;
  readonly names: readonly string[];
  /** Raw split entries from data.yaml (paths as written). */
  readonly splits: Readonly<Record<string, readonly string[]>>;
}

export interface DatasetSplit {
  readonly dataset: YoloDataset;
  readonly split: string;
  readonly images: readonly LabelledImage[];
  readonly instances: number;
  readonly backgroundImages: number;
}

function fail(
  code: 'CP_ERR_DATASET_NOT_FOUND' | 'CP_ERR_DATASET_YAML' | 'CP_ERR_DATASET_SPLIT' | 'CP_ERR_DATASET_LABELS',
  detail: string,
): never {
  throw new CpError(code, detail);
}

function findYaml(dataPath: string): string {
  const p = resolve(dataPath);
  if (!existsSync(p)) fail('CP_ERR_DATASET_NOT_FOUND', `${p} does not exist`);
  if (statSync(p).isFile()) return p;
  for (const name of ['data.yaml', 'data.yml', 'dataset.yaml']) {
    if (existsSync(join(p, name))) return join(p, name);
  }
  fail('CP_ERR_DATASET_NOT_FOUND', `${p} has no data.yaml`);
}

function parseNames(value: YamlValue | undefined, nc: number | undefined, file: string): string[] {
  let names: string[];
  if (value === undefined || value === '') {
    if (nc === undefined) fail('CP_ERR_DATASET_YAML', `${file}: neither names nor nc is given`);
    names = Array.from({ length: nc }, (_, i) => `class${i}`);
  } else if (typeof value === 'string') {
    fail('CP_ERR_DATASET_YAML', `${file}: names must be a list or an index → name map, got "${value}"`);
  } else if (Array.isArray(value)) {
    names = value;
  } else {
    const entries = Object.entries(value).map(([k, v]) => {
      if (!/^\d+$/.test(k)) fail('CP_ERR_DATASET_YAML', `${file}: names key "${k}" is not a class index`);
      return [Number(k), v] as const;
    });
    entries.sort((a, b) => a[0] - b[0]);
    entries.forEach(([k], i) => {
      if (k !== i)
        fail(
          'CP_ERR_DATASET_YAML',
          `${file}: names indices must be 0..${entries.length - 1} without gaps, found ${k} at position ${i}`,
        );
    });
    names = entries.map(([, v]) => v);
  }
  if (names.length === 0) fail('CP_ERR_DATASET_YAML', `${file}: names is empty`);
  names.forEach((n, i) => {
    if (n.trim() === '') fail('CP_ERR_DATASET_YAML', `${file}: class ${i} has an empty name`);
  });
  if (nc !== undefined && nc !== names.length)
    fail('CP_ERR_DATASET_YAML', `${file}: nc is ${nc} but names lists ${names.length} classes`);
  return names;
}

export function readYoloDataset(dataPath: string): YoloDataset {
  const yamlPath = findYaml(dataPath);
  let text: string;
  try {
    text = readFileSync(yamlPath, 'utf8');
  } catch (err) {
    throw new CpError('CP_ERR_DATASET_NOT_FOUND', `${yamlPath} cannot be read`, { cause: err });
  }
  const y = parseDataYaml(text, yamlPath);
  let nc: number | undefined;
  if (y.nc !== undefined && y.nc !== '') {
    if (typeof y.nc !== 'string' || !/^\d+$/.test(y.nc) || Number(y.nc) < 1)
      fail('CP_ERR_DATASET_YAML', `${yamlPath}: nc must be a positive integer, got ${JSON.stringify(y.nc)}`);
    nc = Number(y.nc);
  }
  const names = parseNames(y.names, nc, yamlPath);
  const yamlDir = dirname(yamlPath);
  let root = yamlDir;
  if (typeof y.path === 'string' && y.path !== '') {
    const p = isAbsolute(y.path) ? y.path : resolve(yamlDir, y.path);
    // A copied/moved dataset keeps its old absolute path; its own folder is the better guess.
    root = existsSync(p) ? p : yamlDir;
  }
  const splits: Record<string, string[]> = {};
  for (const split of ['train', 'val', 'test']) {
    const v = y[split];
    if (v === undefined || v === '') continue;
    if (typeof v === 'string') splits[split] = [v];
    else if (Array.isArray(v)) splits[split] = v;
    else fail('CP_ERR_DATASET_YAML', `${yamlPath}: ${split} must be a path or a list of paths`);
  }
  return { yamlPath, root, names, splits };
}

function isImage(path: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(path).slice(1).toLowerCase());
}

function listImages(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    )) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && isImage(p)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Ultralytics' img2label_paths: last `/images/` → `/labels/`, extension → `.txt`. */
export function labelPathFor(imagePath: string): string {
  const marker = `${sep}images${sep}`;
  const i = imagePath.lastIndexOf(marker);
  const swapped =
    i >= 0 ? `${imagePath.slice(0, i)}${sep}labels${sep}${imagePath.slice(i + marker.length)}` : imagePath;
  const ext = extname(swapped);
  return `${ext ? swapped.slice(0, -ext.length) : swapped}.txt`;
}

/** Parses one label file; `nc` bounds the class ids. */
export function parseLabelFile(text: string, nc: number, file: string): YoloLabel[] {
  const labels: YoloLabel[] = [];
  const eps = 1e-6;
  text.split(/\r?\n/).forEach((raw, idx) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `${file}:${idx + 1}`;
    const parts = line.split(/\s+/);
    if (parts.length < 5) fail('CP_ERR_DATASET_LABELS', `${where}: expected "class cx cy w h", got "${line}"`);
    const nums = parts.map(Number);
    if (nums.some((v) => !Number.isFinite(v)))
      fail('CP_ERR_DATASET_LABELS', `${where}: non-numeric value in "${line}"`);
    const classId = nums[0] as number;
    if (!Number.isInteger(classId) || classId < 0 || classId >= nc) {
      fail(
        'CP_ERR_DATASET_LABELS',
        `${where}: class id ${parts[0]} is not within 0..${nc - 1} (data.yaml has ${nc} classes)`,
      );
    }
    let cx: number;
    let cy: number;
    let w: number;
    let h: number;
    const coords = nums.slice(1);
    if (coords.some((v) => v < -eps || v > 1 + eps))
      fail('CP_ERR_DATASET_LABELS', `${where}: coordinates must be normalised to 0..1, got "${line}"`);
    if (coords.length === 4) {
      [cx, cy, w, h] = coords as [number, number, number, number];
    } else if (coords.length >= 6 && coords.length % 2 === 0) {
      // Segment polygon: its bounding box.
      const xs = coords.filter((_, i) => i % 2 === 0);
      const ys = coords.filter((_, i) => i % 2 === 1);
      const x1 = Math.min(...xs);
      const x2 = Math.max(...xs);
      const y1 = Math.min(...ys);
      const y2 = Math.max(...ys);
      [cx, cy, w, h] = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1];
    } else {
      fail(
        'CP_ERR_DATASET_LABELS',
        `${where}: expected 4 box values or a polygon of x y pairs, got ${coords.length} values`,
      );
    }
    if (w <= 0 || h <= 0) fail('CP_ERR_DATASET_LABELS', `${where}: box has zero or negative size`);
    labels.push({ classId, cx, cy, w, h });
  });
  return labels;
}

function resolveSplitImages(dataset: YoloDataset, split: string, entries: readonly string[]): string[] {
  const images: string[] = [];
  for (const entry of entries) {
    const p = isAbsolute(entry) ? entry : resolve(dataset.root, entry);
    if (!existsSync(p)) fail('CP_ERR_DATASET_SPLIT', `split ${split}: ${p} does not exist`);
    if (statSync(p).isDirectory()) {
      images.push(...listImages(p));
    } else if (extname(p).toLowerCase() === '.txt') {
      // A list of image paths, relative to the dataset root (Ultralytics: `./images/...`).
      for (const line of readFileSync(p, 'utf8').split(/\r?\n/)) {
        const item = line.trim();
        if (item === '') continue;
        images.push(isAbsolute(item) ? item : resolve(dataset.root, item));
      }
    } else if (isImage(p)) {
      images.push(p);
    } else {
      fail('CP_ERR_DATASET_SPLIT', `split ${split}: ${p} is neither a folder, an image list (.txt) nor an image`);
    }
  }
  return images;
}

/** Loads the images and labels of one split, validating every label line. */
export function loadSplit(dataset: YoloDataset, split: string): DatasetSplit {
  const entries = dataset.splits[split];
  if (!entries) {
    const defined = Object.keys(dataset.splits);
    fail(
      'CP_ERR_DATASET_SPLIT',
      `${dataset.yamlPath} defines no "${split}" split (defined: ${defined.length ? defined.join(', ') : 'none'})`,
    );
  }
  const imagePaths = resolveSplitImages(dataset, split, entries);
  if (imagePaths.length === 0)
    fail('CP_ERR_DATASET_SPLIT', `split ${split} (${entries.join(', ')}) contains no images`);
  const labelDirs = new Set(imagePaths.map((p) => dirname(labelPathFor(p))));
  for (const d of labelDirs) {
    if (!existsSync(d))
      fail(
        'CP_ERR_DATASET_LABELS',
        `split ${split}: labels folder ${d} is missing (expected beside the images folder)`,
      );
  }
  let instances = 0;
  let backgroundImages = 0;
  const images = imagePaths.map((imagePath) => {
    const labelPath = labelPathFor(imagePath);
    if (!existsSync(labelPath)) {
      backgroundImages++;
      return { imagePath, labelPath, hasLabelFile: false, labels: [] };
    }
    const labels = parseLabelFile(readFileSync(labelPath, 'utf8'), dataset.names.length, labelPath);
    instances += labels.length;
    return { imagePath, labelPath, hasLabelFile: true, labels };
  });
  return { dataset, split, images, instances, backgroundImages };
}
