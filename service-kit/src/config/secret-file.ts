import { readFileSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ConfigErrors } from './config-errors.js';

/**
 * Secrets kept in files of their own: credentials and TLS files named in a configuration (read once at
 * start-up), and secrets a program generates at its first start (the model signing key, the bootstrap
 * admin token). A path is safe to show in an error; the content never is.
 */

export interface ReadSecretFileOptions {
  readonly path: string;
  /** Names the setting in the error, e.g. `sync tlsCaFile`. */
  readonly what: string;
  readonly errors: ConfigErrors;
}

/** The file's bytes; the program's read error with the setting, the path and the errno code. */
export function readSecretFile({ path, what, errors }: ReadSecretFileOptions): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw errors.read(`${what} ${path}: ${code}`, { cause: err, details: { path } });
  }
}

/** A password file: its text without one trailing newline. */
export function readPasswordFile(options: ReadSecretFileOptions): string {
  return readSecretFile(options)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export interface SecretFile {
  readonly text: string;
  /** True when this call wrote the file. */
  readonly created: boolean;
  /** True when group or others may read it (worth a warning). */
  readonly exposed: boolean;
}

export interface LoadOrCreateSecretFileOptions {
  readonly path: string;
  /** The secret's text, called when the file does not exist yet. */
  readonly make: () => string;
}

/**
 * Created once with mode 0600 in a 0700 directory, read on every later start. Creation is exclusive
 * ('wx'), so two processes starting on one data directory end up with the same secret: the loser reads
 * the winner's.
 */
export async function loadOrCreateSecretFile({ path, make }: LoadOrCreateSecretFileOptions): Promise<SecretFile> {
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
