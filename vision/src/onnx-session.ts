/**
 * Creates an ONNX Runtime session from a model file by walking the execution-provider chain:
 * a provider that cannot be used (no GPU binaries, no device) is logged and the next one is tried.
 * The session is built from the same bytes that were hashed, so the reported SHA-256 is the model that runs.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { env, InferenceSession } from 'onnxruntime-node';
import { VisionError } from './errors.js';
import {
  providerConfig,
  resolveProviderChain,
  unsupportedTensorrtSettings,
  type ExecutionProviderOptions,
} from './execution-providers.js';
import type { ExecutionProviderName } from './types.js';

/** Where the detection core reports what it had to work around. */
export interface VisionLogger {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export const consoleWarnLogger: VisionLogger = {
  warn: (msg, fields) => console.warn(msg, fields ?? {}),
};

export interface OnnxSessionOptions extends ExecutionProviderOptions {
  readonly logger?: VisionLogger;
}

export interface OnnxSession {
  readonly session: InferenceSession;
  /** Provider that created the session (the first of the chain that worked). */
  readonly provider: ExecutionProviderName;
  readonly sha256: string;
  /** The model file's bytes, for metadata reading without a second read. */
  readonly bytes: Uint8Array;
}

export type OnnxRuntimeLogLevel = NonNullable<typeof env.logLevel>;

/**
 * Sets ONNX Runtime's own (native, stderr) log level. It takes effect only before the first session
 * of the process is created; one-shot commands use 'fatal' because failed providers are already
 * reported through the VisionLogger.
 */
export function setOnnxRuntimeLogLevel(level: OnnxRuntimeLogLevel): void {
  env.logLevel = level;
}

// A provider whose shared library or device is missing fails while it is appended to the session
// options, before the model is read; those failures say nothing about the model.
const PROVIDER_UNAVAILABLE = /AppendExecutionProvider|backend not found|is unsupported|Failed to load shared library/i;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function readModel(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new VisionError('VISION_ERR_MODEL_NOT_FOUND', path, { cause: err });
    throw new VisionError('VISION_ERR_MODEL_READ', `${path}: ${messageOf(err)}`, { cause: err });
  }
}

export async function createOnnxSession(path: string, options: OnnxSessionOptions = {}): Promise<OnnxSession> {
  const chain = resolveProviderChain(options);
  const logger = options.logger ?? consoleWarnLogger;
  const bytes = await readModel(path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');

  let modelError: unknown = null;
  const unavailable: string[] = [];
  for (let i = 0; i < chain.length; i++) {
    const provider = chain[i]!;
    const next = chain[i + 1];
    try {
      // The rest of the chain follows, so nodes the first provider cannot run go to the next one, not straight to CPU.
      const session = await InferenceSession.create(bytes, {
        executionProviders: chain.slice(i).map((name) => providerConfig(name, options)),
        graphOptimizationLevel: 'all',
        ...(options.intraOpNumThreads ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
        extra: { session: { intra_op: { allow_spinning: options.allowSpinning ? '1' : '0' } } },
      });
      if (provider === 'tensorrt') {
        const ignored = unsupportedTensorrtSettings(options);
        if (ignored.length > 0) {
          logger.warn('TensorRT settings not applied: onnxruntime-node forwards only deviceId to TensorRT', {
            ignored,
          });
        }
      }
      return { session, provider, sha256, bytes };
    } catch (err) {
      const reason = messageOf(err);
      if (PROVIDER_UNAVAILABLE.test(reason)) unavailable.push(`${provider}: ${reason}`);
      else modelError = err;
      if (next !== undefined) {
        logger.warn(`execution provider '${provider}' could not be used, falling back to '${next}'`, {
          model: path,
          provider,
          next,
          error: reason,
        });
      }
    }
  }
  if (modelError !== null) {
    throw new VisionError('VISION_ERR_MODEL_CORRUPT', `${path}: ${messageOf(modelError)}`, { cause: modelError });
  }
  throw new VisionError('VISION_ERR_PROVIDER_UNAVAILABLE', `${chain.join(', ')} (${unavailable.join('; ')})`);
}
