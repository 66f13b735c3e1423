"""The training run: data, model, optimiser, schedule, EMA, validation, checkpoints, export."""
from __future__ import annotations

import json
import math
import os
import random
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import __version__
from .augment import AugmentConfig
from .checkpoint import load_checkpoint, save_checkpoint
from .data_yaml import DataConfig, load_data_config
from .dataset import SplitIndex, YoloDataset, collate, scan_split
from .ema import ModelEMA
from .errors import TrainerError
from .export_onnx import OPSET_MAX, OPSET_MIN, export_onnx
from .loss import DetectionLoss
from .metrics import evaluate, fitness
from .model import Detector, ModelConfig, count_parameters, num_anchors
from .progress import Progress

IMGSZ_MIN, IMGSZ_MAX = 64, 1280


@dataclass
class TrainOptions:
    data: str
    out: str
    weights: str | None = None
    resume: str | None = None
    epochs: int = 50
    batch: int = 16
    imgsz: int = 320
    device: str = "auto"
    seed: int = 0
    workers: int = -1  # -1: auto
    threads: int = 0  # 0: all CPUs this process may use
    lr0: float | None = None  # None: 0.002 fresh, 0.001 fine-tune
    lrf: float | None = None  # None: 0.05 fresh, 0.01 fine-tune
    schedule: str = "cosine"
    warmup_epochs: float | None = None  # None: 3 fresh, 1 fine-tune
    weight_decay: float = 5e-4
    model: str | None = None  # scale; None: 'n', or the checkpoint's
    aug: AugmentConfig = field(default_factory=AugmentConfig)
    close_mosaic: int = 10
    cache: bool = False
    log_every: int = 10
    val_every: int = 1
    patience: int = 0  # epochs without improvement before stopping early; 0: never
    opset: int = 17
    meta: dict = field(default_factory=dict)


class StopFlag:
    """SIGTERM/SIGINT only set a flag; the loop finishes its iteration, saves last.pt, exits 5."""

    def __init__(self):
        self.signal: int | None = None

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._on)
        signal.signal(signal.SIGINT, self._on)

    def _on(self, signum, _frame) -> None:
        self.signal = signum

    def __bool__(self) -> bool:
        return self.signal is not None


def _worker_sigterm_as_interrupt(_worker_id: int) -> None:
    # A loader worker treats SIGTERM like SIGINT: torch's worker loop then ends quietly (exit 0),
    # so neither a process-group SIGTERM nor multiprocessing's exit-time terminate() looks
    # like a crash to the main process, which saves last.pt and exits 5 itself.
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def select_device(spec: str) -> torch.device:
    if spec == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(spec)
    except RuntimeError as e:
        raise TrainerError("TRAINER_ERR_ARGS", f"--device {spec!r} is not a device (use auto, cpu, cuda or cuda:N)") from e
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise TrainerError("TRAINER_ERR_DEVICE", f"--device {spec}: CUDA is not available to this PyTorch build or machine")
        if (dev.index or 0) >= torch.cuda.device_count():
            raise TrainerError("TRAINER_ERR_DEVICE", f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s)")
    elif dev.type != "cpu":
        raise TrainerError("TRAINER_ERR_DEVICE", f"--device {spec}: only cpu and cuda are supported")
    return dev


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def seed_everything(seed: int, device: torch.device) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    # warn_only: a few CUDA backward kernels (upsample) have no deterministic variant.
    torch.use_deterministic_algorithms(True, warn_only=True)


def validate_options(o: TrainOptions) -> None:
    problems = []
    if o.imgsz % 32 or not IMGSZ_MIN <= o.imgsz <= IMGSZ_MAX:
        problems.append(f"--imgsz must be a multiple of 32 in [{IMGSZ_MIN}, {IMGSZ_MAX}], got {o.imgsz}")
    if o.epochs < 1:
        problems.append(f"--epochs must be >= 1, got {o.epochs}")
    if o.batch < 1:
        problems.append(f"--batch must be >= 1, got {o.batch}")
    if o.weights and o.resume:
        problems.append("--weights and --resume are exclusive")
    if o.schedule not in ("cosine", "linear"):
        problems.append(f"--schedule must be cosine or linear, got {o.schedule}")
    for name in ("lr0", "lrf"):
        v = getattr(o, name)
        if v is not None and not (0 < v <= 1):
            problems.append(f"--{name} must be in (0, 1], got {v}")
    for name in ("fliplr", "mosaic"):
        v = getattr(o.aug, name)
        if not 0 <= v <= 1:
            problems.append(f"--{name} must be in [0, 1], got {v}")
    if not 0 <= o.aug.scale < 1:
        problems.append(f"--scale must be in [0, 1), got {o.aug.scale}")
    if not OPSET_MIN <= o.opset <= OPSET_MAX:
        problems.append(f"--opset must be in [{OPSET_MIN}, {OPSET_MAX}], got {o.opset}")
    if o.log_every < 1 or o.val_every < 1:
        problems.append("--log-every and --val-every must be >= 1")
    if problems:
        raise TrainerError("TRAINER_ERR_ARGS", "; ".join(problems), problems=problems)


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Decay only conv/linear weights; never BatchNorm weights or biases."""
    decay, no_decay_bn, biases = [], [], []
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if name == "bias":
                biases.append(p)
            elif isinstance(module, nn.BatchNorm2d):
                no_decay_bn.append(p)
            else:
                decay.append(p)
    return [
        {"params": no_decay_bn, "weight_decay": 0.0},
        {"params": decay, "weight_decay": weight_decay},
        {"params": biases, "weight_decay": 0.0},
    ]


def transfer_weights(model: nn.Module, state: dict) -> tuple[int, int]:
    """Copy every tensor whose name and shape match (the class head differs when nc changes)."""
    own = model.state_dict()
    matched = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(matched, strict=False)
    return len(matched), len(own)


class Schedule:
    """Per-iteration learning rate: linear warmup, then cosine or linear decay from lr0 to lr0*lrf."""

    def __init__(self, lr0: float, lrf: float, epochs: int, iters_per_epoch: int, warmup_epochs: float, kind: str):
        self.lr0, self.lrf, self.epochs, self.nb, self.kind = lr0, lrf, epochs, iters_per_epoch, kind
        total = epochs * iters_per_epoch
        self.warmup = min(max(round(warmup_epochs * iters_per_epoch), min(100, total // 3)), total // 2) if warmup_epochs > 0 else 0

    def lr(self, it: int) -> float:
        x = min(it / (self.epochs * self.nb), 1.0)
        if self.kind == "cosine":
            f = self.lrf + (1 - self.lrf) * (1 + math.cos(math.pi * x)) / 2
        else:
            f = (1 - x) * (1 - self.lrf) + self.lrf
        lr = self.lr0 * f
        if it < self.warmup:
            lr *= (it + 1) / self.warmup
        return lr

    def beta1(self, it: int) -> float:
        if it < self.warmup:
            return 0.8 + (0.937 - 0.8) * it / self.warmup
        return 0.937


class Trainer:
    def __init__(self, opts: TrainOptions, progress: Progress, stop: StopFlag):
        self.o = opts
        self.p = progress
        self.stop = stop

    # ---- setup -------------------------------------------------------------------------------
    def _load_data(self) -> tuple[DataConfig, dict[str, SplitIndex]]:
        cfg = load_data_config(self.o.data)
        splits = {}
        for split in ("train", "val", "test"):
            if split in cfg.splits:
                t = time.time()
                splits[split] = scan_split(cfg, split)
                s = splits[split]
                self.p.log(
                    f"{split}: {len(s)} images, {sum(s.instances)} objects, {s.background} background "
                    f"({s.missing_label_files} without label file) [{time.time() - t:.1f}s]"
                )
        return cfg, splits

    def _loader(self, ds: YoloDataset, shuffle: bool, workers: int):
        g = torch.Generator()
        g.manual_seed(self.o.seed)
        return torch.utils.data.DataLoader(
            ds, batch_size=self.o.batch, shuffle=shuffle, num_workers=workers, collate_fn=collate,
            generator=g, worker_init_fn=_worker_sigterm_as_interrupt if workers else None,
            pin_memory=self.device.type == "cuda", drop_last=False,
        )

    def run(self) -> dict:
        o = self.o
        validate_options(o)
        t_start = time.time()
        self.device = select_device(o.device)
        threads = o.threads or available_cpus()
        torch.set_num_threads(threads)
        seed_everything(o.seed, self.device)
        out = Path(o.out)
        out.mkdir(parents=True, exist_ok=True)

        # The checkpoint first: it is quick to check, the dataset scan may not be.
        ckpt = load_checkpoint(o.weights or o.resume) if (o.weights or o.resume) else None
        data, splits = self._load_data()
        names = data.names

        mode = "resume" if o.resume else "finetune" if o.weights else "scratch"
        if ckpt and o.model and o.model != ckpt["cfg"].scale:
            raise TrainerError("TRAINER_ERR_ARGS", f"--model {o.model} conflicts with the checkpoint's scale {ckpt['cfg'].scale}")
        scale = ckpt["cfg"].scale if ckpt else (o.model or "n")
        try:
            cfg = ModelConfig(nc=len(names), scale=scale, reg_max=ckpt["cfg"].reg_max if ckpt else 16)
            model = Detector(cfg)
        except ValueError as e:
            raise TrainerError("TRAINER_ERR_ARGS", str(e)) from e
        model.head.init_bias(o.imgsz)

        resume_state = None
        if mode == "resume":
            if ckpt["train"] is None:
                raise TrainerError("TRAINER_ERR_CHECKPOINT", f"{o.resume}: holds no training state (use last.pt, or --weights to fine-tune)")
            if ckpt["cfg"].nc != cfg.nc or ckpt["meta"]["names"] != names:
                raise TrainerError("TRAINER_ERR_CHECKPOINT", f"{o.resume}: classes differ from the dataset's; cannot resume")
            try:
                model.load_state_dict(ckpt["train"]["model"])
            except RuntimeError as e:
                raise TrainerError("TRAINER_ERR_CHECKPOINT", f"{o.resume}: weights do not fit the model: {str(e)[:300]}") from e
            resume_state = ckpt
        elif mode == "finetune":
            n_ok, n_all = transfer_weights(model, ckpt["model"])
            if n_ok < n_all * 0.5:
                raise TrainerError("TRAINER_ERR_CHECKPOINT", f"{o.weights}: only {n_ok}/{n_all} tensors fit this model")
            self.p.log(f"fine-tune: transferred {n_ok}/{n_all} tensors from {o.weights}")
            if ckpt["meta"]["names"] != names:
                self.p.log(f"fine-tune: classes change from {ckpt['meta']['names']} to {names}")

        lr0 = o.lr0 if o.lr0 is not None else (0.002 if mode == "scratch" else 0.001)
        lrf = o.lrf if o.lrf is not None else (0.05 if mode == "scratch" else 0.01)
        warmup = o.warmup_epochs if o.warmup_epochs is not None else (3.0 if mode == "scratch" else 1.0)
        workers = o.workers if o.workers >= 0 else (min(8, max(1, available_cpus() // 2)) if self.device.type == "cuda" else 0)

        # channels_last is the layout tensor cores prefer; on CPU it showed no steady gain and a slow
        # start (oneDNN primitive creation per shape), so the CPU keeps the default layout.
        self.memory_format = torch.channels_last if self.device.type == "cuda" else torch.contiguous_format
        model.to(self.device, memory_format=self.memory_format)
        train_ds = YoloDataset(splits["train"], o.imgsz, True, o.aug, o.seed, o.cache)
        val_ds = YoloDataset(splits["val"], o.imgsz, False, o.aug, o.seed, o.cache)
        if o.cache:
            train_ds.fill_cache()
            val_ds.fill_cache()
        train_loader = self._loader(train_ds, True, workers)
        val_loader = self._loader(val_ds, False, workers)
        nb = len(train_loader)

        opt = torch.optim.AdamW(param_groups(model, o.weight_decay), lr=lr0, betas=(0.937, 0.999))
        sched = Schedule(lr0, lrf, o.epochs, nb, warmup, o.schedule)
        ema = ModelEMA(model)
        loss_fn = DetectionLoss(model)
        amp = self.device.type == "cuda"
        scaler = torch.cuda.amp.GradScaler(enabled=amp)

        start_epoch, best_fit, best_epoch, best_val, history = 0, -1.0, 0, None, []
        if resume_state:
            tr = resume_state["train"]
            try:
                opt.load_state_dict(tr["optimizer"])
                ema.ema.load_state_dict(resume_state["model"])
                ema.updates = int(tr["meta"]["ema_updates"])
                start_epoch = int(tr["meta"]["next_epoch"])
                best_fit = float(tr["meta"]["best_fitness"])
                best_epoch = int(tr["meta"]["best_epoch"])
                best_val = tr["meta"].get("best_val")
                history = tr["meta"].get("history", [])
            except (ValueError, KeyError, RuntimeError, TypeError) as e:
                raise TrainerError("TRAINER_ERR_CHECKPOINT", f"{o.resume}: training state does not fit: {str(e)[:300]}") from e
            if start_epoch >= o.epochs:
                # Stopped after the last epoch (before export): only the finishing steps remain.
                self.p.log(f"{o.resume}: all {o.epochs} epochs done; finishing (test evaluation, export)")

        params = count_parameters(model)
        counts = {k: len(v) for k, v in splits.items()}
        self.p.emit(
            "start", version=__version__, mode=mode, device=str(self.device), torch=torch.__version__, threads=threads,
            workers=workers, model={"scale": scale, "params": params, "nc": cfg.nc, "reg_max": cfg.reg_max},
            names=names, imgsz=o.imgsz, epochs=o.epochs, start_epoch=start_epoch, batch=o.batch, iters=nb, lr0=lr0, lrf=lrf,
            seed=o.seed, weights=o.weights or o.resume, data=str(data.yaml_path), out=str(out.resolve()),
            images=counts, background={k: v.background for k, v in splits.items()},
            instances={k: v.instances for k, v in splits.items()},
        )
        self.p.log(f"{mode} on {self.device}, {params:,} parameters, imgsz {o.imgsz}, {nb} iterations/epoch, lr0 {lr0} lrf {lrf}")

        last_path, best_path = out / "last.pt", out / "best.pt"

        def save(path: Path, epoch_done: int, next_epoch: int, val: dict | None, with_train: bool) -> None:
            meta = {
                "epoch": epoch_done, "val": val, "dataset": str(data.yaml_path), "seed": o.seed,
                "scale": scale, "saved": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            train_state = None
            if with_train:
                train_state = {
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "meta": {"next_epoch": next_epoch, "best_fitness": best_fit, "best_epoch": best_epoch,
                             "best_val": best_val, "ema_updates": ema.updates, "history": history},
                }
            save_checkpoint(path, model_state=ema.ema.state_dict(), cfg=cfg, names=names, imgsz=o.imgsz, meta=meta,
                            train_state=train_state)

        def interrupted(epoch: int, it: int) -> TrainerError:
            save(last_path, epoch, epoch, None, True)
            sig = signal.Signals(self.stop.signal).name if self.stop.signal else "signal"
            where = f"in epoch {epoch + 1} after iteration {it}" if it else f"before epoch {epoch + 1}"
            return TrainerError("TRAINER_ERR_INTERRUPTED", f"stopped by {sig} {where}; saved {last_path}",
                                last=str(last_path), epoch=epoch + 1, iter=it)

        def guarded(loader, epoch: int):
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
                        raise interrupted(epoch, k) from None
                    raise
                k += 1
                yield batch

        it_global = start_epoch * nb
        nonfinite = 0
        epoch_times: list[float] = []
        if self.stop:
            raise interrupted(start_epoch, 0)
        model.train()
        for epoch in range(start_epoch, o.epochs):
            t_epoch = time.time()
            use_mosaic = o.aug.mosaic > 0 and epoch < o.epochs - o.close_mosaic
            train_ds.set_epoch(epoch, mosaic=use_mosaic)
            sums = torch.zeros(3)
            seen, t_win, n_win = 0, time.time(), 0
            for i, (imgs, targets, _) in enumerate(guarded(train_loader, epoch)):
                lr, b1 = sched.lr(it_global), sched.beta1(it_global)
                for g in opt.param_groups:
                    g["lr"] = lr
                    g["betas"] = (b1, 0.999)
                x = (imgs.to(self.device, non_blocking=True).float() / 255.0).contiguous(memory_format=self.memory_format)
                with torch.autocast(device_type=self.device.type, enabled=amp):
                    feats = model(x)
                loss, parts = loss_fn([f.float() for f in feats], targets)
                if not torch.isfinite(loss):
                    nonfinite += 1
                    opt.zero_grad(set_to_none=True)
                    if nonfinite > 10:
                        raise TrainerError("TRAINER_ERR_DIVERGED", f"non-finite loss in {nonfinite} consecutive iterations (epoch {epoch + 1}); try a lower --lr0")
                    self.p.log(f"skipping iteration with non-finite loss ({nonfinite})")
                else:
                    nonfinite = 0
                    scaler.scale(loss).backward()
                    scaler.unscale_(opt)
                    nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
                    scaler.step(opt)
                    scaler.update()
                    opt.zero_grad(set_to_none=True)
                    ema.update(model)
                    sums += parts.cpu()
                    seen += 1
                it_global += 1
                n_win += len(imgs)
                if (i + 1) % o.log_every == 0 or i + 1 == nb:
                    now = time.time()
                    mean = (sums / max(seen, 1)).tolist()
                    self.p.emit("iter", epoch=epoch + 1, epochs=o.epochs, iter=i + 1, iters=nb,
                                loss={"box": mean[0], "cls": mean[1], "dfl": mean[2]}, lr=lr,
                                imgs_per_s=n_win / max(now - t_win, 1e-9))
                    t_win, n_win = now, 0
                if self.stop:
                    raise interrupted(epoch, i + 1)
            train_s = time.time() - t_epoch

            mean = (sums / max(seen, 1)).tolist()
            val = None
            improved = False
            if (epoch + 1) % o.val_every == 0 or epoch + 1 == o.epochs:
                try:
                    val = evaluate(ema.ema, val_loader, self.device, names)
                except Exception:
                    if self.stop:  # as above: the epoch is trained, its validation is lost
                        raise interrupted(epoch + 1, 0) from None
                    raise
                fit = fitness(val)
                if fit > best_fit:
                    best_fit, best_epoch, best_val, improved = fit, epoch + 1, val, True
            history.append({"epoch": epoch + 1, "loss": mean, "mAP50": val and val["mAP50"], "mAP50_95": val and val["mAP50_95"]})
            if improved:
                save(best_path, epoch + 1, epoch + 1, val, False)
            save(last_path, epoch + 1, epoch + 1, val, True)
            epoch_times.append(time.time() - t_epoch)
            remaining = o.epochs - epoch - 1
            self.p.emit(
                "epoch", epoch=epoch + 1, epochs=o.epochs, loss={"box": mean[0], "cls": mean[1], "dfl": mean[2]},
                lr=opt.param_groups[0]["lr"], val=None if val is None else {k: val[k] for k in ("mAP50", "mAP50_95", "precision", "recall")},
                fitness=None if val is None else fitness(val), best=improved, best_epoch=best_epoch,
                imgs_per_s=len(train_ds) / max(train_s, 1e-9), epoch_s=epoch_times[-1],
                elapsed_s=time.time() - t_start, eta_s=remaining * (sum(epoch_times[-3:]) / len(epoch_times[-3:])),
            )
            if self.stop:
                raise interrupted(epoch + 1, 0)
            if o.patience and best_epoch and epoch + 1 - best_epoch >= o.patience:
                self.p.log(f"early stop: no improvement for {o.patience} epochs (best epoch {best_epoch})")
                break

        # ---- finish: best weights -> ONNX and metrics -----------------------------------------
        if not best_path.exists():  # e.g. resumed after the last validation
            save(best_path, o.epochs, o.epochs, best_val, False)
        best = load_checkpoint(best_path)
        final = Detector(cfg)
        final.load_state_dict(best["model"])
        final.to(self.device).eval()
        # The finishing steps load data in-process: a signal now cannot break a loader, the run completes.
        test_metrics = None
        if "test" in splits:
            test_ds = YoloDataset(splits["test"], o.imgsz, False, o.aug, o.seed, False)
            test_metrics = evaluate(final, self._loader(test_ds, False, 0), self.device, names)
        if best_val is None:
            best_val = evaluate(final, self._loader(val_ds, False, 0), self.device, names)
        onnx_path = out / "model.onnx"
        info = export_onnx(final, names, o.imgsz, onnx_path, o.opset, {**o.meta, "dataset": data.yaml_path.parent.name})
        self.p.log(f"exported {onnx_path} ({info['bytes']:,} bytes, output {info['output_shape']}, opset {info['opset']})")

        elapsed = time.time() - t_start
        metrics = {
            "trainer": "edgefleet_trainer", "version": __version__,
            "dataset": {"yaml": str(data.yaml_path), "root": str(data.root), "nc": len(names), "names": names, "images": counts,
                        "instances": {k: v.instances for k, v in splits.items()}},
            "model": {"arch": f"edgefleet-yolov8-{scale}", "scale": scale, "params": params, "imgsz": o.imgsz,
                      "reg_max": cfg.reg_max, "strides": list(final.head.strides), "anchors": num_anchors(o.imgsz, o.imgsz)},
            "train": {"mode": mode, "weights": o.weights or o.resume, "epochs": o.epochs, "epochs_completed": len(history),
                      "best_epoch": best_epoch, "batch": o.batch, "seed": o.seed, "lr0": lr0, "lrf": lrf, "schedule": o.schedule,
                      "augment": asdict(o.aug), "device": str(self.device), "threads": threads, "elapsed_s": elapsed,
                      "history": history},
            "val": best_val,
            "test": test_metrics,
            "onnx": {k: info[k] for k in ("path", "sha256", "bytes", "opset", "input_shape", "output_shape")},
        }
        metrics_path = out / "metrics.json"
        tmp = metrics_path.with_name("metrics.json.tmp")
        tmp.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
        os.replace(tmp, metrics_path)

        summary = {"val": {k: best_val[k] for k in ("mAP50", "mAP50_95")},
                   "test": None if test_metrics is None else {k: test_metrics[k] for k in ("mAP50", "mAP50_95")},
                   "best_epoch": best_epoch, "params": params}
        self.p.emit("done", best=str(best_path), last=str(last_path), onnx=str(onnx_path), metrics_file=str(metrics_path),
                    sha256=info["sha256"], metrics=summary, elapsed_s=elapsed)
        return metrics
