/**
 * Temporary directories for tests. One call, `tempDir(owner, prefix)`, for both cleanup styles in use:
 * the owner is a node:test context (`t.after`) or a `Cleanups` list that a suite-level hook or a
 * `finally` runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Anything that runs registered functions later: a node:test `TestContext`, or `Cleanups`. */
export interface CleanupOwner {
  after(fn: () => void): unknown;
}

/** A fresh directory under the OS temp dir, removed (recursively) when `owner` runs its cleanups. */
export function tempDir(owner: CleanupOwner, prefix = 'edgefleet-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  owner.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Cleanups collected outside a test context and run together, last registered first. */
export class Cleanups implements CleanupOwner {
  private readonly pending: (() => void)[] = [];

  after(fn: () => void): void {
    this.pending.push(fn);
  }

  /** Runs and forgets every registered cleanup; a second call does nothing. */
  run(): void {
    while (this.pending.length > 0) (this.pending.pop() as () => void)();
  }
}
