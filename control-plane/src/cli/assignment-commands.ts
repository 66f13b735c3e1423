/**
 * `control-plane assign DEVICE CAMERA --model M [--candidate M --split PCT | --shadow M]`,
 * `control-plane promote DEVICE CAMERA` and `control-plane rollback DEVICE CAMERA [--to M]`, over the
 * REST API. A model M is a serial (`12`) or `name:version`.
 */

import { parseArgs } from 'node:util';
import { CpError } from '../errors.js';
import { API_OPTIONS, API_OPTIONS_USAGE, apiClientFrom } from './api-command-options.js';
import { assignmentLine, type AssignmentJson } from './api-format.js';
import type { CliIo } from './cli-io.js';

export const ASSIGN_USAGE = `usage: control-plane assign DEVICE CAMERA --model M [--candidate M --split PCT | --shadow M] [--reason TEXT] [--provision]
       control-plane promote DEVICE CAMERA [--reason TEXT]
       control-plane rollback DEVICE CAMERA [--to M] [--reason TEXT]
  M is a model serial (12) or NAME:VERSION
  --split PCT      the candidate's share of frames in percent (A/B split)
  --shadow M       run M beside the primary on every frame (its detections are kept apart)
  --provision      assign to a camera the device has not reported yet
${API_OPTIONS_USAGE}`;

function target(positionals: string[], command: string): { device: string; camera: string } {
  const [device, camera, ...extra] = positionals;
  if (!device || !camera || extra.length > 0) throw new CpError('CP_ERR_ARGS', `${command} takes DEVICE CAMERA`);
  return { device, camera };
}

function modelRef(text: string, option: string): string | number {
  if (/^\d+$/.test(text)) return Number(text);
  if (/^[^:]+:[^:]+$/.test(text)) return text;
  throw new CpError('CP_ERR_ARGS', `${option} must be a model serial or NAME:VERSION, got ${JSON.stringify(text)}`);
}

const path = (t: { device: string; camera: string }, suffix = ''): string =>
  `/api/v1/devices/${encodeURIComponent(t.device)}/cameras/${encodeURIComponent(t.camera)}/assignment${suffix}`;

function print(io: CliIo, json: boolean, a: AssignmentJson): number {
  io.stdout(json ? `${JSON.stringify(a, null, 2)}\n` : `${assignmentLine(a)}\n`);
  return 0;
}

export async function assignCommand(args: string[], io: CliIo, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...API_OPTIONS,
      model: { type: 'string' },
      candidate: { type: 'string' },
      split: { type: 'string' },
      shadow: { type: 'string' },
      reason: { type: 'string' },
      provision: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  const t = target(positionals, 'assign');
  if (!values.model) throw new CpError('CP_ERR_ARGS', '--model is required');
  if (values.shadow !== undefined && (values.candidate !== undefined || values.split !== undefined))
    throw new CpError('CP_ERR_ARGS', '--shadow M replaces --candidate M --split PCT');
  if ((values.candidate === undefined) !== (values.split === undefined))
    throw new CpError('CP_ERR_ARGS', '--candidate and --split go together');
  const split = values.split === undefined ? undefined : Number(values.split);
  if (split !== undefined && !(split > 0 && split <= 100))
    throw new CpError('CP_ERR_ARGS', `--split must be a percentage in (0, 100], got ${JSON.stringify(values.split)}`);
  const body = {
    model: modelRef(values.model, '--model'),
    ...(values.candidate !== undefined
      ? { candidate: modelRef(values.candidate, '--candidate'), mode: 'split', splitPercent: split }
      : {}),
    ...(values.shadow !== undefined ? { candidate: modelRef(values.shadow, '--shadow'), mode: 'shadow' } : {}),
    ...(values.reason !== undefined ? { reason: values.reason } : {}),
    ...(values.provision ? { provision: true } : {}),
  };
  const api = await apiClientFrom(values, env);
  return print(io, values.json, await api.json<AssignmentJson>('PUT', path(t), body));
}

export async function promoteCommand(args: string[], io: CliIo, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...API_OPTIONS, reason: { type: 'string' } },
    strict: true,
    allowPositionals: true,
  });
  const t = target(positionals, 'promote');
  const api = await apiClientFrom(values, env);
  return print(
    io,
    values.json,
    await api.json<AssignmentJson>(
      'POST',
      path(t, '/promote'),
      values.reason !== undefined ? { reason: values.reason } : {},
    ),
  );
}

export async function rollbackCommand(args: string[], io: CliIo, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...API_OPTIONS, to: { type: 'string' }, reason: { type: 'string' } },
    strict: true,
    allowPositionals: true,
  });
  const t = target(positionals, 'rollback');
  const body = {
    ...(values.to !== undefined ? { to: modelRef(values.to, '--to') } : {}),
    ...(values.reason !== undefined ? { reason: values.reason } : {}),
  };
  const api = await apiClientFrom(values, env);
  return print(io, values.json, await api.json<AssignmentJson>('POST', path(t, '/rollback'), body));
}
