/**
 * `control-plane eval --model MODEL --data DIR [--split test] [--conf 0.001] [--iou 0.7] [--pr-conf 0.25] [--providers cpu]`
 * prints the evaluation metrics as JSON on stdout; progress goes to stderr.
 */

import { parseArgs } from 'node:util';
import { parseProviderList } from '@edgefleet/vision';
import { CpError } from '../errors.js';
import { evaluateModel } from '../evaluation/evaluate-model.js';
import type { CliIo } from './cli-io.js';

export const EVAL_USAGE = `usage: control-plane eval --model MODEL.onnx --data DATASET_DIR|data.yaml [--split test]
                          [--conf 0.001] [--iou 0.7] [--pr-conf 0.25] [--max-det 300] [--providers tensorrt,cuda,cpu]
  --conf      detector confidence threshold for mAP (default 0.001)
  --iou       detector NMS IoU threshold (default 0.7)
  --pr-conf   confidence threshold of the reported precision/recall (IoU 0.5; default 0.25)
`;

function num(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v))
    throw new CpError('CP_ERR_ARGS', `--${name} must be a number, got "${text}"`);
  return v;
}

export async function evalCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      split: { type: 'string', default: 'test' },
      conf: { type: 'string' },
      iou: { type: 'string' },
      'pr-conf': { type: 'string' },
      'max-det': { type: 'string' },
      providers: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (!values.model) throw new CpError('CP_ERR_ARGS', '--model is required');
  if (!values.data) throw new CpError('CP_ERR_ARGS', '--data is required');
  const conf = num('conf', values.conf);
  const iou = num('iou', values.iou);
  const prConf = num('pr-conf', values['pr-conf']);
  const maxDetections = num('max-det', values['max-det']);
  const result = await evaluateModel({
    model: values.model,
    data: values.data,
    split: values.split,
    ...(conf !== undefined ? { conf } : {}),
    ...(iou !== undefined ? { iou } : {}),
    ...(prConf !== undefined ? { prConf } : {}),
    ...(maxDetections !== undefined ? { maxDetections } : {}),
    ...(values.providers ? { providers: parseProviderList(values.providers) } : {}),
    progress: (line) => io.stderr(`${line}\n`),
    logger: { warn: (msg, fields) => io.stderr(`warn: ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`) },
  });
  io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}
