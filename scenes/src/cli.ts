/**
 * `scenes` command line.
 *
 *   scenes generate --domain DOMAIN --count N --seed S --out DIR [--imgsz 320|WxH] [--split 0.8,0.1,0.1] [--overwrite]
 *   scenes render   --domain DOMAIN --seed S --out FILE.png [--imgsz 640x480]
 *
 * Results go to stdout as JSON, progress and errors to stderr. Exit codes: 0 ok, 2 bad arguments,
 * 1 any other failure.
 */

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generateDataset } from './dataset/generate-dataset.js';
import { DOMAIN_NAMES, resolveDomain } from './domain/domain-spec.js';
import { ScenesError } from './errors.js';
import { encodePng } from './png/png-encode.js';
import { renderScene } from './render/render-scene.js';
import { sampleScene } from './sampling/sample-scene.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

export const USAGE = `usage:
  scenes generate --domain DOMAIN --count N --seed S --out DIR [--imgsz 320|WxH] [--split 0.8,0.1,0.1] [--overwrite] [--quiet]
  scenes render   --domain DOMAIN --seed S --out FILE.png [--imgsz 640x480]

DOMAIN: one of ${DOMAIN_NAMES.join(', ')}, or a mix such as night@0.5+fog@0.5 (intensities 0..1).
generate writes a YOLO dataset (images/, labels/, data.yaml, manifest.json) with classes person, bicycle, car.
`;

function argError(detail: string): ScenesError {
  return new ScenesError('SCENES_ERR_ARGS', detail);
}

function parseIntArg(name: string, text: string | undefined, min: number, max: number): number {
  if (text === undefined) throw argError(`--${name} is required`);
  if (!/^\d+$/.test(text.trim())) throw argError(`--${name} must be an integer, got "${text}"`);
  const v = Number(text);
  if (v < min || v > max) throw argError(`--${name} must be within ${min}..${max}, got ${v}`);
  return v;
}

export function parseImgsz(text: string): { width: number; height: number } {
  const m = /^(\d+)(?:x(\d+))?$/.exec(text.trim());
  if (!m) throw argError(`--imgsz must be N or WxH, got "${text}"`);
  const width = Number(m[1]);
  const height = m[2] === undefined ? width : Number(m[2]);
  if (width < 32 || height < 32 || width > 8192 || height > 8192)
    throw argError(`--imgsz sides must be within 32..8192, got ${width}x${height}`);
  return { width, height };
}

export function parseSplit(text: string): [number, number, number] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length !== 3 || parts.some((p) => p === '' || !Number.isFinite(Number(p)))) {
    throw argError(`--split must be three comma-separated fractions like 0.8,0.1,0.1, got "${text}"`);
  }
  const v = parts.map(Number) as [number, number, number];
  if (v.some((x) => x < 0) || Math.abs(v[0] + v[1] + v[2] - 1) > 1e-6)
    throw argError(`--split fractions must be non-negative and sum to 1, got "${text}"`);
  return v;
}

function requireString(name: string, v: string | undefined): string {
  if (v === undefined || v.trim() === '') throw argError(`--${name} is required`);
  return v;
}

function generate(args: string[], io: CliIo): number {
  const { values } = parseArgs({
    args,
    options: {
      domain: { type: 'string' },
      count: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      imgsz: { type: 'string', default: '320' },
      split: { type: 'string', default: '0.8,0.1,0.1' },
      overwrite: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const domain = requireString('domain', values.domain);
  resolveDomain(domain);
  const count = parseIntArg('count', values.count, 1, 10_000_000);
  const seed = parseIntArg('seed', values.seed, 0, 0xffffffff);
  const outDir = requireString('out', values.out);
  const { width, height } = parseImgsz(values.imgsz);
  const split = parseSplit(values.split);
  const started = Date.now();
  const every = Math.max(1, Math.floor(count / 20));
  const summary = generateDataset({
    domain,
    count,
    seed,
    outDir,
    width,
    height,
    split,
    overwrite: values.overwrite,
    onProgress: (done, total) => {
      if (values.quiet || (done % every !== 0 && done !== total)) return;
      const rate = done / Math.max(1e-3, (Date.now() - started) / 1000);
      io.stderr(`scenes: ${done}/${total} images (${rate.toFixed(1)} img/s)\n`);
    },
  });
  for (const s of ['train', 'val', 'test'] as const) {
    if (summary.images[s] === 0 && !values.quiet)
      io.stderr(`scenes: warning: split ${s} is empty (count ${count}, split ${values.split})\n`);
  }
  io.stdout(`${JSON.stringify(summary)}\n`);
  return 0;
}

function render(args: string[], io: CliIo): number {
  const { values } = parseArgs({
    args,
    options: {
      domain: { type: 'string', default: 'day' },
      seed: { type: 'string' },
      out: { type: 'string' },
      imgsz: { type: 'string', default: '640x480' },
    },
    strict: true,
    allowPositionals: false,
  });
  const params = resolveDomain(values.domain);
  const seed = parseIntArg('seed', values.seed, 0, 0xffffffff);
  const out = requireString('out', values.out);
  const { width, height } = parseImgsz(values.imgsz);
  const r = renderScene(sampleScene(seed, width, height), params, { seed });
  try {
    writeFileSync(out, encodePng(r.data, width, height));
  } catch (err) {
    throw new ScenesError('SCENES_ERR_OUTPUT', `cannot write ${out}`, { cause: err });
  }
  io.stdout(`${JSON.stringify({ out, width, height, labels: r.labels })}\n`);
  return 0;
}

/** Runs the CLI; returns the process exit code. */
export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'generate':
        return generate(rest, io);
      case 'render':
        return render(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw argError(`unknown command "${command}"`);
    }
  } catch (err) {
    // node:util parseArgs reports unknown/malformed options with ERR_PARSE_ARGS_* codes.
    const errCode = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
    const parseArgsError = typeof errCode === 'string' && errCode.startsWith('ERR_PARSE_ARGS');
    if (err instanceof ScenesError || parseArgsError) {
      const code = err instanceof ScenesError ? err.code : 'SCENES_ERR_ARGS';
      io.stderr(`scenes: ${code}: ${(err as Error).message}\n`);
      const usage = code === 'SCENES_ERR_ARGS' || code === 'SCENES_ERR_DOMAIN';
      if (usage) io.stderr(USAGE);
      return usage ? 2 : 1;
    }
    io.stderr(`scenes: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
