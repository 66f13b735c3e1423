"""Checkpoint files (best.pt, last.pt): weights plus JSON metadata, loadable with weights_only.

torch 1.13's safe loader (weights_only=True) accepts tensors, ints, strings, lists
and dicts but not floats, so everything that is not a tensor is stored as JSON text.
Loading never unpickles arbitrary objects.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from . import __version__
from .errors import TrainerError
from .model import ModelConfig

FORMAT = "edgefleet-trainer-checkpoint"
FORMAT_VERSION = 1


def _cpu_state(sd: dict) -> dict:
    return {k: v.detach().to("cpu", copy=True) for k, v in sd.items()}


def save_checkpoint(path: Path, *, model_state: dict, cfg: ModelConfig, names: list[str], imgsz: int, meta: dict,
                    train_state: dict | None = None) -> None:
    """Write atomically (temp file + rename), so a kill mid-save never leaves a torn file."""
    obj = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": _cpu_state(model_state),
        "meta": json.dumps({
            "trainer_version": __version__,
            "model_cfg": cfg.to_dict(),
            "names": list(names),
            "imgsz": int(imgsz),
            **meta,
        }),
    }
    if train_state is not None:
        opt = train_state["optimizer"]
        obj["train"] = {
            "model": _cpu_state(train_state["model"]),
            "optimizer_state": opt["state"],
            "optimizer_groups": json.dumps(opt["param_groups"]),
            "meta": json.dumps(train_state["meta"]),
        }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict:
    """Returns {'model': state_dict, 'meta': dict, 'cfg': ModelConfig, 'train': dict | None}."""
    p = Path(path)
    if not p.is_file():
        raise TrainerError("TRAINER_ERR_CHECKPOINT", f"checkpoint {p} does not exist", path=str(p))
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # unpickling raises many types for foreign or corrupt files
        raise TrainerError(
            "TRAINER_ERR_CHECKPOINT",
            f"{p}: not a readable edgefleet checkpoint ({type(e).__name__}: {str(e).splitlines()[-1][:200] if str(e) else ''})",
            path=str(p),
        ) from e
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise TrainerError(
            "TRAINER_ERR_CHECKPOINT",
            f"{p}: not an edgefleet trainer checkpoint (Ultralytics .pt files are not supported; export them to ONNX instead)",
            path=str(p),
        )
    if obj.get("format_version") != FORMAT_VERSION:
        raise TrainerError("TRAINER_ERR_CHECKPOINT", f"{p}: unsupported checkpoint format version {obj.get('format_version')}", path=str(p))
    try:
        meta = json.loads(obj["meta"])
        cfg = ModelConfig.from_dict(meta["model_cfg"])
        train = None
        if "train" in obj:
            t = obj["train"]
            groups = json.loads(t["optimizer_groups"])
            train = {
                "model": t["model"],
                "optimizer": {"state": t["optimizer_state"], "param_groups": groups},
                "meta": json.loads(t["meta"]),
            }
    except (KeyError, TypeError, ValueError) as e:
        raise TrainerError("TRAINER_ERR_CHECKPOINT", f"{p}: checkpoint metadata is incomplete: {e}", path=str(p)) from e
    return {"model": obj["model"], "meta": meta, "cfg": cfg, "train": train}
