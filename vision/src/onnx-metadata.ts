/**
 * Reads `ModelProto.metadata_props` straight from the protobuf wire format (onnx.proto3:
 * `repeated StringStringEntryProto metadata_props = 14`, entry `{string key = 1; string value = 2;}`).
 * Every other field, the graph with its weights included, is skipped by length without being decoded.
 */
import { readFile } from 'node:fs/promises';
import protobuf from 'protobufjs/minimal.js';
import { VisionError } from './errors.js';

const MODEL_METADATA_PROPS = 14;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
const WIRE_LENGTH_DELIMITED = 2;

function readEntry(reader: protobuf.Reader, end: number): { key: string; value: string } {
  let key = '';
  let value = '';
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === ENTRY_KEY && wire === WIRE_LENGTH_DELIMITED) key = reader.string();
    else if (field === ENTRY_VALUE && wire === WIRE_LENGTH_DELIMITED) value = reader.string();
    else reader.skipType(wire);
  }
  if (reader.pos !== end) throw new RangeError('metadata entry overruns its declared length');
  return { key, value };
}

/** Metadata key/value pairs of an ONNX model held in memory. */
export function readOnnxMetadata(model: Uint8Array): Record<string, string> {
  const reader = protobuf.Reader.create(model);
  const props: Record<string, string> = Object.create(null) as Record<string, string>;
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 0) throw new RangeError(`invalid field number 0 at offset ${reader.pos}`);
      if (field === MODEL_METADATA_PROPS && wire === WIRE_LENGTH_DELIMITED) {
        const length = reader.uint32();
        const { key, value } = readEntry(reader, reader.pos + length);
        if (Object.hasOwn(props, key)) {
          throw new VisionError('VISION_ERR_MODEL_METADATA', `duplicate metadata_props key '${key}'`);
        }
        props[key] = value;
      } else {
        reader.skipType(wire);
      }
    }
  } catch (err) {
    if (err instanceof VisionError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new VisionError('VISION_ERR_MODEL_CORRUPT', `ONNX ModelProto cannot be decoded (${reason})`, { cause: err });
  }
  return { ...props };
}

/** Metadata key/value pairs of an ONNX model file. */
export async function readOnnxMetadataFile(path: string): Promise<Record<string, string>> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new VisionError(code === 'ENOENT' ? 'VISION_ERR_MODEL_NOT_FOUND' : 'VISION_ERR_MODEL_READ', path, {
      cause: err,
    });
  }
  return readOnnxMetadata(bytes);
}
