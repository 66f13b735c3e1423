"""ONNX export with the Ultralytics detection contract and metadata.

input  `images`  float32 [1, 3, H, W], RGB, 0..1, letterboxed (centred, pad 114)
output `output0` float32 [1, 4 + nc, N]: cx, cy, w, h in input pixels, then nc
       sigmoid class scores (no objectness); N = sum over strides 8/16/32 of (H/s)*(W/s).
metadata_props as Ultralytics writes them (names as a Python dict literal, imgsz,
stride, task, batch, author, version, description, date) plus `edgefleet_trainer`.
"""
from __future__ import annotations

import copy
import hashlib
import inspect
import io
import os
import warnings
from datetime import datetime, timezone
from pathlib import Path

import torch

from . import __version__
from . import onnx_proto
from .errors import TrainerError
from .model import Detector, num_anchors

OPSET_MIN, OPSET_MAX = 12, 17


def build_metadata(model: Detector, names: list[str], imgsz: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    meta = {
        "description": f"EdgeFleet YOLOv8-style detector (scale {model.cfg.scale}), {len(names)} classes",
        "author": "EdgeFleet",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "version": __version__,
        "stride": str(model.stride),
        "task": "detect",
        "batch": "1",
        "imgsz": str([imgsz, imgsz]),
        # str() of a dict of int -> str is exactly Ultralytics' `{0: 'person', 1: 'car'}` form.
        "names": str({i: n for i, n in enumerate(names)}),
        "edgefleet_trainer": __version__,
    }
    for k, v in (extra or {}).items():
        meta[str(k)] = str(v)
    return meta


def export_onnx(model: Detector, names: list[str], imgsz: int, path: Path, opset: int = 17,
                extra_meta: dict[str, str] | None = None) -> dict:
    if not OPSET_MIN <= opset <= OPSET_MAX:
        raise TrainerError("TRAINER_ERR_ARGS", f"opset must be in [{OPSET_MIN}, {OPSET_MAX}], got {opset}")
    m = copy.deepcopy(model).to("cpu").float().eval()
    for p in m.parameters():
        p.requires_grad_(False)
    dummy = torch.zeros(1, 3, imgsz, imgsz)
    with torch.no_grad():
        expect = tuple(m(dummy).shape)
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():
            # torch 1.13 warns about shape inference of folded constants; verify() checks the result.
            warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
            kwargs = {}
            if "dynamo" in inspect.signature(torch.onnx.export).parameters:
                kwargs["dynamo"] = False  # torch >= 2.9 defaults to the dynamo exporter; keep the TorchScript one
            torch.onnx.export(
                m, dummy, buf, opset_version=opset, input_names=["images"], output_names=["output0"],
                do_constant_folding=True, **kwargs,
            )
    except Exception as e:  # the exporter raises assorted types
        raise TrainerError("TRAINER_ERR_EXPORT", f"torch.onnx.export failed: {e}") from e
    meta = build_metadata(model, names, imgsz, extra_meta)
    data = buf.getvalue() + onnx_proto.metadata_entries(meta)
    info = verify(data, len(names), imgsz, meta)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    if tuple(info["output_shape"]) != expect:
        raise TrainerError("TRAINER_ERR_EXPORT", f"ONNX output shape {info['output_shape']} differs from the model's {list(expect)}")
    return {"path": str(path), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), **info}


def verify(data: bytes, nc: int, imgsz: int, meta: dict[str, str]) -> dict:
    """Re-read the serialized model: input/output names and shapes, and the metadata round trip."""
    try:
        io_ = onnx_proto.read_io(data)
        read_meta = onnx_proto.read_metadata(data)
        opset = onnx_proto.read_opset(data)
    except ValueError as e:
        raise TrainerError("TRAINER_ERR_EXPORT", f"exported ONNX does not parse: {e}") from e
    inputs = [i for i in io_["inputs"] if i["name"] == "images"]
    outputs = io_["outputs"]
    want_in = [1, 3, imgsz, imgsz]
    want_out = [1, 4 + nc, num_anchors(imgsz, imgsz)]
    if not inputs or inputs[0]["shape"] != want_in or inputs[0]["elem_type"] != onnx_proto.ELEM_FLOAT:
        raise TrainerError("TRAINER_ERR_EXPORT", f"exported input is not float32 'images' {want_in}: {inputs}")
    if len(outputs) != 1 or outputs[0]["name"] != "output0" or outputs[0]["shape"] != want_out:
        raise TrainerError("TRAINER_ERR_EXPORT", f"exported output is not 'output0' {want_out}: {outputs}")
    if read_meta != meta:
        raise TrainerError("TRAINER_ERR_EXPORT", "ONNX metadata did not round-trip")
    return {"input_shape": want_in, "output_shape": want_out, "opset": opset, "metadata": read_meta}
