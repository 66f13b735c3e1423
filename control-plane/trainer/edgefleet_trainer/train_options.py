"""The options of `train`: one dataclass holds every default, limit and help text.

The `train` command line is derived from it (option_flags), so a default or a limit
changes here and nowhere else.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from .augment import AugmentConfig
from .errors import TrainerError
from .export_onnx import OPSET_MAX, OPSET_MIN
from .limits import AtLeast, Interval, MultipleOf, OneOf
from .model import SCALES
from .option_flags import flag_problems, option

IMGSZ = MultipleOf(32, Interval(64, 1280))
DEFAULT_SCALE = "n"
MAX_CUDA_WORKERS = 8


@dataclass(frozen=True)
class ModeDefaults:
    """Defaults that depend on how the run starts: from scratch, or from a checkpoint."""

    lr0: float
    lrf: float
    warmup_epochs: float


SCRATCH = ModeDefaults(lr0=0.002, lrf=0.05, warmup_epochs=3.0)
FINETUNE = ModeDefaults(lr0=0.001, lrf=0.01, warmup_epochs=1.0)


def mode_defaults(mode: str) -> ModeDefaults:
    """`scratch` has its own; `finetune` and `resume` share the fine-tune ones."""
    return SCRATCH if mode == "scratch" else FINETUNE


def meta_pair(s: str) -> tuple[str, str]:
    k, sep, v = s.partition("=")
    if not sep or not k:
        raise argparse.ArgumentTypeError(f"expected key=value, got {s!r}")
    return k, v


_LR = Interval(0, 1, low_open=True)


@dataclass
class TrainOptions:
    data: str = option(help="dataset directory holding data.yaml, or the data.yaml file")
    out: str = option(help="output directory (best.pt, last.pt, model.onnx, metrics.json)")
    weights: str | None = option(None, help="checkpoint to fine-tune from (weights only; a new schedule)")
    resume: str | None = option(None, help="last.pt to continue an interrupted run (same options)")
    epochs: int = option(50, limit=AtLeast(1))
    batch: int = option(16, limit=AtLeast(1))
    imgsz: int = option(320, limit=IMGSZ, help="square input size, a multiple of 32")
    device: str = option("auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    seed: int = option(0)
    workers: int = option(
        -1, help=f"data loader processes; -1: 0 on CPU, up to {MAX_CUDA_WORKERS} on CUDA"
    )
    threads: int = option(0, help="torch CPU threads; 0: every CPU available to the process")
    model: str | None = option(
        None,
        limit=OneOf(tuple(sorted(SCALES))),
        help=f"model scale for training from scratch (default {DEFAULT_SCALE})",
    )
    lr0: float | None = option(
        None, limit=_LR, help=f"initial learning rate (default {SCRATCH.lr0:g}, fine-tune {FINETUNE.lr0:g})"
    )
    lrf: float | None = option(
        None,
        limit=_LR,
        help=f"final learning rate as a fraction of lr0 (default {SCRATCH.lrf:g}, fine-tune {FINETUNE.lrf:g})",
    )
    schedule: str = option("cosine", limit=OneOf(("cosine", "linear")))
    warmup_epochs: float | None = option(
        None, help=f"default {SCRATCH.warmup_epochs:g}, fine-tune {FINETUNE.warmup_epochs:g}"
    )
    weight_decay: float = option(5e-4)
    aug: AugmentConfig = field(default_factory=AugmentConfig)
    close_mosaic: int = option(10, help="no mosaic in the last N epochs")
    cache: bool = option(False, help="decode all images into RAM once")
    log_every: int = option(10, limit=AtLeast(1), help="emit an iter event every N iterations")
    val_every: int = option(1, limit=AtLeast(1))
    patience: int = option(0, help="stop after N epochs without improvement; 0: never")
    opset: int = option(17, limit=Interval(OPSET_MIN, OPSET_MAX), help=f"ONNX opset, {OPSET_MIN}..{OPSET_MAX}")
    meta: dict[str, str] = option(
        default_factory=dict,
        parse=meta_pair,
        repeatable=True,
        collect=dict,
        help="extra ONNX metadata key=value (repeatable)",
    )


def validate_options(o: TrainOptions) -> None:
    """Raises TRAINER_ERR_ARGS listing every problem at once."""
    problems = flag_problems(o)
    if o.weights and o.resume:
        problems.append("--weights and --resume are exclusive")
    if problems:
        raise TrainerError("TRAINER_ERR_ARGS", "; ".join(problems), problems=problems)
