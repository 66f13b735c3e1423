/** `control-plane audit [--limit N] [--target T] [--action A]`: the audit log, newest first. */

import { parseArgs } from 'node:util';
import { CpError } from '../errors.js';
import { API_OPTIONS, API_OPTIONS_USAGE, apiClientFrom } from './api-command-options.js';
import { auditLine, type AuditJson } from './api-format.js';
import type { CliIo } from './cli-io.js';

export const AUDIT_USAGE = `usage: control-plane audit [--limit N] [--target model:12|device:ID|camera:DEVICE/CAMERA] [--action ACTION]
${API_OPTIONS_USAGE}`;

export async function auditCommand(args: string[], io: CliIo, env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...API_OPTIONS, limit: { type: 'string' }, target: { type: 'string' }, action: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.limit !== undefined && !/^\d+$/.test(values.limit))
    throw new CpError('CP_ERR_ARGS', `--limit must be a number, got ${JSON.stringify(values.limit)}`);
  const api = await apiClientFrom(values, env);
  const query = new URLSearchParams({
    ...(values.limit ? { limit: values.limit } : {}),
    ...(values.target ? { target: values.target } : {}),
    ...(values.action ? { action: values.action } : {}),
  });
  const page = await api.json<{ entries: AuditJson[] }>('GET', `/api/v1/audit${query.size > 0 ? `?${query}` : ''}`);
  io.stdout(values.json ? `${JSON.stringify(page, null, 2)}\n` : page.entries.map((e) => `${auditLine(e)}\n`).join(''));
  return 0;
}
