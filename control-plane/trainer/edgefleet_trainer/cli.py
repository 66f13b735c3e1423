"""Command line: `python3 -m edgefleet_trainer {train,val,export} ...` (see CONTRACT.md)."""
from __future__ import annotations

import argparse
import json
import time
import traceback
from pathlib import Path

import torch

from . import __version__
from .augment import AugmentConfig
from .checkpoint import load_checkpoint
from .data_yaml import load_data_config
from .dataset import YoloDataset, collate, scan_split
from .errors import CATALOGUE, EXIT_OK, TrainerError
from .device import available_cpus, select_device
from .export_onnx import export_onnx
from .metrics import evaluate
from .model import Detector
from .option_flags import add_flags, from_flags
from .progress import Progress
from .stop_flag import StopFlag
from .train import Trainer
from .train_options import IMGSZ, TrainOptions


class ArgParser(argparse.ArgumentParser):
    """argparse that raises (so the error becomes a JSON event) instead of printing and exiting."""

    def error(self, message: str):
        raise TrainerError("TRAINER_ERR_ARGS", f"{self.prog}: {message}")


def build_parser() -> ArgParser:
    p = ArgParser(prog="edgefleet_trainer", description="Train, evaluate and export the EdgeFleet detector.")
    p.add_argument("--version", action="version", version=__version__)
    sub = p.add_subparsers(dest="command", parser_class=ArgParser)

    t = sub.add_parser("train", help="train from scratch (default), fine-tune (--weights) or resume (--resume)")
    add_flags(t, TrainOptions)

    v = sub.add_parser("val", help="evaluate a checkpoint on a dataset split")
    v.add_argument("--weights", required=True)
    v.add_argument("--data", required=True)
    v.add_argument("--split", default="val", choices=["train", "val", "test"])
    v.add_argument("--imgsz", type=int, help="default: the checkpoint's")
    add_flags(v, TrainOptions, ["batch", "device", "threads"])
    v.add_argument("--out", help="also write the metrics to this JSON file")

    e = sub.add_parser("export", help="export a checkpoint to ONNX")
    e.add_argument("--weights", required=True)
    e.add_argument("--out", required=True, help="ONNX file to write")
    e.add_argument("--imgsz", type=int, help="default: the checkpoint's")
    add_flags(e, TrainOptions, ["opset", "meta"])
    return p


def _train(a: argparse.Namespace, progress: Progress, stop: StopFlag) -> None:
    Trainer(from_flags(TrainOptions, a), progress, stop).run()


def _load_model(weights: str, device: torch.device) -> tuple[dict, Detector]:
    ckpt = load_checkpoint(weights)
    model = Detector(ckpt["cfg"])
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as e:
        raise TrainerError("TRAINER_ERR_CHECKPOINT", f"{weights}: weights do not fit the model: {str(e)[:300]}") from e
    return ckpt, model.to(device).eval()


def _imgsz(a: argparse.Namespace, ckpt: dict) -> int:
    imgsz = a.imgsz or int(ckpt["meta"]["imgsz"])
    problem = IMGSZ.problem("--imgsz", imgsz)
    if problem:
        raise TrainerError("TRAINER_ERR_ARGS", problem)
    return imgsz


def _val(a: argparse.Namespace, progress: Progress) -> None:
    t0 = time.time()
    device = select_device(a.device)
    torch.set_num_threads(a.threads or available_cpus())
    ckpt, model = _load_model(a.weights, device)
    data = load_data_config(a.data)
    if a.split not in data.splits:
        raise TrainerError("TRAINER_ERR_DATA_YAML", f"{data.yaml_path}: no '{a.split}' split")
    if data.names != ckpt["meta"]["names"]:
        raise TrainerError("TRAINER_ERR_CHECKPOINT", f"{a.weights}: classes {ckpt['meta']['names']} differ from the dataset's {data.names}")
    imgsz = _imgsz(a, ckpt)
    ds = YoloDataset(scan_split(data, a.split), imgsz, False, AugmentConfig())
    loader = torch.utils.data.DataLoader(ds, batch_size=a.batch, shuffle=False, collate_fn=collate)
    m = evaluate(model, loader, device, data.names)
    if a.out:
        Path(a.out).write_text(json.dumps({"split": a.split, "weights": a.weights, "imgsz": imgsz, **m}, indent=2), encoding="utf-8")
    progress.emit("done", split=a.split, imgsz=imgsz, metrics=m, elapsed_s=time.time() - t0)


def _export(a: argparse.Namespace, progress: Progress) -> None:
    ckpt, model = _load_model(a.weights, torch.device("cpu"))
    imgsz = _imgsz(a, ckpt)
    info = export_onnx(model, ckpt["meta"]["names"], imgsz, Path(a.out), a.opset, dict(a.meta))
    progress.emit("done", onnx=info["path"], sha256=info["sha256"], output_shape=info["output_shape"], opset=info["opset"])


def main(argv: list[str] | None = None) -> int:
    progress = Progress.claim_stdout()
    stop = StopFlag()
    stop.install()
    try:
        a = build_parser().parse_args(argv)
        if a.command is None:
            raise TrainerError("TRAINER_ERR_ARGS", "a command is required: train, val or export")
        if a.command == "train":
            _train(a, progress, stop)
        elif a.command == "val":
            _val(a, progress)
        else:
            _export(a, progress)
        return EXIT_OK
    except TrainerError as e:
        progress.log(f"error {e.code}: {e.message}")
        progress.emit("error", code=e.code, exit_code=e.exit_code, message=e.message, **e.details)
        return e.exit_code
    except Exception as e:  # last resort: report, keep the traceback for humans
        traceback.print_exc()
        code = "TRAINER_ERR_INTERNAL"
        progress.emit("error", code=code, exit_code=CATALOGUE[code][0], message=f"{type(e).__name__}: {e}")
        return CATALOGUE[code][0]
