/**
 * `control-plane` command dispatcher. Each command lives in its own module and returns an exit
 * code; errors are translated here once: 2 for bad arguments, 1 for everything else.
 */

import { CpError, describeError } from '../errors.js';
import { processIo, type CliIo } from './cli-io.js';
import { EVAL_USAGE, evalCommand } from './eval-command.js';
import { START_USAGE, startCommand } from './start-command.js';

type Command = (args: string[], io: CliIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, { run: Command; usage: string }>> = {
  eval: { run: evalCommand, usage: EVAL_USAGE },
  start: { run: startCommand, usage: START_USAGE },
};

export const USAGE = `usage: control-plane <command> [options]

commands:
  eval   evaluate an ONNX detector on a YOLO dataset split (COCO mAP50, mAP50-95, per class)
  start  run the control plane (MQTT broker or ingest client, storage, REST API) until SIGTERM

${Object.values(COMMANDS).map((c) => c.usage).join('\n')}`;

function isUsageError(err: unknown): boolean {
  if (err instanceof CpError) return err.code === 'CP_ERR_ARGS';
  const code = (err as { code?: unknown } | null)?.code;
  // node:util parseArgs (unknown or malformed options) and vision's option errors.
  return typeof code === 'string' && (code.startsWith('ERR_PARSE_ARGS') || code === 'VISION_ERR_BAD_OPTION');
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.stdout(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`control-plane: unknown command "${name}"\n${USAGE}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    io.stderr(`control-plane ${name}: ${describeError(err)}\n`);
    if (isUsageError(err)) {
      io.stderr(command.usage);
      return 2;
    }
    return 1;
  }
}
