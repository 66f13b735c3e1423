/**
 * Test models and images live beside the checkout in ../shared (never copied into the repository).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Repository root, from service-kit/dist/src/testing/. */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..', '..');
/** The shared test data folder beside the checkout. */
export const SHARED_DIR = resolve(REPO_ROOT, '..', 'shared');

/** Absolute path of a file or folder under ../shared; throws naming the missing path when it is not there. */
export function sharedPath(...parts: string[]): string {
  const path = join(SHARED_DIR, ...parts);
  if (!existsSync(path))
    throw new Error(`shared test data missing at ${path} (tests read ../shared beside the checkout)`);
  return path;
}

/** `../shared/models/<name>`, checked. */
export function sharedModel(name: string): string {
  return sharedPath('models', name);
}

/** `../shared/images/<name>` (or the folder itself without a name), checked. */
export function sharedImage(name?: string): string {
  return name === undefined ? sharedPath('images') : sharedPath('images', name);
}
