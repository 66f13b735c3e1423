/**
 * `control-plane` command dispatcher. Each command lives in its own module and returns an exit
 * code; errors are translated here once: 2 for bad arguments, 1 for everything else.
 */

import { CpError, describeError } from '../errors.js';
import { ASSIGN_USAGE, assignCommand, promoteCommand, rollbackCommand } from './assignment-commands.js';
import { AUDIT_USAGE, auditCommand } from './audit-command.js';
import { processIo, type CliIo } from './cli-io.js';
import { EVAL_USAGE, evalCommand } from './eval-command.js';
import { MODELS_USAGE, modelsCommand } from './models-command.js';
import { SIGNING_KEY_USAGE, signingKeyCommand } from './signing-key-command.js';
import { START_USAGE, startCommand } from './start-command.js';

type Command = (args: string[], io: CliIo, env: NodeJS.ProcessEnv) => Promise<number>;

const COMMANDS: Readonly<Record<string, { run: Command; usage: string }>> = {
  eval: { run: evalCommand, usage: EVAL_USAGE },
  start: { run: (args, io, env) => startCommand(args, io, { env }), usage: START_USAGE },
  models: { run: modelsCommand, usage: MODELS_USAGE },
  assign: { run: assignCommand, usage: ASSIGN_USAGE },
  promote: { run: promoteCommand, usage: ASSIGN_USAGE },
  rollback: { run: rollbackCommand, usage: ASSIGN_USAGE },
  audit: { run: auditCommand, usage: AUDIT_USAGE },
  'signing-key': { run: signingKeyCommand, usage: SIGNING_KEY_USAGE },
};

export const USAGE = `usage: control-plane <command> [options]

commands:
  eval         evaluate an ONNX detector on a YOLO dataset split (COCO mAP50, mAP50-95, per class)
  start        run the control plane (MQTT broker or ingest client, storage, REST API, gRPC) until SIGTERM
  models       upload an ONNX detector to the registry, or list the registered models
  assign       assign a model to a camera: full, A/B split or shadow
  promote      make a camera's candidate its primary
  rollback     roll a camera back to its previous model, or to a named one
  audit        show the audit log
  signing-key  show the public key model signatures verify with (agents pin it)

The admin commands talk to the REST API (--url, default http://127.0.0.1:8080) with a bearer token
(--token, --token-file or $CP_TOKEN).

${[...new Set(Object.values(COMMANDS).map((c) => c.usage))].join('\n')}`;

function isUsageError(err: unknown): boolean {
  if (err instanceof CpError) return err.code === 'CP_ERR_ARGS';
  const code = (err as { code?: unknown } | null)?.code;
  // node:util parseArgs (unknown or malformed options) and vision's option errors.
  return typeof code === 'string' && (code.startsWith('ERR_PARSE_ARGS') || code === 'VISION_ERR_BAD_OPTION');
}

export async function main(
  argv: string[],
  io: CliIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
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
    return await command.run(rest, io, env);
  } catch (err) {
    io.stderr(`control-plane ${name}: ${describeError(err)}\n`);
    if (isUsageError(err)) {
      io.stderr(command.usage);
      return 2;
    }
    return 1;
  }
}
