/**
 * Execution-provider chain: which ONNX Runtime providers to try, in order, and with which options.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { VisionError } from './errors.js';
import type { ExecutionProviderName } from './types.js';

export const KNOWN_PROVIDERS: readonly ExecutionProviderName[] = ['tensorrt', 'cuda', 'cpu'];

/** Fastest first; CPU is always possible with the stock onnxruntime-node package. */
export const DEFAULT_PROVIDER_CHAIN: readonly ExecutionProviderName[] = ['tensorrt', 'cuda', 'cpu'];

export interface ExecutionProviderOptions {
  /**
   * Providers to try in order; the first one that creates a session wins.
   * @example ['cuda', 'cpu']
   */
  readonly providers?: readonly ExecutionProviderName[];
  /** GPU index for TensorRT and CUDA, default 0. */
  readonly deviceId?: number;
  /** Build TensorRT engines in FP16. */
  readonly tensorrtFp16?: boolean;
  /** Directory where TensorRT keeps built engines between runs. */
  readonly engineCacheDir?: string;
  /** Intra-op thread count for ONNX Runtime; 0 or absent lets ONNX Runtime decide. */
  readonly intraOpNumThreads?: number;
  /**
   * Let ONNX Runtime's CPU worker threads spin after a run, default false. Spinning trims a little
   * latency on an idle machine but burns the cores that GStreamer and pre-processing share: on a busy
   * 2-core host, YOLOv8n inference measured 67-87 ms without spinning against 126-143 ms with it.
   */
  readonly allowSpinning?: boolean;
}

function isProviderName(name: string): name is ExecutionProviderName {
  return (KNOWN_PROVIDERS as readonly string[]).includes(name);
}

/** Parses a comma-separated chain such as `cuda,cpu` (CLI flags, environment overrides). */
export function parseProviderList(text: string): ExecutionProviderName[] {
  const names = text.split(',').map((s) => s.trim().toLowerCase());
  for (const name of names) {
    if (!isProviderName(name)) {
      throw new VisionError(
        'VISION_ERR_BAD_OPTION',
        `unknown execution provider '${name}' (known: ${KNOWN_PROVIDERS.join(', ')})`,
      );
    }
  }
  return validateProviderChain(names as ExecutionProviderName[]);
}

function validateProviderChain(chain: readonly string[]): ExecutionProviderName[] {
  if (chain.length === 0) throw new VisionError('VISION_ERR_BAD_OPTION', 'execution provider chain is empty');
  const seen = new Set<string>();
  for (const name of chain) {
    if (!isProviderName(name)) {
      throw new VisionError(
        'VISION_ERR_BAD_OPTION',
        `unknown execution provider '${name}' (known: ${KNOWN_PROVIDERS.join(', ')})`,
      );
    }
    if (seen.has(name)) throw new VisionError('VISION_ERR_BAD_OPTION', `execution provider '${name}' listed twice`);
    seen.add(name);
  }
  return [...chain] as ExecutionProviderName[];
}

function checkCount(name: string, value: number | undefined, min: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min)) {
    throw new VisionError('VISION_ERR_BAD_OPTION', `${name} must be an integer >= ${min}, got ${value}`);
  }
}

/** Checks the options and returns the provider chain to try. */
export function resolveProviderChain(options: ExecutionProviderOptions): ExecutionProviderName[] {
  checkCount('deviceId', options.deviceId, 0);
  checkCount('intraOpNumThreads', options.intraOpNumThreads, 0);
  if (options.engineCacheDir !== undefined && options.engineCacheDir.trim() === '') {
    throw new VisionError('VISION_ERR_BAD_OPTION', 'engineCacheDir must not be empty');
  }
  return validateProviderChain(options.providers ?? DEFAULT_PROVIDER_CHAIN);
}

/** ONNX Runtime's config entry for one provider. */
export function providerConfig(
  name: ExecutionProviderName,
  options: ExecutionProviderOptions,
): InferenceSession.ExecutionProviderConfig {
  const deviceId = options.deviceId ?? 0;
  switch (name) {
    case 'tensorrt':
      return { name: 'tensorrt', deviceId };
    case 'cuda':
      return { name: 'cuda', deviceId };
    case 'cpu':
      return 'cpu';
  }
}

/**
 * TensorRT settings the provider would need that onnxruntime-node 1.23 cannot pass on: its binding
 * forwards only `deviceId` to TensorRT (js/node/src/session_options_helper.cc) and, given provider
 * options, the TensorRT provider ignores its ORT_TENSORRT_* environment variables.
 */
export function unsupportedTensorrtSettings(options: ExecutionProviderOptions): string[] {
  const unsupported: string[] = [];
  if (options.tensorrtFp16) unsupported.push('tensorrtFp16');
  if (options.engineCacheDir !== undefined) unsupported.push('engineCacheDir');
  return unsupported;
}
