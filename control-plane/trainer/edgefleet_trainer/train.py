"""The training run as steps over a RunState: prepare, train_epoch, evaluate, checkpoint, export."""
from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

import torch
from torch import nn

from .errors import TrainerError
from .finish import export
from .metrics import evaluate, fitness
from .prepare import prepare
from .progress import Progress
from .run_checkpoint import save_run_checkpoint
from .run_state import LossMeter, RunState
from .stop_flag import StopFlag
from .train_options import TrainOptions

MAX_NONFINITE = 10  # consecutive iterations with a non-finite loss before the run is declared diverged


class Trainer:
    def __init__(self, opts: TrainOptions, progress: Progress, stop: StopFlag):
        self.o = opts
        self.p = progress
        self.stop = stop

    def run(self) -> dict:
        """Trains, then exports; returns the metrics written to metrics.json."""
        s = prepare(self.o, self.p)
        if self.stop:
            raise self.interrupted(s, s.start_epoch, 0)
        s.model.train()
        for epoch in range(s.start_epoch, self.o.epochs):
            if not self.epoch(s, epoch):
                break
        return export(self.o, s, self.p)

    def epoch(self, s: RunState, epoch: int) -> bool:
        """Trains, validates, checkpoints and reports one epoch; False when training should stop early."""
        t_epoch = time.time()
        meter = self.train_epoch(s, epoch)
        train_s = time.time() - t_epoch
        val, improved = self.evaluate(s, epoch)
        s.history.append({"epoch": epoch + 1, "loss": meter.means(), "mAP50": val and val["mAP50"],
                          "mAP50_95": val and val["mAP50_95"]})
        self.checkpoint(s, epoch + 1, val, improved)
        s.epoch_times.append(time.time() - t_epoch)
        self._emit_epoch(s, epoch, meter, val, improved, train_s)
        if self.stop:
            raise self.interrupted(s, epoch + 1, 0)
        return not self._no_progress(s, epoch)

    # ---- train_epoch ---------------------------------------------------------------------------
    def train_epoch(self, s: RunState, epoch: int) -> LossMeter:
        o = self.o
        s.train_ds.set_epoch(epoch, mosaic=o.aug.mosaic > 0 and epoch < o.epochs - o.close_mosaic)
        meter = LossMeter()
        for i, (imgs, targets, _) in enumerate(self._batches(s, s.train_loader, epoch)):
            lr = self._step(s, epoch, imgs, targets, meter)
            if (i + 1) % o.log_every == 0 or i + 1 == s.iters:
                self.p.emit("iter", epoch=epoch + 1, epochs=o.epochs, iter=i + 1, iters=s.iters, loss=meter.loss(),
                            lr=lr, imgs_per_s=meter.images_per_s())
            if self.stop:
                raise self.interrupted(s, epoch, i + 1)
        return meter

    def _step(self, s: RunState, epoch: int, imgs: torch.Tensor, targets: torch.Tensor, meter: LossMeter) -> float:
        """One optimiser iteration; returns its learning rate."""
        lr = self._set_lr(s)
        u = s.setup
        x = (imgs.to(u.device, non_blocking=True).float() / 255.0).contiguous(memory_format=u.memory_format)
        with torch.autocast(device_type=u.device.type, enabled=u.amp):
            feats = s.model(x)
        loss, parts = s.loss_fn([f.float() for f in feats], targets)
        if torch.isfinite(loss):
            s.nonfinite = 0
            self._backward(s, loss)
            meter.add(parts)
        else:
            self._skip_nonfinite(s, epoch)
        s.it_global += 1
        meter.window_images += len(imgs)
        return lr

    def _set_lr(self, s: RunState) -> float:
        lr, b1 = s.schedule.lr(s.it_global), s.schedule.beta1(s.it_global)
        for g in s.optimizer.param_groups:
            g["lr"] = lr
            g["betas"] = (b1, 0.999)
        return lr

    def _backward(self, s: RunState, loss: torch.Tensor) -> None:
        s.scaler.scale(loss).backward()
        s.scaler.unscale_(s.optimizer)
        nn.utils.clip_grad_norm_(s.model.parameters(), max_norm=10.0)
        s.scaler.step(s.optimizer)
        s.scaler.update()
        s.optimizer.zero_grad(set_to_none=True)
        s.ema.update(s.model)

    def _skip_nonfinite(self, s: RunState, epoch: int) -> None:
        s.nonfinite += 1
        s.optimizer.zero_grad(set_to_none=True)
        if s.nonfinite > MAX_NONFINITE:
            raise TrainerError(
                "TRAINER_ERR_DIVERGED",
                f"non-finite loss in {s.nonfinite} consecutive iterations (epoch {epoch + 1}); try a lower --lr0",
            )
        self.p.log(f"skipping iteration with non-finite loss ({s.nonfinite})")

    def _batches(self, s: RunState, loader: Iterable, epoch: int) -> Iterator:
        """The loader's batches; a loader failure after a stop signal is the interruption itself.

        It always runs the loader to exhaustion, so the shuffling generator advances the same
        way whatever the worker count (the sampler draws once more when it finishes)."""
        it, k = iter(loader), 0
        while True:
            try:
                batch = next(it)
            except StopIteration:
                return
            except Exception:  # RuntimeError, ConnectionResetError, ... from the loader's queues
                if self.stop:  # loader workers stopped by the same signal (process-group SIGTERM)
                    raise self.interrupted(s, epoch, k) from None
                raise
            k += 1
            yield batch

    # ---- evaluate ------------------------------------------------------------------------------
    def evaluate(self, s: RunState, epoch: int) -> tuple[dict | None, bool]:
        """Validates the EMA weights when --val-every (or the last epoch) says so; (val, improved)."""
        if (epoch + 1) % self.o.val_every and epoch + 1 != self.o.epochs:
            return None, False
        try:
            val = evaluate(s.ema.ema, s.val_loader, s.setup.device, s.setup.names)
        except Exception:
            if self.stop:  # as in _batches: the epoch is trained, its validation is lost
                raise self.interrupted(s, epoch + 1, 0) from None
            raise
        return val, s.best.offer(fitness(val), epoch + 1, val)

    # ---- checkpoint ----------------------------------------------------------------------------
    def checkpoint(self, s: RunState, epochs_done: int, val: dict | None, improved: bool) -> None:
        """best.pt when this epoch improved, last.pt always."""
        if improved:
            save_run_checkpoint(self.o, s, s.setup.best_path, epoch=epochs_done, next_epoch=epochs_done, val=val,
                                with_train=False)
        save_run_checkpoint(self.o, s, s.setup.last_path, epoch=epochs_done, next_epoch=epochs_done, val=val,
                            with_train=True)

    def interrupted(self, s: RunState, epoch: int, it: int) -> TrainerError:
        """Saves last.pt so that --resume restarts `epoch`; the error to raise (exit 5)."""
        last = s.setup.last_path
        save_run_checkpoint(self.o, s, last, epoch=epoch, next_epoch=epoch, val=None, with_train=True)
        where = f"in epoch {epoch + 1} after iteration {it}" if it else f"before epoch {epoch + 1}"
        return TrainerError("TRAINER_ERR_INTERRUPTED", f"stopped by {self.stop.name()} {where}; saved {last}",
                            last=str(last), epoch=epoch + 1, iter=it)

    # ---- reporting -----------------------------------------------------------------------------
    def _emit_epoch(self, s: RunState, epoch: int, meter: LossMeter, val: dict | None, improved: bool,
                    train_s: float) -> None:
        recent = s.epoch_times[-3:]
        self.p.emit(
            "epoch", epoch=epoch + 1, epochs=self.o.epochs, loss=meter.loss(), lr=s.optimizer.param_groups[0]["lr"],
            val=None if val is None else {k: val[k] for k in ("mAP50", "mAP50_95", "precision", "recall")},
            fitness=None if val is None else fitness(val), best=improved, best_epoch=s.best.epoch,
            imgs_per_s=len(s.train_ds) / max(train_s, 1e-9), epoch_s=s.epoch_times[-1],
            elapsed_s=time.time() - s.setup.started, eta_s=(self.o.epochs - epoch - 1) * (sum(recent) / len(recent)),
        )

    def _no_progress(self, s: RunState, epoch: int) -> bool:
        """--patience: no improvement for that many epochs (logged when it stops the run)."""
        p = self.o.patience
        if not (p and s.best.epoch and epoch + 1 - s.best.epoch >= p):
            return False
        self.p.log(f"early stop: no improvement for {p} epochs (best epoch {s.best.epoch})")
        return True
