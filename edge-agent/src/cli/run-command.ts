import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { createLogger } from '@edgefleet/service-kit';
import { Agent } from '../agent/agent.js';
import { describeError, EdgeError } from '../errors.js';
import type { CliIo } from './main.js';

/**
 * `edge-agent run --config FILE`: validate the config (every bad path reported, nothing started
 * when invalid), run all cameras, and on SIGTERM/SIGINT stop capture, flush and close.
 */
function parseRunArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      'print-detections': { type: 'boolean', default: false },
      'exit-when-idle': { type: 'boolean', default: false },
    },
    strict: true,
  });
}

export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  let args: ReturnType<typeof parseRunArgs>;
  try {
    args = parseRunArgs(argv);
  } catch (err) {
    io.stderr.write(`edge-agent run: ${(err as Error).message}\n`);
    return 2;
  }
  if (!args.values.config) {
    io.stderr.write('edge-agent run: --config FILE is required\n');
    return 2;
  }

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(args.values.config, process.env);
  } catch (err) {
    io.stderr.write(`edge-agent: ${describeError(err)}\n`);
    if (err instanceof EdgeError && Array.isArray(err.details)) {
      for (const problem of err.details) io.stderr.write(`  ${String(problem)}\n`);
    }
    return 78; // EX_CONFIG: systemd's RestartPreventExitStatus keeps a broken config from looping
  }

  const logger = createLogger({ level: config.log.level, base: { device: config.deviceId } });
  const print = args.values['print-detections'];
  const agent = new Agent({
    config,
    logger,
    onDetections: print
      ? (cameraId, frameId, detections) => io.stdout.write(`${JSON.stringify({ cameraId, frameId, detections })}\n`)
      : undefined,
  });

  let stopping: Promise<void> | null = null;
  let starting: Promise<void> | null = null;
  const stop = (signal: string): Promise<void> => {
    if (!stopping) {
      logger.info('stopping', { signal });
      // A signal during start-up waits for start to settle, then stops what did start.
      stopping = (starting ?? Promise.resolve()).catch(() => undefined).then(() => agent.stop());
    }
    return stopping;
  };

  // Handlers go in before start-up, so a SIGTERM while models load still ends in a clean stop.
  const exit = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      void stop(signal).then(
        () => resolve(0),
        (err) => {
          logger.error('stop failed', { error: describeError(err) });
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    starting = agent.start();
    starting.then(
      () => {
        if (args.values['exit-when-idle']) void agent.idle().then(() => onSignal('SIGTERM'));
      },
      (err) => {
        logger.error('agent failed to start', { error: describeError(err) });
        // A file the config names that cannot be read (credential, TLS, signing key) is a config problem too.
        const configProblem =
          err instanceof EdgeError &&
          ['EDGE_ERR_CONFIG_READ', 'EDGE_ERR_CONFIG_INVALID', 'EDGE_ERR_SIGNING_KEY'].includes(err.code);
        void stop('start-failure').finally(() => resolve(configProblem ? 78 : 1));
      },
    );
  });
  return await exit;
}
