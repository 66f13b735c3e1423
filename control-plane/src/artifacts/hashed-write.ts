import { createHash } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { CpError } from '../errors.js';
import type { ByteSource, StoredArtifact } from './artifact-store.js';

/**
 * Writes a byte stream to a new file while hashing it, then fsyncs it: the one place where uploads
 * (the spool) and the file artifact store turn a stream into durable bytes with a known digest. The
 * file is removed when anything fails, including a size past `maxBytes`.
 */
export async function writeHashed(
  source: ByteSource,
  path: string,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<StoredArtifact> {
  const hash = createHash('sha256');
  let size = 0;
  // 'wx': a fresh file, never an existing one (temp names are random).
  const file = await open(path, 'wx', 0o600);
  let ok = false;
  try {
    for await (const chunk of source) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new CpError('CP_ERR_MODEL_TOO_LARGE', `more than ${maxBytes} bytes`);
      hash.update(chunk);
      let written = 0;
      while (written < chunk.byteLength) {
        const { bytesWritten } = await file.write(chunk, written, chunk.byteLength - written);
        written += bytesWritten;
      }
    }
    await file.sync();
    ok = true;
  } finally {
    await file.close();
    // The failure that got us here is what the caller needs; a temp file that cannot be removed now is
    // swept at the next start (FileArtifactStore.start, UploadSpool.start).
    if (!ok) await unlink(path).catch(() => undefined);
  }
  return { sha256: hash.digest('hex'), sizeBytes: size };
}
