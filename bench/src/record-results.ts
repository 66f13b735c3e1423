/**
 * Runs one benchmark and records its figures in bench/results.md (results-file.ts):
 *
 *     node bench/dist/record-results.js <name> <command> [args...]
 *
 * The command's stdout is passed through; its last line (one JSON object) becomes the benchmark's section.
 * Exits with the command's status; a failed run leaves the file as it was.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './bench-util.js';
import { mergeSection, parseResultLine, renderSection } from './results-file.js';

export const RESULTS_PATH = join(repoRoot, 'bench', 'results.md');

export function describeMachine(): string {
  const cores = cpus();
  return `${cores.length} cores, ${cores[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`;
}

function runTeed(command: string, args: readonly string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['inherit', 'pipe', 'inherit'] });
    // Ctrl-C reaches the benchmark too: let it run its cleanup and exit, then report its status.
    const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
    process.on('SIGINT', () => {}).on('SIGTERM', forward);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      process.stdout.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal ? 1 : 0), stdout: Buffer.concat(chunks).toString() }),
    );
  });
}

async function main(): Promise<void> {
  const [name, command, ...args] = process.argv.slice(2);
  if (name === undefined || command === undefined) {
    throw new Error('usage: record-results <name> <command> [args...]');
  }
  const { code, stdout } = await runTeed(command, args);
  if (code !== 0) {
    process.exitCode = code;
    return;
  }
  const section = renderSection({
    name,
    result: parseResultLine(stdout),
    date: new Date().toISOString(),
    machine: describeMachine(),
    // npm sets npm_lifecycle_event to the script it runs (`bench:sync`): the command a reader reruns.
    command: process.env.npm_lifecycle_event?.startsWith('bench')
      ? `npm run ${process.env.npm_lifecycle_event}`
      : [command, ...args].join(' '),
  });
  const existing = existsSync(RESULTS_PATH) ? readFileSync(RESULTS_PATH, 'utf8') : '';
  writeFileSync(RESULTS_PATH, mergeSection(existing, name, section));
  process.stderr.write(`[bench] ${name}: figures written to bench/results.md\n`);
}

await main();
