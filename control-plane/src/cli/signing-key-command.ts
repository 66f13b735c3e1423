/** `control-plane signing-key`: the public key agents pin (`--json` for the API's answer). */

import { parseArgs } from 'node:util';
import { API_OPTIONS, API_OPTIONS_USAGE, apiClientFrom } from './api-command-options.js';
import type { CliIo } from './cli-io.js';

export const SIGNING_KEY_USAGE = `usage: control-plane signing-key
${API_OPTIONS_USAGE}`;

export async function signingKeyCommand(args: string[], io: CliIo, env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({ args, options: API_OPTIONS, strict: true, allowPositionals: false });
  const api = await apiClientFrom(values, env);
  const key = await api.json<{ algorithm: string; keyId: string; publicKey: string; publicKeyPem: string }>(
    'GET',
    '/api/v1/signing-key',
  );
  io.stdout(
    values.json
      ? `${JSON.stringify(key, null, 2)}\n`
      : `algorithm: ${key.algorithm}\nkey id: ${key.keyId}\npublic key: ${key.publicKey}\n${key.publicKeyPem.trimEnd()}\n`,
  );
  return 0;
}
