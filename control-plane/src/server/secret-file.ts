import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A secret kept in a file of its own (the model signing key, the bootstrap admin token): created once
 * with mode 0600 in a 0700 directory, read on every later start. Creation is exclusive ('wx'), so two
 * processes starting on one data directory end up with the same secret: the loser reads the winner's.
 */
export interface SecretFile {
  readonly text: string;
  /** True when this call wrote the file. */
  readonly created: boolean;
  /** True when group or others may read it (worth a warning). */
  readonly exposed: boolean;
}

export async function loadOrCreateSecretFile(path: string, make: () => string): Promise<SecretFile> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let created = false;
  try {
    await writeFile(path, make(), { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
  return { text, created, exposed: (info.mode & 0o077) !== 0 };
}
