/**
 * What adapters see of a model: its tensor inputs/outputs (from the session's input/output metadata)
 * and its metadata_props. Dimensions that are symbolic or unknown are `null`.
 */
import type { InferenceSession } from 'onnxruntime-node';

export type Dim = number | null;

export interface TensorSignature {
  readonly name: string;
  /** Element type, e.g. 'float32'; 'non-tensor' for sequences and maps. */
  readonly type: string;
  readonly dims: readonly Dim[];
}

export interface ModelSignature {
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
  readonly metadata: Readonly<Record<string, string>>;
}

function toSignature(meta: InferenceSession.ValueMetadata): TensorSignature {
  if (!meta.isTensor) return { name: meta.name, type: 'non-tensor', dims: [] };
  return {
    name: meta.name,
    type: meta.type,
    dims: meta.shape.map((d) => (typeof d === 'number' && Number.isInteger(d) && d > 0 ? d : null)),
  };
}

export function signatureOf(
  session: Pick<InferenceSession, 'inputMetadata' | 'outputMetadata'>,
  metadata: Readonly<Record<string, string>>,
): ModelSignature {
  return {
    inputs: session.inputMetadata.map(toSignature),
    outputs: session.outputMetadata.map(toSignature),
    metadata,
  };
}

function describeTensor(t: TensorSignature): string {
  return `${t.name} ${t.type}[${t.dims.map((d) => d ?? '?').join(',')}]`;
}

/** e.g. `inputs: images float32[1,3,64,64]; outputs: output float32[1,3,64,64]` */
export function describeSignature(s: ModelSignature): string {
  return `inputs: ${s.inputs.map(describeTensor).join(', ') || 'none'}; outputs: ${s.outputs.map(describeTensor).join(', ') || 'none'}`;
}

export interface ImageInput {
  readonly name: string;
  /** Numeric height/width when the model fixes them, else null (dynamic). */
  readonly height: number | null;
  readonly width: number | null;
}

/** The single float32 NCHW 3-channel image input every supported detector has, or a reason why not. */
export function imageInputOf(s: ModelSignature): ImageInput | string {
  if (s.inputs.length !== 1) return `expected exactly 1 input, found ${s.inputs.length}`;
  const input = s.inputs[0]!;
  if (input.type !== 'float32') return `input '${input.name}' is ${input.type}, expected float32`;
  const [batch, channels, height, width] = input.dims;
  if (input.dims.length !== 4) return `input '${input.name}' has rank ${input.dims.length}, expected 4 (NCHW)`;
  if (batch !== null && batch !== 1) return `input '${input.name}' has batch ${batch}, expected 1`;
  if (channels !== null && channels !== 3) return `input '${input.name}' has ${channels} channels, expected 3`;
  return { name: input.name, height: height ?? null, width: width ?? null };
}

/** The single float32 rank-3 `[1, a, b]` output, or a reason why not. */
export function singleOutputOf(s: ModelSignature): TensorSignature | string {
  if (s.outputs.length !== 1) return `expected exactly 1 output, found ${s.outputs.length}`;
  const output = s.outputs[0]!;
  if (output.type !== 'float32') return `output '${output.name}' is ${output.type}, expected float32`;
  if (output.dims.length !== 3) return `output '${output.name}' has rank ${output.dims.length}, expected 3`;
  if (output.dims[0] !== null && output.dims[0] !== 1)
    return `output '${output.name}' has batch ${output.dims[0]}, expected 1`;
  return output;
}
