/**
 * Interpretation of the Ultralytics export metadata (`names`, `imgsz`, `task`) found in ONNX
 * `metadata_props`. Values are Python literals written with `str()`; see python-dict-literal.ts.
 */
import { VisionError } from './errors.js';
import { parsePythonLiteral, PythonLiteralError } from './python-dict-literal.js';

function metadataError(key: string, text: string, reason: string, cause?: unknown): VisionError {
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return new VisionError('VISION_ERR_MODEL_METADATA', `'${key}' ${reason} (value: ${shown})`, { cause });
}

function parseOrThrow<T>(key: string, text: string, parse: (t: string) => T): T {
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof PythonLiteralError)
      throw metadataError(key, text, `is not a valid Python literal: ${err.message}`, err);
    throw err;
  }
}

/**
 * Class names from `names`, e.g. `{0: 'person', 1: 'bicycle'}`: int keys 0..n-1, each exactly once,
 * string values. A list literal (`['person', ...]`, older exports) is accepted too.
 */
export function parseClassNames(text: string): string[] {
  const value = parseOrThrow('names', text, parsePythonLiteral);
  if (Array.isArray(value)) {
    return value.map((name, i) => {
      if (typeof name !== 'string') throw metadataError('names', text, `entry ${i} is not a string`);
      return name;
    });
  }
  if (!(value instanceof Map)) throw metadataError('names', text, 'is not a dict literal');
  const names = new Array<string>(value.size);
  for (const [key, name] of value) {
    if (typeof key !== 'number' || !Number.isInteger(key) || key < 0 || key >= value.size) {
      throw metadataError('names', text, `has key ${JSON.stringify(key)}; keys must be the ints 0..${value.size - 1}`);
    }
    if (typeof name !== 'string') throw metadataError('names', text, `value for key ${key} is not a string`);
    names[key] = name;
  }
  return names;
}

/** Model input size from `imgsz`: `[h, w]` or a single int for a square input. */
export function parseImgsz(text: string): { height: number; width: number } {
  const value = parseOrThrow('imgsz', text, parsePythonLiteral);
  const dims = typeof value === 'number' ? [value, value] : value;
  const valid = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d > 0;
  if (!Array.isArray(dims) || dims.length !== 2 || !valid(dims[0]) || !valid(dims[1])) {
    throw metadataError('imgsz', text, 'must be a positive int or a list [height, width] of positive ints');
  }
  return { height: dims[0], width: dims[1] };
}
