import { CpError } from '../errors.js';
import { loadOrCreateSecretFile } from '@edgefleet/service-kit/config';
import { generateApiToken } from './api-token.js';

/**
 * With no `auth.tokens` configured, the control plane makes one admin token at its first start and
 * keeps it in `<dataDir>/admin.token` (mode 0600); later starts read it back. Only the file's path is
 * ever printed or logged, never the token.
 */
export async function loadOrCreateBootstrapToken(
  path: string,
): Promise<{ token: string; created: boolean; exposed: boolean }> {
  try {
    const file = await loadOrCreateSecretFile({ path, make: () => `${generateApiToken()}\n` });
    const token = file.text.trim();
    if (token.length < 16)
      throw new CpError('CP_ERR_ADMIN_TOKEN', `${path} holds no token (delete it to generate a new one)`);
    return { token, created: file.created, exposed: file.exposed };
  } catch (err) {
    if (err instanceof CpError) throw err;
    throw new CpError('CP_ERR_ADMIN_TOKEN', `${path}: ${(err as Error).message}`, { cause: err });
  }
}
