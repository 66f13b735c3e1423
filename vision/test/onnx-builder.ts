/**
 * Writes small but real ONNX models (ModelProto wire format, onnx.proto3 field numbers) for tests.
 * Outputs are an Identity of an input, a Constant, or computed by a list of operator nodes. A constant
 * output gives a "detector" whose raw output is known exactly, so decode, NMS and box mapping can be
 * checked end to end against hand-computed boxes; computed outputs give models that behave in a chosen
 * way at run time (e.g. fail on some inputs, see `runtimeFailingDetector`).
 *
 * Other packages' tests import it as `@edgefleet/vision/testing/onnx-builder`.
 */
import protobuf from 'protobufjs/minimal.js';

const FLOAT = 1; // TensorProto.DataType.FLOAT
const INT64 = 7; // TensorProto.DataType.INT64
const ATTRIBUTE_FLOAT = 1; // AttributeProto.AttributeType.FLOAT
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_TENSOR = 4;
const ATTRIBUTE_INTS = 7;

export interface BuiltTensor {
  readonly name: string;
  /** Numbers are fixed dims, strings symbolic dims. */
  readonly dims: ReadonlyArray<number | string>;
}

/** `computed`: produced by one of `ModelSpec.nodes`. */
export type BuiltOutput = BuiltTensor &
  ({ readonly identityOf: string } | { readonly constant: ArrayLike<number> } | { readonly computed: true });

/** A constant tensor (a Constant node's value or a tensor attribute). */
export interface BuiltConstant {
  readonly type: 'float' | 'int64';
  /** Empty for a scalar. */
  readonly dims: readonly number[];
  readonly values: ArrayLike<number>;
}

export type BuiltAttribute = { readonly name: string } & (
  | { readonly int: number }
  | { readonly ints: readonly number[] }
  | { readonly float: number }
  | { readonly tensor: BuiltConstant }
);

/** One operator of the default ONNX domain (opset 13). */
export interface BuiltNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: readonly BuiltAttribute[];
}

export interface ModelSpec {
  readonly inputs: readonly BuiltTensor[];
  readonly outputs: readonly BuiltOutput[];
  /** Operators in topological order, before the outputs' own Identity/Constant nodes. */
  readonly nodes?: readonly BuiltNode[];
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
    if (typeof d === 'number')
      w.uint32(tag(1, 0)).int64(d); // dim_value
    else w.uint32(tag(2, 2)).string(d); // dim_param
    w.ldelim();
  }
  w.ldelim().ldelim().ldelim().ldelim();
}

/** TensorProto body (inside an already forked field). */
function tensorBody(w: protobuf.Writer, name: string, c: BuiltConstant): void {
  const size = c.dims.reduce((a, b) => a * b, 1);
  if (c.values.length !== size) throw new Error(`constant ${name} needs ${size} values, got ${c.values.length}`);
  for (const d of c.dims) w.uint32(tag(1, 0)).int64(d); // dims
  w.uint32(tag(2, 0)).int32(c.type === 'float' ? FLOAT : INT64); // data_type
  if (c.type === 'float') {
    w.uint32(tag(4, 2)).fork(); // float_data, packed
    for (let i = 0; i < c.values.length; i++) w.float(c.values[i]!);
  } else {
    w.uint32(tag(7, 2)).fork(); // int64_data, packed
    for (let i = 0; i < c.values.length; i++) w.int64(c.values[i]!);
  }
  w.ldelim();
}

function attribute(w: protobuf.Writer, a: BuiltAttribute, owner: string): void {
  w.uint32(tag(5, 2)).fork(); // NodeProto.attribute
  w.uint32(tag(1, 2)).string(a.name);
  if ('int' in a) {
    w.uint32(tag(3, 0)).int64(a.int); // i
    w.uint32(tag(20, 0)).int32(ATTRIBUTE_INT);
  } else if ('ints' in a) {
    for (const v of a.ints) w.uint32(tag(8, 0)).int64(v); // ints
    w.uint32(tag(20, 0)).int32(ATTRIBUTE_INTS);
  } else if ('float' in a) {
    w.uint32(tag(2, 5)).float(a.float); // f
    w.uint32(tag(20, 0)).int32(ATTRIBUTE_FLOAT);
  } else {
    w.uint32(tag(5, 2)).fork(); // t: TensorProto
    tensorBody(w, `${owner}.${a.name}`, a.tensor);
    w.ldelim();
    w.uint32(tag(20, 0)).int32(ATTRIBUTE_TENSOR);
  }
  w.ldelim();
}

function node(w: protobuf.Writer, n: BuiltNode, name: string): void {
  w.uint32(tag(1, 2)).fork(); // GraphProto.node
  for (const i of n.inputs) w.uint32(tag(1, 2)).string(i);
  for (const o of n.outputs) w.uint32(tag(2, 2)).string(o);
  w.uint32(tag(3, 2)).string(name);
  w.uint32(tag(4, 2)).string(n.op);
  for (const a of n.attributes ?? []) attribute(w, a, name);
  w.ldelim();
}

function constantNode(w: protobuf.Writer, out: BuiltTensor, values: ArrayLike<number>): void {
  const dims = out.dims.map((d) => {
    if (typeof d !== 'number') throw new Error('constant outputs need fixed dims');
    return d;
  });
  node(
    w,
    {
      op: 'Constant',
      inputs: [],
      outputs: [out.name],
      attributes: [{ name: 'value', tensor: { type: 'float', dims, values } }],
    },
    `const_${out.name}`,
  );
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
  (spec.nodes ?? []).forEach((n, i) => {
    node(w, n, `node${i}_${n.op}`);
  });
  for (const out of spec.outputs) {
    if ('identityOf' in out) identityNode(w, out.identityOf, out.name);
    else if ('constant' in out) constantNode(w, out, out.constant);
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

/** One anchor of a constant YOLOv8 output: centre, size (input pixels) and one score per class. */
export interface BuiltAnchor {
  readonly cx: number;
  readonly cy: number;
  readonly w: number;
  readonly h: number;
  readonly scores: readonly number[];
}

export interface DetectorModelSpec {
  /** Class names (Ultralytics `names` metadata); default ['person', 'car']. */
  readonly classNames?: readonly string[];
  /** Square input side in pixels; default 64. */
  readonly size?: number;
  /** Default: one 'person' at the centre, score 0.9. */
  readonly anchors?: readonly BuiltAnchor[];
  /** Extra metadata entries (e.g. a version tag, so two builds get different bytes and sha256). */
  readonly metadata?: ReadonlyArray<readonly [string, string]>;
}

function detectorParts(spec: DetectorModelSpec) {
  const classNames = spec.classNames ?? ['person', 'car'];
  const size = spec.size ?? 64;
  const anchors = spec.anchors ?? [
    { cx: size / 2, cy: size / 2, w: size / 4, h: size / 2, scores: [0.9, ...classNames.slice(1).map(() => 0)] },
  ];
  const channels = 4 + classNames.length;
  const values: number[] = [];
  for (let row = 0; row < channels; row++) {
    for (const a of anchors) {
      if (a.scores.length !== classNames.length)
        throw new Error(`anchor needs ${classNames.length} scores, got ${a.scores.length}`);
      values.push(row === 0 ? a.cx : row === 1 ? a.cy : row === 2 ? a.w : row === 3 ? a.h : a.scores[row - 4]!);
    }
  }
  const names = `{${classNames.map((n, i) => `${i}: '${n.replace(/'/g, "\\'")}'`).join(', ')}}`;
  const metadata: Array<readonly [string, string]> = [
    ['names', names],
    ['task', 'detect'],
    ['imgsz', `[${size}, ${size}]`],
    ...(spec.metadata ?? []),
  ];
  return { size, channels, anchorCount: anchors.length, values, metadata };
}

/**
 * A real Ultralytics-style YOLOv8 detector (`[1, 4+nc, N]`, `names`/`imgsz` metadata) whose output is a
 * constant: every frame gives the same detections, at a fraction of a millisecond per inference.
 */
export function constantDetector(spec: DetectorModelSpec = {}): Uint8Array {
  const p = detectorParts(spec);
  return buildOnnxModel({
    inputs: [{ name: 'images', dims: [1, 3, p.size, p.size] }],
    outputs: [{ name: 'output0', dims: [1, p.channels, p.anchorCount], constant: p.values }],
    metadata: p.metadata,
  });
}

/**
 * A detector like `constantDetector` that fails at run time on bright frames: the output is gathered
 * from a table of `tableSize` copies of the constant output at index floor(max(pixel) × 10), pixels in
 * 0..1. A mid-grey frame (max 128/255 → index 5) runs; a frame with a pixel of 153 or brighter
 * (index ≥ 6 with the default table) makes ONNX Runtime fail with "indices element out of data bounds".
 */
export function runtimeFailingDetector(spec: DetectorModelSpec & { readonly tableSize?: number } = {}): Uint8Array {
  const p = detectorParts(spec);
  const table = spec.tableSize ?? 6;
  const values: number[] = [];
  for (let i = 0; i < table; i++) values.push(...p.values);
  return buildOnnxModel({
    inputs: [{ name: 'images', dims: [1, 3, p.size, p.size] }],
    nodes: [
      { op: 'ReduceMax', inputs: ['images'], outputs: ['max'], attributes: [{ name: 'keepdims', int: 1 }] },
      {
        op: 'Constant',
        inputs: [],
        outputs: ['ten'],
        attributes: [{ name: 'value', tensor: { type: 'float', dims: [], values: [10] } }],
      },
      { op: 'Mul', inputs: ['max', 'ten'], outputs: ['scaled'] },
      { op: 'Floor', inputs: ['scaled'], outputs: ['floored'] },
      { op: 'Cast', inputs: ['floored'], outputs: ['index4d'], attributes: [{ name: 'to', int: INT64 }] },
      {
        op: 'Constant',
        inputs: [],
        outputs: ['shape1'],
        attributes: [{ name: 'value', tensor: { type: 'int64', dims: [1], values: [1] } }],
      },
      { op: 'Reshape', inputs: ['index4d', 'shape1'], outputs: ['index'] },
      {
        op: 'Constant',
        inputs: [],
        outputs: ['table'],
        attributes: [{ name: 'value', tensor: { type: 'float', dims: [table, p.channels, p.anchorCount], values } }],
      },
      { op: 'Gather', inputs: ['table', 'index'], outputs: ['output0'], attributes: [{ name: 'axis', int: 0 }] },
    ],
    outputs: [{ name: 'output0', dims: [1, p.channels, p.anchorCount], computed: true }],
    metadata: p.metadata,
  });
}
