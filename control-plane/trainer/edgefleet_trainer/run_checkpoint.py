"""The checkpoint step: best.pt (EMA weights) and last.pt (EMA weights plus the training state)."""
from __future__ import annotations

import time
from pathlib import Path

from .checkpoint import save_checkpoint
from .run_state import RunState
from .train_options import TrainOptions


def save_run_checkpoint(
    o: TrainOptions, s: RunState, path: Path, *, epoch: int, next_epoch: int, val: dict | None, with_train: bool
) -> None:
    """`epoch`: epochs done; `next_epoch`: where --resume starts; `with_train`: also what resuming needs."""
    u = s.setup
    meta = {
        "epoch": epoch, "val": val, "dataset": str(u.data.yaml_path), "seed": o.seed,
        "scale": u.scale, "saved": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    save_checkpoint(path, model_state=s.ema.ema.state_dict(), cfg=u.cfg, names=u.names, imgsz=o.imgsz, meta=meta,
                    train_state=_train_state(s, next_epoch) if with_train else None)


def _train_state(s: RunState, next_epoch: int) -> dict:
    return {
        "model": s.model.state_dict(),
        "optimizer": s.optimizer.state_dict(),
        "meta": {"next_epoch": next_epoch, "best_fitness": s.best.fitness, "best_epoch": s.best.epoch,
                 "best_val": s.best.val, "ema_updates": s.ema.updates, "history": s.history},
    }
