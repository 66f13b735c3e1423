/**
 * `edge-agent detect`: run a detector once over image files and print one JSON line per image.
 *
 *   edge-agent detect --model MODEL [--conf C] [--iou I] [--max-det N] [--providers cpu,cuda]
 *                     [--adapter yolov8|yolox] IMAGE...
 *
 * Exit codes: 0 every image processed; 1 the model could not be loaded or at least one image failed
 * (the others are still processed and printed); 2 invalid arguments.
 */
import { parseArgs } from 'node:util';
import {
  ADAPTER_NAMES,
  OnnxDetector,
  parseProviderList,
  resolveDetectOptions,
  setOnnxRuntimeLogLevel,
  VisionError,
  type Detection,
  type DetectOptions,
  type ExecutionProviderName,
  type VisionErrorCode,
} from '@edgefleet/vision';
import { StillImageDecoder } from '../capture/still-image.js';
import { EdgeError, type EdgeErrorCode } from '../errors.js';
import { createLogger } from '@edgefleet/service-kit';

export interface DetectCommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export const DETECT_USAGE = `usage: edge-agent detect --model MODEL [--conf C] [--iou I] [--max-det N]
                         [--providers tensorrt,cuda,cpu] [--adapter ${ADAPTER_NAMES.join('|')}]
                         [--letterbox center|top-left] IMAGE...
`;

/** The vision catalogue seen from the agent: one edge code per vision code. */
const FROM_VISION: Readonly<Record<VisionErrorCode, EdgeErrorCode>> = {
  VISION_ERR_MODEL_NOT_FOUND: 'EDGE_ERR_MODEL_NOT_FOUND',
  VISION_ERR_MODEL_READ: 'EDGE_ERR_MODEL_READ',
  VISION_ERR_MODEL_CORRUPT: 'EDGE_ERR_MODEL_CORRUPT',
  VISION_ERR_MODEL_NOT_DETECTOR: 'EDGE_ERR_MODEL_NOT_DETECTOR',
  VISION_ERR_MODEL_METADATA: 'EDGE_ERR_MODEL_METADATA',
  VISION_ERR_PROVIDER_UNAVAILABLE: 'EDGE_ERR_PROVIDER_UNAVAILABLE',
  VISION_ERR_BAD_OPTION: 'EDGE_ERR_USAGE',
  VISION_ERR_BAD_FRAME: 'EDGE_ERR_INFERENCE',
  VISION_ERR_INFERENCE: 'EDGE_ERR_INFERENCE',
  VISION_ERR_CLOSED: 'EDGE_ERR_INFERENCE',
  VISION_ERR_WORKER: 'EDGE_ERR_INFERENCE',
};

/** Translates detection-core errors into the agent's catalogue, keeping the original as cause. */
export function toEdgeError(err: unknown): EdgeError {
  if (err instanceof EdgeError) return err;
  if (err instanceof VisionError) {
    return new EdgeError(FROM_VISION[err.code], err.detail, { cause: err });
  }
  return new EdgeError('EDGE_ERR_INFERENCE', err instanceof Error ? err.message : String(err), { cause: err });
}

interface DetectArgs {
  readonly model: string;
  readonly images: readonly string[];
  readonly detect: Required<DetectOptions>;
  readonly providers: ExecutionProviderName[] | undefined;
  readonly adapter: string | undefined;
  readonly letterbox: 'center' | 'top-left' | undefined;
}

function number(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new EdgeError('EDGE_ERR_USAGE', `--${name} must be a number, got '${text}'`);
  return value;
}

/** Runs a command-line parse, turning its failure into EDGE_ERR_USAGE. */
function asUsageError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new EdgeError('EDGE_ERR_USAGE', (err as Error).message, { cause: err });
  }
}

function parseDetectArgs(argv: string[]): DetectArgs {
  const parsed = asUsageError(() =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        model: { type: 'string', short: 'm' },
        conf: { type: 'string' },
        iou: { type: 'string' },
        'max-det': { type: 'string' },
        providers: { type: 'string' },
        adapter: { type: 'string' },
        letterbox: { type: 'string' },
      },
    }),
  );
  const { values, positionals } = parsed;
  if (values.model === undefined || values.model === '') throw new EdgeError('EDGE_ERR_USAGE', '--model is required');
  if (positionals.length === 0) throw new EdgeError('EDGE_ERR_USAGE', 'at least one IMAGE is required');
  if (values.adapter !== undefined && !ADAPTER_NAMES.includes(values.adapter)) {
    throw new EdgeError(
      'EDGE_ERR_USAGE',
      `--adapter must be one of ${ADAPTER_NAMES.join(', ')}, got '${values.adapter}'`,
    );
  }
  try {
    const detect = resolveDetectOptions({
      conf: number('conf', values.conf),
      iou: number('iou', values.iou),
      maxDetections: number('max-det', values['max-det']),
    });
    const providers = values.providers === undefined ? undefined : parseProviderList(values.providers);
    if (values.letterbox !== undefined && values.letterbox !== 'center' && values.letterbox !== 'top-left') {
      throw new EdgeError('EDGE_ERR_USAGE', `--letterbox must be center or top-left, got '${values.letterbox}'`);
    }
    return {
      model: values.model,
      images: positionals,
      detect,
      providers,
      adapter: values.adapter,
      letterbox: values.letterbox,
    };
  } catch (err) {
    throw toEdgeError(err);
  }
}

function describe(err: EdgeError): string {
  return `${err.code}: ${err.message}`;
}

/** One output line: box in source pixels to 0.1 px, score to 4 decimals. */
function detectionJson(d: Detection): Record<string, unknown> {
  const r1 = (v: number): number => Math.round(v * 10) / 10;
  return {
    classId: d.classId,
    label: d.label,
    score: Math.round(d.score * 1e4) / 1e4,
    box: d.box.map(r1),
  };
}

export async function detectCommand(argv: string[], io: DetectCommandIo): Promise<number> {
  const fail = (err: EdgeError): void => {
    io.stderr.write(`edge-agent detect: ${describe(err)}\n`);
  };
  let args: DetectArgs;
  try {
    args = parseDetectArgs(argv);
  } catch (err) {
    fail(toEdgeError(err));
    io.stderr.write(DETECT_USAGE);
    return 2;
  }

  // Provider fallbacks are reported once through our logger; ONNX Runtime's own native lines would repeat them.
  setOnnxRuntimeLogLevel('fatal');
  const logger = createLogger({
    level: 'warn',
    write: (line) => io.stderr.write(`${line}\n`),
    base: { cmd: 'detect' },
  });
  let detector: OnnxDetector;
  try {
    detector = await OnnxDetector.load(args.model, {
      ...(args.providers ? { providers: args.providers } : {}),
      ...(args.adapter ? { adapter: args.adapter } : {}),
      ...(args.letterbox ? { letterbox: args.letterbox } : {}),
      logger,
    });
  } catch (err) {
    fail(toEdgeError(err));
    return 1;
  }

  let failures = 0;
  const images = new StillImageDecoder({ format: detector.info.pixelFormat });
  const fit = (w: number, h: number): { width: number; height: number } => detector.letterboxFor(w, h);
  try {
    for (const image of args.images) {
      try {
        const frame = await images.decode(image, fit);
        const { detections } = await detector.detect(frame, args.detect);
        const line = {
          image,
          width: frame.sourceWidth,
          height: frame.sourceHeight,
          detections: detections.map(detectionJson),
        };
        io.stdout.write(`${JSON.stringify(line)}\n`);
      } catch (err) {
        failures++;
        fail(toEdgeError(err));
      }
    }
  } finally {
    await images.close();
    await detector.close();
  }
  return failures > 0 ? 1 : 0;
}
