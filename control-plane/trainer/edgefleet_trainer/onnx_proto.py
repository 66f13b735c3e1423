"""Just enough of the protobuf wire format to add and read ONNX ModelProto metadata
and to read graph input/output shapes, without the `onnx` package.

A serialized protobuf message may be extended by appending fields: repeated fields
concatenate, so appending field 14 entries adds `metadata_props` to a ModelProto.
Field numbers are from onnx/onnx.proto (ModelProto, GraphProto, ValueInfoProto,
TypeProto.Tensor, TensorShapeProto, StringStringEntryProto, OperatorSetIdProto).
"""
from __future__ import annotations

MODEL_GRAPH = 7
MODEL_OPSET_IMPORT = 8
MODEL_METADATA_PROPS = 14
GRAPH_INPUT = 11
GRAPH_OUTPUT = 12
ELEM_FLOAT = 1


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def len_field(field: int, payload: bytes) -> bytes:
    return varint((field << 3) | 2) + varint(len(payload)) + payload


def metadata_entries(props: dict[str, str]) -> bytes:
    """Serialized ModelProto.metadata_props entries (StringStringEntryProto: key=1, value=2)."""
    out = b""
    for k, v in props.items():
        out += len_field(MODEL_METADATA_PROPS, len_field(1, k.encode("utf-8")) + len_field(2, v.encode("utf-8")))
    return out


def fields(buf: bytes):
    """Yield (field number, wire type, value): ints for varint/fixed, bytes for length-delimited."""
    i, n = 0, len(buf)

    def read_varint():
        nonlocal i
        shift = result = 0
        while True:
            if i >= n:
                raise ValueError("truncated varint")
            b = buf[i]
            i += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    while i < n:
        key = read_varint()
        field, wt = key >> 3, key & 7
        if wt == 0:
            yield field, wt, read_varint()
        elif wt == 1:
            yield field, wt, int.from_bytes(buf[i : i + 8], "little")
            i += 8
        elif wt == 2:
            ln = read_varint()
            if i + ln > n:
                raise ValueError("truncated length-delimited field")
            yield field, wt, bytes(buf[i : i + ln])
            i += ln
        elif wt == 5:
            yield field, wt, int.from_bytes(buf[i : i + 4], "little")
            i += 4
        else:
            raise ValueError(f"unsupported wire type {wt}")


def read_metadata(model: bytes) -> dict[str, str]:
    props = {}
    for f, wt, v in fields(model):
        if f == MODEL_METADATA_PROPS and wt == 2:
            kv = {ff: vv for ff, _, vv in fields(v)}
            props[kv.get(1, b"").decode("utf-8")] = kv.get(2, b"").decode("utf-8")
    return props


def read_opset(model: bytes) -> int | None:
    for f, wt, v in fields(model):
        if f == MODEL_OPSET_IMPORT and wt == 2:
            kv = {ff: vv for ff, _, vv in fields(v)}
            if kv.get(1, b"") in (b"", b"ai.onnx"):
                return int(kv.get(2, 0))
    return None


def _value_info(buf: bytes) -> dict:
    name, elem, dims = "", None, []
    for f, _, v in fields(buf):
        if f == 1:
            name = v.decode("utf-8")
        elif f == 2:  # TypeProto
            for tf, _, tv in fields(v):
                if tf == 1:  # tensor_type
                    for ttf, _, ttv in fields(tv):
                        if ttf == 1:
                            elem = ttv
                        elif ttf == 2:  # shape
                            for sf, _, sv in fields(ttv):
                                if sf == 1:  # dim
                                    d = {df: dv for df, _, dv in fields(sv)}
                                    dims.append(d[1] if 1 in d else d.get(2, b"?").decode("utf-8"))
    return {"name": name, "elem_type": elem, "shape": dims}


def read_io(model: bytes) -> dict[str, list[dict]]:
    """Graph inputs and outputs (name, element type, shape). Initializers may appear as inputs too."""
    out = {"inputs": [], "outputs": []}
    for f, wt, v in fields(model):
        if f == MODEL_GRAPH and wt == 2:
            for gf, gwt, gv in fields(v):
                if gf == GRAPH_INPUT and gwt == 2:
                    out["inputs"].append(_value_info(gv))
                elif gf == GRAPH_OUTPUT and gwt == 2:
                    out["outputs"].append(_value_info(gv))
    return out
