/**
 * Test models and images live beside the checkout in ../shared (never copied into the repo).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repo root, from control-plane/dist/test/<file>.js. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const SHARED_DIR = resolve(REPO_ROOT, '..', 'shared');

/** Absolute path of a file under ../shared; throws a clear error when it is missing. */
export function sharedPath(...parts: string[]): string {
  const path = join(SHARED_DIR, ...parts);
  if (!existsSync(path)) throw new Error(`shared test data missing at ${path}`);
  return path;
}
