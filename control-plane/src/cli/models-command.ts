/**
 * `control-plane models upload FILE --name N --version V [--parent SERIAL]` and `control-plane models list
 * [--name N] [--limit N]`, over the REST API.
 */

import { parseArgs } from 'node:util';
import { CpError } from '../errors.js';
import { API_OPTIONS, API_OPTIONS_USAGE, apiClientFrom } from './api-command-options.js';
import { bytes, modelLine, table, type ModelJson } from './api-format.js';
import type { CliIo } from './cli-io.js';

export const MODELS_USAGE = `usage: control-plane models upload FILE.onnx --name NAME --version VERSION [--parent SERIAL]
       control-plane models list [--name NAME] [--limit N]
${API_OPTIONS_USAGE}`;

export async function modelsCommand(args: string[], io: CliIo, env: NodeJS.ProcessEnv): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      ...API_OPTIONS,
      name: { type: 'string' },
      version: { type: 'string' },
      parent: { type: 'string' },
      limit: { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (sub === 'upload') {
    const [file, ...extra] = positionals;
    if (!file || extra.length > 0) throw new CpError('CP_ERR_ARGS', 'models upload takes one FILE');
    if (!values.name || !values.version) throw new CpError('CP_ERR_ARGS', '--name and --version are required');
    if (values.parent !== undefined && !/^\d+$/.test(values.parent))
      throw new CpError('CP_ERR_ARGS', `--parent must be a model serial, got ${JSON.stringify(values.parent)}`);
    const api = await apiClientFrom(values, env);
    const query = new URLSearchParams({
      name: values.name,
      version: values.version,
      ...(values.parent ? { parent: values.parent } : {}),
    });
    const model = await api.uploadFile<ModelJson>(`/api/v1/models${query.size > 0 ? `?${query}` : ''}`, file);
    io.stdout(values.json ? `${JSON.stringify(model, null, 2)}\n` : `registered ${modelLine(model)}\n`);
    return 0;
  }
  if (sub === 'list') {
    if (positionals.length > 0)
      throw new CpError('CP_ERR_ARGS', `models list takes no arguments, got ${positionals.join(' ')}`);
    if (values.limit !== undefined && !/^\d+$/.test(values.limit))
      throw new CpError('CP_ERR_ARGS', `--limit must be a number, got ${JSON.stringify(values.limit)}`);
    const api = await apiClientFrom(values, env);
    const query = new URLSearchParams({
      ...(values.name ? { name: values.name } : {}),
      ...(values.limit ? { limit: values.limit } : {}),
    });
    const page = await api.json<{ models: ModelJson[] }>('GET', `/api/v1/models${query.size > 0 ? `?${query}` : ''}`);
    if (values.json) io.stdout(`${JSON.stringify(page, null, 2)}\n`);
    else
      io.stdout(
        table(
          ['SERIAL', 'NAME', 'VERSION', 'ADAPTER', 'INPUT', 'CLASSES', 'SIZE', 'KEY', 'CREATED'],
          page.models.map((m) => [
            String(m.serial),
            m.name,
            m.version,
            m.adapter,
            `${m.inputWidth}x${m.inputHeight}`,
            String(m.classNames.length),
            bytes(m.sizeBytes),
            m.keyId,
            m.createdAt,
          ]),
        ),
      );
    return 0;
  }
  throw new CpError('CP_ERR_ARGS', `models: expected "upload" or "list", got ${JSON.stringify(sub ?? '')}`);
}
