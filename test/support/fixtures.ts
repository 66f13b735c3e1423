import { existsSync, mkdtempSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';

export const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
export const sharedDir = resolve(repoRoot, '..', 'shared');

/** Path of a file in ../shared; a clear failure when the folder is missing. */
export function shared(rel: string): string {
  const p = resolve(sharedDir, rel);
  if (!existsSync(p)) throw new Error(`shared test data missing at ${p} (tests read ../shared beside the checkout)`);
  return p;
}

/** A small fixture committed under test/fixtures. */
export function fixture(name: string): string {
  return resolve(repoRoot, 'test', 'fixtures', name);
}

export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** An image-sequence directory of `count` links to one image. */
export function imageSequence(dir: string, image: string, count: number): string {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) symlinkSync(image, join(dir, `frame-${String(i).padStart(4, '0')}.jpg`));
  return dir;
}

/** Encodes a still photo into a Motion-JPEG AVI of `frames` frames with a real GStreamer pipeline. */
export function encodeVideo(image: string, out: string, frames: number, fps = 10): string {
  execFileSync('gst-launch-1.0', [
    '-q',
    'filesrc',
    `location=${image}`,
    '!',
    'jpegdec',
    '!',
    'imagefreeze',
    `num-buffers=${frames}`,
    '!',
    'videoconvert',
    '!',
    `video/x-raw,framerate=${fps}/1`,
    '!',
    'jpegenc',
    '!',
    'avimux',
    '!',
    'filesink',
    `location=${out}`,
  ]);
  return out;
}
