/**
 * Lays an image sequence (`dir://` or a `file://…/*.jpg` glob) out for multifilesrc.
 *
 * multifilesrc reads `printf(location, index)` for consecutive indexes, so arbitrary names
 * (`cam-2024-01-01T10:00.jpg`, gaps in numbering) do not fit it directly. We list the matching
 * files once, sort them in natural order, and create a private temp directory of symlinks
 * `frame-000000.jpg, frame-000001.jpg, …` pointing at them. GStreamer then reads and decodes in
 * its own streaming thread (no JS in the data path, unlike an appsrc fed from JS), looping and
 * pacing stay multifilesrc's job, and the originals are never copied. The symlink directory is
 * removed by `dispose()` (called on stop()); directories left behind by a process that died
 * (SIGKILL, power loss) carry its pid in their name and are swept by the next one. The file list
 * is a snapshot taken once per source start.
 *
 * One decoder serves the whole sequence, so all files must share one format (all JPEG or all PNG,
 * judged from their headers); a mix is rejected. When all images share one size (the usual dump of
 * one camera) it is known up front and GStreamer scales every frame to the fit size; when sizes
 * differ, frames keep their native size (see ResolvedImageSequence.size).
 */
import { mkdtemp, open, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { EdgeError } from '../errors.js';
import { parseImageHeader, readImageHeader, type ImageHeader } from './image-header.js';
import { escapePrintf, type ResolvedImageSequence, type Size } from './pipeline-description.js';
import type { ImageCodec, ImageSequenceSpec } from './source-spec.js';

export interface MaterializedSequence extends ResolvedImageSequence {
  /** The original files, in delivery order. */
  readonly files: readonly string[];
  /** Removes the symlink directory. Idempotent. */
  dispose(): Promise<void>;
}

const CODECS: Readonly<Record<string, ImageCodec>> = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.png': 'png' };
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });

/** Natural order: `img-2.jpg` before `img-10.jpg`; ties broken by code units so the order is total. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** `*` matches any run of characters within a file name; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/**
 * The sequence's image files, sorted, and their common codec.
 * @throws EdgeError EDGE_ERR_SOURCE_UNAVAILABLE when the directory is missing or has no images,
 *   EDGE_ERR_SOURCE_URI when it mixes JPEG and PNG.
 */
export async function listSequenceFiles(spec: ImageSequenceSpec): Promise<{ files: string[]; codec: ImageCodec }> {
  let names: string[];
  try {
    names = await readdir(spec.dir);
  } catch (err) {
    throw new EdgeError('EDGE_ERR_SOURCE_UNAVAILABLE', `image sequence directory ${spec.dir} cannot be read`, {
      cause: err,
    });
  }
  const pattern = spec.glob === null ? null : globToRegExp(spec.glob);
  const picked = names.filter(
    (n) => CODECS[extname(n).toLowerCase()] !== undefined && (pattern === null || pattern.test(n)),
  );
  picked.sort(naturalCompare);
  const files: string[] = [];
  for (const name of picked) {
    const path = join(spec.dir, name);
    // Skip subdirectories named like images; follow symlinks to regular files.
    if ((await stat(path).catch(() => null))?.isFile()) files.push(path);
  }
  const what = spec.glob === null ? `${spec.dir}` : join(spec.dir, spec.glob);
  if (files.length === 0) {
    throw new EdgeError('EDGE_ERR_SOURCE_UNAVAILABLE', `image sequence ${what} has no .jpg/.jpeg/.png files`);
  }
  const codecs = new Set(files.map((f) => CODECS[extname(f).toLowerCase()]));
  if (codecs.size > 1) {
    throw new EdgeError(
      'EDGE_ERR_SOURCE_URI',
      `image sequence ${what} mixes JPEG and PNG files; use one format per sequence`,
    );
  }
  return { files, codec: [...codecs][0] as ImageCodec };
}

/** Codec and size from the first 4 KiB (enough for nearly every file), else from the whole header. */
async function headerOf(path: string): Promise<ImageHeader> {
  const handle = await open(path, 'r').catch((err: unknown) => {
    throw new EdgeError('EDGE_ERR_SOURCE_UNAVAILABLE', `image ${path} cannot be opened`, { cause: err });
  });
  let prefix: Uint8Array;
  try {
    const buf = new Uint8Array(4096);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    prefix = buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const parsed = parseImageHeader(prefix);
  if (parsed === 'need-more') return readImageHeader(path);
  if ('error' in parsed) throw new EdgeError('EDGE_ERR_IMAGE_DECODE', `${path}: ${parsed.error}`);
  return parsed;
}

/** Headers of all files, a few at a time. */
async function headersOf(files: readonly string[]): Promise<ImageHeader[]> {
  const out: ImageHeader[] = new Array(files.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      out[i] = await headerOf(files[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, files.length) }, worker));
  return out;
}

const LINK_DIR_PREFIX = 'edgefleet-seq-';

/** Remove link directories of processes that no longer exist (`edgefleet-seq-<pid>-XXXXXX`). */
export async function sweepStaleLinkDirs(root = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const m = /^edgefleet-seq-(\d+)-/.exec(name);
    if (m === null || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
      continue; // that process is alive (or its pid was reused): leave it
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    await rm(join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** List the files, read their headers, and create the symlink directory multifilesrc reads. */
export async function materializeSequence(spec: ImageSequenceSpec): Promise<MaterializedSequence> {
  const { files } = await listSequenceFiles(spec);
  const headers = await headersOf(files);
  const codec = headers[0]!.codec;
  const other = headers.findIndex((h) => h.codec !== codec);
  if (other >= 0) {
    throw new EdgeError(
      'EDGE_ERR_SOURCE_URI',
      `image sequence mixes JPEG and PNG content (${files[0]} is ${codec}, ${files[other]} is ${headers[other]!.codec}); use one format per sequence`,
    );
  }
  const first = headers[0]!;
  const uniform = headers.every((h) => h.width === first.width && h.height === first.height);
  const size: Size | null = uniform ? { width: first.width, height: first.height } : null;
  const digits = Math.max(6, String(files.length - 1).length);
  const ext = codec === 'jpeg' ? '.jpg' : '.png';
  await sweepStaleLinkDirs();
  const dir = await mkdtemp(join(tmpdir(), `${LINK_DIR_PREFIX}${process.pid}-`));
  let disposed = false;
  const dispose = async (): Promise<void> => {
    if (disposed) return;
    disposed = true;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(
      files.map((file, i) => symlink(file, join(dir, `frame-${String(i).padStart(digits, '0')}${ext}`))),
    );
  } catch (err) {
    await dispose();
    throw new EdgeError('EDGE_ERR_SOURCE_URI', `cannot create the image sequence links in ${dir}`, { cause: err });
  }
  return {
    location: join(escapePrintf(dir), `frame-%0${digits}d${ext}`),
    codec,
    count: files.length,
    size,
    files,
    dispose,
  };
}
