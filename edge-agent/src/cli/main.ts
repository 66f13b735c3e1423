import { detectCommand } from './detect-command.js';
import { runCommand } from './run-command.js';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const USAGE = `usage: edge-agent <command> [options]

commands:
  detect --model MODEL [--conf C] [--iou I] [--max-det N] [--providers cpu,cuda] [--adapter yolov8|yolox] IMAGE...
      run the detector once on image files; prints one JSON line per image
  run --config FILE [--print-detections]
      run every camera in FILE until SIGTERM/SIGINT (systemd Type=notify aware)
  config-reference
      print the configuration reference (Markdown) generated from the schema
`;

/** CLI dispatcher: returns the process exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'detect':
      return detectCommand(rest, io);
    case 'run':
      return runCommand(rest, io);
    case 'config-reference': {
      const { configReferenceMarkdown } = await import('../config/config-reference.js');
      io.stdout.write(`${configReferenceMarkdown()}\n`);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      io.stderr.write(`edge-agent: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}
