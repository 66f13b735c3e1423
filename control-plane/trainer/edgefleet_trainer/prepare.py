"""The first step of a run: check the options, load checkpoint and data, build model and optimiser."""
from __future__ import annotations

import time
from pathlib import Path

import torch
from torch import nn

from . import __version__
from .checkpoint import load_checkpoint
from .data_yaml import DataConfig, load_data_config
from .dataset import SplitIndex, YoloDataset, collate, scan_split
from .device import available_cpus, seed_everything, select_device
from .ema import ModelEMA
from .errors import TrainerError
from .loss import DetectionLoss
from .model import Detector, ModelConfig, count_parameters
from .progress import Progress
from .run_state import RunState, Setup
from .schedule import Schedule, param_groups
from .stop_flag import worker_sigterm_as_interrupt
from .train_options import DEFAULT_SCALE, MAX_CUDA_WORKERS, TrainOptions, mode_defaults, validate_options


def prepare(o: TrainOptions, progress: Progress) -> RunState:
    """Everything before the first iteration; ends with the `start` event."""
    validate_options(o)
    started = time.time()
    device, threads = _compute_on(o)
    out = Path(o.out)
    out.mkdir(parents=True, exist_ok=True)
    # The checkpoint first: it is quick to check, the dataset scan may not be.
    ckpt = load_checkpoint(o.weights or o.resume) if (o.weights or o.resume) else None
    data, splits = load_splits(o.data, progress)
    mode = "resume" if o.resume else "finetune" if o.weights else "scratch"
    model = build_model(o, ckpt, data.names)
    load_weights(o, model, mode=mode, ckpt=ckpt, names=data.names, progress=progress)
    defaults = mode_defaults(mode)
    setup = Setup(
        started=started, device=device, threads=threads, workers=_workers(o, device), out=out, data=data,
        splits=splits, mode=mode, cfg=model.cfg,
        lr0=o.lr0 if o.lr0 is not None else defaults.lr0, lrf=o.lrf if o.lrf is not None else defaults.lrf,
    )
    state = _assemble(o, setup, model)
    if mode == "resume":
        restore(o, state, ckpt, progress)
    _announce(o, state, progress)
    return state


def _compute_on(o: TrainOptions) -> tuple[torch.device, int]:
    """The device and the number of torch CPU threads; seeds every random generator."""
    device = select_device(o.device)
    threads = o.threads or available_cpus()
    torch.set_num_threads(threads)
    seed_everything(o.seed, device)
    return device, threads


def load_splits(path: str, progress: Progress) -> tuple[DataConfig, dict[str, SplitIndex]]:
    cfg = load_data_config(path)
    splits = {}
    for split in ("train", "val", "test"):
        if split in cfg.splits:
            t = time.time()
            splits[split] = s = scan_split(cfg, split)
            progress.log(
                f"{split}: {len(s)} images, {sum(s.instances)} objects, {s.background} background "
                f"({s.missing_label_files} without label file) [{time.time() - t:.1f}s]"
            )
    return cfg, splits


def build_model(o: TrainOptions, ckpt: dict | None, names: list[str]) -> Detector:
    """A fresh detector for the dataset's classes, at the checkpoint's scale when there is one."""
    if ckpt and o.model and o.model != ckpt["cfg"].scale:
        raise TrainerError(
            "TRAINER_ERR_ARGS", f"--model {o.model} conflicts with the checkpoint's scale {ckpt['cfg'].scale}"
        )
    scale = ckpt["cfg"].scale if ckpt else (o.model or DEFAULT_SCALE)
    try:
        model = Detector(ModelConfig(nc=len(names), scale=scale, reg_max=ckpt["cfg"].reg_max if ckpt else 16))
    except ValueError as e:
        raise TrainerError("TRAINER_ERR_ARGS", str(e)) from e
    model.head.init_bias(o.imgsz)
    return model


def load_weights(
    o: TrainOptions, model: Detector, *, mode: str, ckpt: dict | None, names: list[str], progress: Progress
) -> None:
    """--resume: the training weights as they were; --weights: every tensor that fits."""
    if mode == "resume":
        _load_resume_weights(o.resume, model, ckpt, names)
    elif mode == "finetune":
        _transfer(o.weights, model, ckpt, names, progress)


def _load_resume_weights(path: str, model: Detector, ckpt: dict, names: list[str]) -> None:
    if ckpt["train"] is None:
        raise TrainerError(
            "TRAINER_ERR_CHECKPOINT", f"{path}: holds no training state (use last.pt, or --weights to fine-tune)"
        )
    if ckpt["cfg"].nc != model.cfg.nc or ckpt["meta"]["names"] != names:
        raise TrainerError("TRAINER_ERR_CHECKPOINT", f"{path}: classes differ from the dataset's; cannot resume")
    try:
        model.load_state_dict(ckpt["train"]["model"])
    except RuntimeError as e:
        raise TrainerError("TRAINER_ERR_CHECKPOINT", f"{path}: weights do not fit the model: {str(e)[:300]}") from e


def _transfer(path: str, model: Detector, ckpt: dict, names: list[str], progress: Progress) -> None:
    n_ok, n_all = transfer_weights(model, ckpt["model"])
    if n_ok < n_all * 0.5:
        raise TrainerError("TRAINER_ERR_CHECKPOINT", f"{path}: only {n_ok}/{n_all} tensors fit this model")
    progress.log(f"fine-tune: transferred {n_ok}/{n_all} tensors from {path}")
    if ckpt["meta"]["names"] != names:
        progress.log(f"fine-tune: classes change from {ckpt['meta']['names']} to {names}")


def transfer_weights(model: nn.Module, state: dict) -> tuple[int, int]:
    """Copy every tensor whose name and shape match (the class head differs when nc changes)."""
    own = model.state_dict()
    matched = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(matched, strict=False)
    return len(matched), len(own)


def _workers(o: TrainOptions, device: torch.device) -> int:
    if o.workers >= 0:
        return o.workers
    return min(MAX_CUDA_WORKERS, max(1, available_cpus() // 2)) if device.type == "cuda" else 0


def make_loader(
    ds: YoloDataset, o: TrainOptions, device: torch.device, *, shuffle: bool, workers: int
) -> torch.utils.data.DataLoader:
    g = torch.Generator()
    g.manual_seed(o.seed)
    return torch.utils.data.DataLoader(
        ds, batch_size=o.batch, shuffle=shuffle, num_workers=workers, collate_fn=collate,
        generator=g, worker_init_fn=worker_sigterm_as_interrupt if workers else None,
        pin_memory=device.type == "cuda", drop_last=False,
    )


def _assemble(o: TrainOptions, setup: Setup, model: Detector) -> RunState:
    """Datasets, loaders, optimiser, schedule, EMA, loss and scaler around the model (in this order)."""
    model.to(setup.device, memory_format=setup.memory_format)
    train_ds = YoloDataset(setup.splits["train"], o.imgsz, True, o.aug, o.seed, o.cache)
    val_ds = YoloDataset(setup.splits["val"], o.imgsz, False, o.aug, o.seed, o.cache)
    if o.cache:
        train_ds.fill_cache()
        val_ds.fill_cache()
    train_loader = make_loader(train_ds, o, setup.device, shuffle=True, workers=setup.workers)
    val_loader = make_loader(val_ds, o, setup.device, shuffle=False, workers=setup.workers)
    optimizer = torch.optim.AdamW(param_groups(model, o.weight_decay), lr=setup.lr0, betas=(0.937, 0.999))
    warmup = o.warmup_epochs if o.warmup_epochs is not None else mode_defaults(setup.mode).warmup_epochs
    return RunState(
        setup=setup, model=model, params=count_parameters(model), train_ds=train_ds, val_ds=val_ds,
        train_loader=train_loader, val_loader=val_loader, optimizer=optimizer,
        schedule=Schedule(setup.lr0, setup.lrf, o.epochs, len(train_loader), warmup, o.schedule),
        ema=ModelEMA(model), loss_fn=DetectionLoss(model), scaler=torch.cuda.amp.GradScaler(enabled=setup.amp),
    )


def restore(o: TrainOptions, s: RunState, ckpt: dict, progress: Progress) -> None:
    """Optimiser, EMA, epoch counter, best so far and history from last.pt."""
    tr = ckpt["train"]
    try:
        s.optimizer.load_state_dict(tr["optimizer"])
        s.ema.ema.load_state_dict(ckpt["model"])
        s.ema.updates = int(tr["meta"]["ema_updates"])
        s.start_epoch = int(tr["meta"]["next_epoch"])
        s.best.fitness = float(tr["meta"]["best_fitness"])
        s.best.epoch = int(tr["meta"]["best_epoch"])
        s.best.val = tr["meta"].get("best_val")
        s.history = tr["meta"].get("history", [])
    except (ValueError, KeyError, RuntimeError, TypeError) as e:
        raise TrainerError("TRAINER_ERR_CHECKPOINT", f"{o.resume}: training state does not fit: {str(e)[:300]}") from e
    s.it_global = s.start_epoch * s.iters
    if s.start_epoch >= o.epochs:
        # Stopped after the last epoch (before export): only the finishing steps remain.
        progress.log(f"{o.resume}: all {o.epochs} epochs done; finishing (test evaluation, export)")


def _announce(o: TrainOptions, s: RunState, progress: Progress) -> None:
    u = s.setup
    progress.emit(
        "start", version=__version__, mode=u.mode, device=str(u.device), torch=torch.__version__, threads=u.threads,
        workers=u.workers, model={"scale": u.scale, "params": s.params, "nc": u.cfg.nc, "reg_max": u.cfg.reg_max},
        names=u.names, imgsz=o.imgsz, epochs=o.epochs, start_epoch=s.start_epoch, batch=o.batch, iters=s.iters,
        lr0=u.lr0, lrf=u.lrf, seed=o.seed, weights=o.weights or o.resume, data=str(u.data.yaml_path),
        out=str(u.out.resolve()), images={k: len(v) for k, v in u.splits.items()},
        background={k: v.background for k, v in u.splits.items()},
        instances={k: v.instances for k, v in u.splits.items()},
    )
    progress.log(
        f"{u.mode} on {u.device}, {s.params:,} parameters, imgsz {o.imgsz}, {s.iters} iterations/epoch, "
        f"lr0 {u.lr0} lrf {u.lrf}"
    )
