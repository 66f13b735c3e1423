import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { isSha256Hex } from '@edgefleet/proto';
import { CpError } from '../errors.js';
import type { ArtifactStore, ByteSource, OpenOptions, PutOptions, StoredArtifact } from './artifact-store.js';
import { writeHashed } from './hashed-write.js';

/**
 * Content-addressed files: `<root>/sha256/<first 2 hex>/<sha256>`. A put writes to `<root>/tmp`,
 * fsyncs the file, renames it to its digest (atomic on one file system) and fsyncs the directory, so
 * after a crash an artifact is either complete under its name or not there at all; `start` sweeps
 * temp files a crash left behind.
 */

const DEFAULT_CHUNK_BYTES = 256 * 1024;

function ioError(what: string, err: unknown): CpError {
  if (err instanceof CpError) return err;
  return new CpError('CP_ERR_ARTIFACT_STORE', `${what}: ${(err as Error).message}`, { cause: err });
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class FileArtifactStore implements ArtifactStore {
  private readonly tmpDir: string;

  constructor(private readonly root: string) {
    this.tmpDir = join(root, 'tmp');
  }

  /** Creates the directories and removes temp files of interrupted puts. */
  async start(): Promise<void> {
    try {
      await mkdir(join(this.root, 'sha256'), { recursive: true });
      await mkdir(this.tmpDir, { recursive: true });
      for (const name of await readdir(this.tmpDir)) await rm(join(this.tmpDir, name), { force: true });
    } catch (err) {
      throw ioError(`cannot prepare ${this.root}`, err);
    }
  }

  private pathOf(sha256: string): string {
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  async put(source: ByteSource, options: PutOptions = {}): Promise<StoredArtifact> {
    const tmp = join(this.tmpDir, `${randomBytes(8).toString('hex')}.part`);
    let stored: StoredArtifact;
    try {
      stored = await writeHashed(source, tmp, options.maxBytes);
    } catch (err) {
      throw ioError('cannot write artifact', err);
    }
    try {
      if (options.expectedSha256 !== undefined && stored.sha256 !== options.expectedSha256) {
        throw new CpError('CP_ERR_ARTIFACT_DIGEST', `expected ${options.expectedSha256}, got ${stored.sha256}`);
      }
      const final = this.pathOf(stored.sha256);
      const dir = join(this.root, 'sha256', stored.sha256.slice(0, 2));
      await mkdir(dir, { recursive: true });
      // Same digest, same bytes: replacing an existing copy is harmless and keeps this atomic.
      await rename(tmp, final);
      await fsyncDir(dir);
      return stored;
    } catch (err) {
      await unlink(tmp).catch((unlinkErr: NodeJS.ErrnoException) => {
        if (unlinkErr.code !== 'ENOENT') throw ioError(`cannot remove ${tmp}`, unlinkErr);
      });
      throw ioError('cannot store artifact', err);
    }
  }

  async open(sha256: string, offset = 0, options: OpenOptions = {}): Promise<{ stream: Readable; sizeBytes: number }> {
    if (!isSha256Hex(sha256)) throw new CpError('CP_ERR_ARTIFACT_NOT_FOUND', `not a sha256: ${JSON.stringify(sha256)}`);
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(sha256), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CpError('CP_ERR_ARTIFACT_NOT_FOUND', sha256);
      throw ioError(`cannot open ${sha256}`, err);
    }
    try {
      // Size from the open descriptor: the file read is the file measured.
      const { size } = await handle.stat();
      if (!Number.isSafeInteger(offset) || offset < 0 || offset > size) {
        throw new CpError('CP_ERR_ARTIFACT_RANGE', `offset ${offset}, size ${size}`);
      }
      const stream = handle.createReadStream({
        start: offset,
        highWaterMark: options.chunkBytes ?? DEFAULT_CHUNK_BYTES,
        autoClose: true,
      });
      return { stream, sizeBytes: size };
    } catch (err) {
      await handle.close();
      throw ioError(`cannot read ${sha256}`, err);
    }
  }

  async size(sha256: string): Promise<number | null> {
    if (!isSha256Hex(sha256)) return null;
    try {
      return (await stat(this.pathOf(sha256))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw ioError(`cannot stat ${sha256}`, err);
    }
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.size(sha256)) !== null;
  }

  async delete(sha256: string): Promise<boolean> {
    if (!isSha256Hex(sha256)) return false;
    try {
      await unlink(this.pathOf(sha256));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw ioError(`cannot delete ${sha256}`, err);
    }
  }
}
