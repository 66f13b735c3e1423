/**
 * Test models and images live beside the checkout in ../shared (never copied into the repo).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repo root, from vision/dist/test/<file>.js. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SHARED_DIR = resolve(repoRoot, '..', 'shared');

/** Absolute path of a file under ../shared; throws a clear error when the folder is missing. */
export function sharedPath(...parts: string[]): string {
  const path = join(SHARED_DIR, ...parts);
  if (!existsSync(path)) throw new Error(`shared test data missing at ${path}`);
  return path;
}

export const YOLOV8_MODEL = (): string => sharedPath('models', 'yolov8n_int8.onnx');
export const YOLOX_MODEL = (): string => sharedPath('models', 'yolox_nano.onnx');
