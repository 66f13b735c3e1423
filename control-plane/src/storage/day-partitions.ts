/**
 * Day partitions of `frames` and `detections`: names and bounds, all in UTC. A partition holds
 * [day 00:00Z, next day 00:00Z); its name is `<table>_pYYYYMMDD`.
 */

export const PARTITIONED_TABLES = ['frames', 'detections'] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const NAME = /^(frames|detections)_p(\d{4})(\d{2})(\d{2})$/;
export const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` (UTC) of an epoch-ms time. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Validates a `YYYY-MM-DD` day and returns its midnight (UTC) in ms; throws RangeError otherwise. */
export function dayStart(day: string): number {
  const m = DAY.exec(day);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  // Round-tripping rejects impossible dates such as 2025-02-30.
  if (!m || Number.isNaN(ms) || dayOf(ms) !== day) throw new RangeError(`not a YYYY-MM-DD day: ${JSON.stringify(day)}`);
  return ms;
}

export function addDays(day: string, n: number): string {
  return dayOf(dayStart(day) + n * DAY_MS);
}

export function partitionName(table: PartitionedTable, day: string): string {
  dayStart(day);
  return `${table}_p${day.replaceAll('-', '')}`;
}

export function defaultPartitionName(table: PartitionedTable): string {
  return `${table}_default`;
}

/** The day of a partition name, or null for any other name. */
export function partitionDay(name: string): { table: PartitionedTable; day: string } | null {
  const m = NAME.exec(name);
  if (!m) return null;
  const day = `${m[2]}-${m[3]}-${m[4]}`;
  try {
    dayStart(day);
  } catch (err) {
    if (err instanceof RangeError) return null;
    throw err;
  }
  return { table: m[1] as PartitionedTable, day };
}

/** SQL literal bounds of a day partition (the day string is validated, so inlining it is safe). */
export function partitionBounds(day: string): { from: string; to: string } {
  dayStart(day);
  return { from: `'${day} 00:00:00+00'`, to: `'${addDays(day, 1)} 00:00:00+00'` };
}
