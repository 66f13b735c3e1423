import { mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Cleanups, REPO_ROOT, tempDir as kitTempDir } from '@edgefleet/service-kit/testing';

/** Repository root, ../shared, and a checked path under it (a clear failure naming the missing path). */
export { REPO_ROOT as repoRoot, SHARED_DIR as sharedDir, sharedPath as shared } from '@edgefleet/service-kit/testing';

/** A small fixture committed under test/fixtures. */
export function fixture(name: string): string {
  return resolve(REPO_ROOT, 'test', 'fixtures', name);
}

/** A temp dir for a test that removes it itself (in a `finally`, or `t.after`). */
export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const cleanups = new Cleanups();
  return { path: kitTempDir(cleanups, `${prefix}-`), cleanup: () => cleanups.run() };
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
