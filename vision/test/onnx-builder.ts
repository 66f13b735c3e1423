/**
 * Writes small but real ONNX models (ModelProto wire format, onnx.proto3 field numbers) for tests.
 * Outputs are either an Identity of an input or a Constant, which gives a "detector" whose raw output
 * is known exactly, so decode, NMS and box mapping can be checked end to end against hand-computed boxes.
 */
import protobuf from 'protobufjs/minimal.js';

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTRIBUTE_TENSOR = 4; // AttributeProto.AttributeType.TENSOR

export interface BuiltTensor {
  readonly name: string;
  /** Numbers are fixed dims, strings symbolic dims. */
  readonly dims: ReadonlyArray<number | string>;
}

export type BuiltOutput = BuiltTensor & ({ readonly identityOf: string } | { readonly constant: ArrayLike<number> });

export interface ModelSpec {
  readonly inputs: readonly BuiltTensor[];
  readonly outputs: readonly BuiltOutput[];
  readonly metadata?: ReadonlyArray<readonly [string, string]>;
}

const tag = (field: number, wire: number): number => (field << 3) | wire;

function valueInfo(w: protobuf.Writer, field: number, t: BuiltTensor): void {
  w.uint32(tag(field, 2)).fork();
  w.uint32(tag(1, 2)).string(t.name); // ValueInfoProto.name
  w.uint32(tag(2, 2)).fork(); // .type: TypeProto
  w.uint32(tag(1, 2)).fork(); // TypeProto.tensor_type
  w.uint32(tag(1, 0)).int32(FLOAT); // elem_type
  w.uint32(tag(2, 2)).fork(); // shape: TensorShapeProto
  for (const d of t.dims) {
    w.uint32(tag(1, 2)).fork(); // dim
    if (typeof d === 'number') w.uint32(tag(1, 0)).int64(d); // dim_value
    else w.uint32(tag(2, 2)).string(d); // dim_param
    w.ldelim();
  }
  w.ldelim().ldelim().ldelim().ldelim();
}

function constantNode(w: protobuf.Writer, out: BuiltTensor, values: ArrayLike<number>): void {
  const dims = out.dims.map((d) => {
    if (typeof d !== 'number') throw new Error('constant outputs need fixed dims');
    return d;
  });
  const size = dims.reduce((a, b) => a * b, 1);
  if (values.length !== size) throw new Error(`constant ${out.name} needs ${size} values, got ${values.length}`);
  w.uint32(tag(1, 2)).fork(); // node
  w.uint32(tag(2, 2)).string(out.name); // output
  w.uint32(tag(3, 2)).string(`const_${out.name}`);
  w.uint32(tag(4, 2)).string('Constant');
  w.uint32(tag(5, 2)).fork(); // attribute
  w.uint32(tag(1, 2)).string('value');
  w.uint32(tag(5, 2)).fork(); // t: TensorProto
  for (const d of dims) w.uint32(tag(1, 0)).int64(d);
  w.uint32(tag(2, 0)).int32(FLOAT);
  w.uint32(tag(4, 2)).fork(); // float_data, packed
  for (let i = 0; i < values.length; i++) w.float(values[i]!);
  w.ldelim();
  w.ldelim();
  w.uint32(tag(20, 0)).int32(ATTRIBUTE_TENSOR);
  w.ldelim();
  w.ldelim();
}

function identityNode(w: protobuf.Writer, from: string, to: string): void {
  w.uint32(tag(1, 2)).fork();
  w.uint32(tag(1, 2)).string(from);
  w.uint32(tag(2, 2)).string(to);
  w.uint32(tag(3, 2)).string(`identity_${to}`);
  w.uint32(tag(4, 2)).string('Identity');
  w.ldelim();
}

export function buildOnnxModel(spec: ModelSpec): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32(tag(1, 0)).int64(8); // ir_version
  w.uint32(tag(2, 2)).string('edgefleet-test'); // producer_name
  w.uint32(tag(7, 2)).fork(); // graph
  for (const out of spec.outputs) {
    if ('identityOf' in out) identityNode(w, out.identityOf, out.name);
    else constantNode(w, out, out.constant);
  }
  w.uint32(tag(2, 2)).string('test-graph');
  for (const t of spec.inputs) valueInfo(w, 11, t);
  for (const t of spec.outputs) valueInfo(w, 12, t);
  w.ldelim();
  w.uint32(tag(8, 2)).fork(); // opset_import
  w.uint32(tag(1, 2)).string('');
  w.uint32(tag(2, 0)).int64(13);
  w.ldelim();
  for (const [key, value] of spec.metadata ?? []) {
    w.uint32(tag(14, 2)).fork();
    w.uint32(tag(1, 2)).string(key);
    w.uint32(tag(2, 2)).string(value);
    w.ldelim();
  }
  return w.finish();
}

/** The not-a-detector of the tests: one Identity over a [1,3,64,64] image. */
export function identityImageModel(): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'x', dims: [1, 3, 64, 64] }],
    outputs: [{ name: 'y', dims: [1, 3, 64, 64], identityOf: 'x' }],
  });
}
