/**
 * bench/results.md: the one place the benchmark figures live. Each benchmark prints, as its last stdout
 * line, one JSON object; this module turns that object into a Markdown section (date, machine, command
 * and a metric/value table) and merges the section into the file, replacing only that benchmark's
 * section so a single benchmark can be rerun on its own. Pure functions; record-results.ts does the I/O.
 */

export const RESULTS_FILE_HEADER = `# Benchmark results

Written by \`./dev bench\` (all benchmarks) or \`npm run bench:<name>\` (one benchmark, only its section
is replaced); do not edit by hand. Each table is the benchmark's last stdout line (one JSON object),
flattened: nested fields are joined with dots. The benchmarks themselves are described in bench/src/*.bench.ts.
`;

export interface BenchRun {
  /** Benchmark name, e.g. `sync`: the section key. */
  readonly name: string;
  readonly result: Readonly<Record<string, unknown>>;
  /** ISO-8601 time the run finished. */
  readonly date: string;
  /** Cores and CPU model, e.g. `16 cores, AMD EPYC 7R13`. */
  readonly machine: string;
  /** The command that ran it, e.g. `npm run bench:sync`. */
  readonly command: string;
}

/** The JSON object on the last non-empty line of a benchmark's stdout. */
export function parseResultLine(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const last = lines.at(-1);
  if (last === undefined) throw new Error('the benchmark printed nothing on stdout');
  let value: unknown;
  try {
    value = JSON.parse(last);
  } catch (err) {
    throw new Error(`the last stdout line is not JSON: ${last.slice(0, 200)}`, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`the last stdout line is not a JSON object: ${last.slice(0, 200)}`);
  }
  return value as Record<string, unknown>;
}

/** Nested objects become dotted keys; arrays and scalars are values. */
export function flattenResult(result: Readonly<Record<string, unknown>>, prefix = ''): [string, unknown][] {
  return Object.entries(result).flatMap(([key, value]): [string, unknown][] => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      return flattenResult(value as Record<string, unknown>, path);
    }
    return [[path, value]];
  });
}

function cell(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return (text ?? String(value)).replaceAll('|', '\\|').replaceAll('\n', ' ');
}

const startMarker = (name: string): string => `<!-- bench:${name}:start -->`;
const endMarker = (name: string): string => `<!-- bench:${name}:end -->`;

/** One benchmark's section, between markers that mergeSection finds again. */
export function renderSection(run: BenchRun): string {
  const rows = flattenResult(run.result).map(([key, value]) => `| ${cell(key)} | ${cell(value)} |`);
  return [
    startMarker(run.name),
    `## ${run.name}`,
    '',
    `- date: ${run.date}`,
    `- machine: ${run.machine}`,
    `- command: \`${run.command}\``,
    '',
    '| metric | value |',
    '| --- | --- |',
    ...rows,
    endMarker(run.name),
  ].join('\n');
}

/**
 * The results file with `section` (named `name`) in place of that benchmark's previous section, or
 * appended when it had none; other sections are kept as they are. An empty `existing` starts a new file.
 */
export function mergeSection(existing: string, name: string, section: string): string {
  const base = existing.trim() === '' ? RESULTS_FILE_HEADER : existing;
  const start = base.indexOf(startMarker(name));
  const end = base.indexOf(endMarker(name));
  if (start !== -1 && end > start) {
    return base.slice(0, start) + section + base.slice(end + endMarker(name).length);
  }
  return `${base.trimEnd()}\n\n${section}\n`;
}
