import { readFileSync } from 'node:fs';

/** Repository root, ../shared, and a checked path under it (a clear failure naming the missing path). */
export {
  REPO_ROOT as repoRoot,
  SHARED_DIR as sharedDir,
  sharedPath as requireShared,
} from '@edgefleet/service-kit/testing';

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

/**
 * Wall-clock milliseconds with sub-millisecond resolution, comparable between processes on one machine
 * (performance.timeOrigin is the epoch time of this process's start).
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Runs `fn` over `items` with at most `limit` calls in flight; rejects with the first failure (after the rest settled). */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: unknown = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const i = next++;
      try {
        await fn(items[i]!, i);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== null) throw failure;
}

export function positiveIntEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * CPU time (user + system) a process has used so far, ms, from /proc/<pid>/stat (Linux; clock ticks of
 * 10 ms), or null where it cannot be read.
 */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of proc(5) (utime, stime); `fields` starts at field 3.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** CPU time (user + system) this process has used so far, ms. */
export function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Node flags for the benchmark's child processes: `--cpu-prof` into BENCH_CPU_PROF_DIR when it is set (a
 * profile per process, written when the process exits), nothing otherwise.
 */
export function childProfilingArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}
