import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** Repository root (bench/dist/*.js lives two levels down). */
export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const sharedDir = resolve(repoRoot, '..', 'shared');

export function requireShared(rel: string): string {
  const p = resolve(sharedDir, rel);
  if (!existsSync(p)) {
    throw new Error(`shared test data missing at ${p} (the benchmarks read ../shared beside the checkout)`);
  }
  return p;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

export function progress(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}
