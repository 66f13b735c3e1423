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
from .export_onnx import OPSET_MAX, OPSET_MIN, export_onnx
from .metrics import evaluate
from .model import SCALES, Detector
from .progress import Progress
from .train import StopFlag, Trainer, TrainOptions, available_cpus, select_device


class ArgParser(argparse.ArgumentParser):
    """argparse that raises (so the error becomes a JSON event) instead of printing and exiting."""

    def error(self, message: str):
        raise TrainerError("TRAINER_ERR_ARGS", f"{self.prog}: {message}")


def _meta_pair(s: str) -> tuple[str, str]:
    k, sep, v = s.partition("=")
    if not sep or not k:
        raise argparse.ArgumentTypeError(f"expected key=value, got {s!r}")
    return k, v


def build_parser() -> ArgParser:
    p = ArgParser(prog="edgefleet_trainer", description="Train, evaluate and export the EdgeFleet detector.")
    p.add_argument("--version", action="version", version=__version__)
    sub = p.add_subparsers(dest="command", parser_class=ArgParser)

    t = sub.add_parser("train", help="train from scratch (default), fine-tune (--weights) or resume (--resume)")
    t.add_argument("--data", required=True, help="dataset directory holding data.yaml, or the data.yaml file")
    t.add_argument("--out", required=True, help="output directory (best.pt, last.pt, model.onnx, metrics.json)")
    t.add_argument("--weights", help="checkpoint to fine-tune from (weights only; a new schedule)")
    t.add_argument("--resume", help="last.pt to continue an interrupted run (same options)")
    t.add_argument("--epochs", type=int, default=50)
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--imgsz", type=int, default=320, help="square input size, a multiple of 32")
    t.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--workers", type=int, default=-1, help="data loader processes; -1: 0 on CPU, up to 8 on CUDA")
    t.add_argument("--threads", type=int, default=0, help="torch CPU threads; 0: every CPU available to the process")
    t.add_argument("--model", choices=sorted(SCALES), help="model scale for training from scratch (default n)")
    t.add_argument("--lr0", type=float, help="initial learning rate (default 0.002, fine-tune 0.001)")
    t.add_argument("--lrf", type=float, help="final learning rate as a fraction of lr0 (default 0.05, fine-tune 0.01)")
    t.add_argument("--schedule", default="cosine", choices=["cosine", "linear"])
    t.add_argument("--warmup-epochs", type=float, help="default 3, fine-tune 1")
    t.add_argument("--weight-decay", type=float, default=5e-4)
    t.add_argument("--hsv-h", type=float, default=0.015)
    t.add_argument("--hsv-s", type=float, default=0.7)
    t.add_argument("--hsv-v", type=float, default=0.4)
    t.add_argument("--fliplr", type=float, default=0.5)
    t.add_argument("--scale", type=float, default=0.5, help="random zoom range: 1 +/- scale")
    t.add_argument("--translate", type=float, default=0.1)
    t.add_argument("--mosaic", type=float, default=0.0, help="probability of a 2x2 mosaic per sample")
    t.add_argument("--close-mosaic", type=int, default=10, help="no mosaic in the last N epochs")
    t.add_argument("--cache", action="store_true", help="decode all images into RAM once")
    t.add_argument("--log-every", type=int, default=10, help="emit an iter event every N iterations")
    t.add_argument("--val-every", type=int, default=1)
    t.add_argument("--patience", type=int, default=0, help="stop after N epochs without improvement; 0: never")
    t.add_argument("--opset", type=int, default=17, help=f"ONNX opset, {OPSET_MIN}..{OPSET_MAX}")
    t.add_argument("--meta", type=_meta_pair, action="append", default=[], help="extra ONNX metadata key=value (repeatable)")

    v = sub.add_parser("val", help="evaluate a checkpoint on a dataset split")
    v.add_argument("--weights", required=True)
    v.add_argument("--data", required=True)
    v.add_argument("--split", default="val", choices=["train", "val", "test"])
    v.add_argument("--imgsz", type=int, help="default: the checkpoint's")
    v.add_argument("--batch", type=int, default=16)
    v.add_argument("--device", default="auto")
    v.add_argument("--threads", type=int, default=0)
    v.add_argument("--out", help="also write the metrics to this JSON file")

    e = sub.add_parser("export", help="export a checkpoint to ONNX")
    e.add_argument("--weights", required=True)
    e.add_argument("--out", required=True, help="ONNX file to write")
    e.add_argument("--imgsz", type=int, help="default: the checkpoint's")
    e.add_argument("--opset", type=int, default=17)
    e.add_argument("--meta", type=_meta_pair, action="append", default=[])
    return p


def _train(a, progress: Progress, stop: StopFlag) -> None:
    opts = TrainOptions(
        data=a.data, out=a.out, weights=a.weights, resume=a.resume, epochs=a.epochs, batch=a.batch, imgsz=a.imgsz,
        device=a.device, seed=a.seed, workers=a.workers, threads=a.threads, lr0=a.lr0, lrf=a.lrf, schedule=a.schedule,
        warmup_epochs=a.warmup_epochs, weight_decay=a.weight_decay, model=a.model,
        aug=AugmentConfig(hsv_h=a.hsv_h, hsv_s=a.hsv_s, hsv_v=a.hsv_v, fliplr=a.fliplr, scale=a.scale,
                          translate=a.translate, mosaic=a.mosaic),
        close_mosaic=a.close_mosaic, cache=a.cache, log_every=a.log_every, val_every=a.val_every,
        patience=a.patience, opset=a.opset, meta=dict(a.meta),
    )
    Trainer(opts, progress, stop).run()


def _load_model(weights: str, device: torch.device):
    ckpt = load_checkpoint(weights)
    model = Detector(ckpt["cfg"])
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as e:
        raise TrainerError("TRAINER_ERR_CHECKPOINT", f"{weights}: weights do not fit the model: {str(e)[:300]}") from e
    return ckpt, model.to(device).eval()


def _imgsz(a, ckpt) -> int:
    imgsz = a.imgsz or int(ckpt["meta"]["imgsz"])
    if imgsz % 32 or not 64 <= imgsz <= 1280:
        raise TrainerError("TRAINER_ERR_ARGS", f"--imgsz must be a multiple of 32 in [64, 1280], got {imgsz}")
    return imgsz


def _val(a, progress: Progress) -> None:
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


def _export(a, progress: Progress) -> None:
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
