import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ByteSource, StoredArtifact } from '../artifacts/artifact-store.js';
import { writeHashed } from '../artifacts/hashed-write.js';
import { CpError } from '../errors.js';

/**
 * Uploads land here first (`<dataDir>/uploads`), streamed to disk and hashed, so that ONNX Runtime can
 * validate them from a file and only valid models reach the artifact store. `start` sweeps files an
 * interrupted upload left behind.
 */
export interface SpooledUpload extends StoredArtifact {
  readonly path: string;
  /** Removes the file (idempotent). */
  discard(): Promise<void>;
}

export class UploadSpool {
  constructor(private readonly dir: string) {}

  async start(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      for (const name of await readdir(this.dir)) await rm(join(this.dir, name), { force: true });
    } catch (err) {
      throw new CpError('CP_ERR_ARTIFACT_STORE', `cannot prepare ${this.dir}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** CP_ERR_MODEL_TOO_LARGE past `maxBytes` (nothing kept). */
  async receive(source: ByteSource, maxBytes: number): Promise<SpooledUpload> {
    const path = join(this.dir, `${randomBytes(8).toString('hex')}.onnx`);
    let stored: StoredArtifact;
    try {
      stored = await writeHashed(source, path, maxBytes);
    } catch (err) {
      if (err instanceof CpError) throw err;
      throw new CpError('CP_ERR_ARTIFACT_STORE', `upload interrupted: ${(err as Error).message}`, { cause: err });
    }
    return {
      ...stored,
      path,
      discard: async () => {
        await unlink(path).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
      },
    };
  }
}
