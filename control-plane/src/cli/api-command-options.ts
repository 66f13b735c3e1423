import { readFile } from 'node:fs/promises';
import { CpError } from '../errors.js';
import { ApiClient } from './api-client.js';

/**
 * Options every admin command shares: `--url` (default http://127.0.0.1:8080), `--token` (or the
 * `CP_TOKEN` environment variable; a token on the command line shows up in `ps`, so prefer the variable
 * or `--token-file`) and `--json` (the API's answer as JSON instead of text).
 */

export const API_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export const API_OPTIONS_USAGE = `  --url URL          control plane REST API (default http://127.0.0.1:8080)
  --token TOKEN      bearer token (default: $CP_TOKEN); --token-file FILE reads it from a file
  --json             print the API's answer as JSON
`;

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

export interface ApiCommandValues {
  readonly url?: string | undefined;
  readonly token?: string | undefined;
  readonly 'token-file'?: string | undefined;
}

export async function apiClientFrom(values: ApiCommandValues, env: NodeJS.ProcessEnv): Promise<ApiClient> {
  let token = values.token ?? env.CP_TOKEN;
  if (values['token-file'] !== undefined) {
    try {
      token = (await readFile(values['token-file'], 'utf8')).trim();
    } catch (err) {
      throw new CpError(
        'CP_ERR_ARGS',
        `cannot read --token-file ${values['token-file']}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { cause: err },
      );
    }
  }
  if (!token)
    throw new CpError(
      'CP_ERR_ARGS',
      'no API token: pass --token or --token-file, or set CP_TOKEN (the generated admin token is in <dataDir>/admin.token)',
    );
  const url = values.url ?? DEFAULT_API_URL;
  if (!/^https?:\/\//.test(url))
    throw new CpError('CP_ERR_ARGS', `--url must be an http(s) URL, got ${JSON.stringify(url)}`);
  return new ApiClient({ url, token });
}
