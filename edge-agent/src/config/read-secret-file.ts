import { readFileSync } from 'node:fs';
import { EdgeError } from '../errors.js';

/**
 * A credential or TLS file named in the config, read once at start-up. The path is safe to show in the
 * error; the content never is. Throws EDGE_ERR_CONFIG_READ.
 */
export function readSecretFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new EdgeError('EDGE_ERR_CONFIG_READ', `${what} ${path}: ${code}`, { cause: err, details: { path } });
  }
}

/** A password file: its text without one trailing newline. */
export function readPasswordFile(path: string, what: string): string {
  return readSecretFile(path, what)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
