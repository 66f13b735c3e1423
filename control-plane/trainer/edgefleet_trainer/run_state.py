"""What a training run holds between its steps (prepare, train_epoch, evaluate, checkpoint, export)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .data_yaml import DataConfig
from .dataset import SplitIndex, YoloDataset
from .ema import ModelEMA
from .loss import DetectionLoss
from .model import Detector, ModelConfig
from .schedule import Schedule


@dataclass(frozen=True)
class Setup:
    """Decided once by `prepare`: where the run computes, on what data, from which start."""

    started: float  # time.time() when the run began, for elapsed_s
    device: torch.device
    threads: int
    workers: int
    out: Path
    data: DataConfig
    splits: dict[str, SplitIndex]
    mode: str  # scratch, finetune or resume
    cfg: ModelConfig
    lr0: float
    lrf: float

    @property
    def scale(self) -> str:
        return self.cfg.scale

    @property
    def names(self) -> list[str]:
        return self.data.names

    @property
    def amp(self) -> bool:
        return self.device.type == "cuda"

    @property
    def memory_format(self) -> torch.memory_format:
        # channels_last is the layout tensor cores prefer; on CPU it showed no steady gain and a slow
        # start (oneDNN primitive creation per shape), so the CPU keeps the default layout.
        return torch.channels_last if self.device.type == "cuda" else torch.contiguous_format

    @property
    def last_path(self) -> Path:
        return self.out / "last.pt"

    @property
    def best_path(self) -> Path:
        return self.out / "best.pt"


@dataclass
class Best:
    """The best validation so far (selects best.pt)."""

    fitness: float = -1.0
    epoch: int = 0
    val: dict | None = None

    def offer(self, fitness: float, epoch: int, val: dict) -> bool:
        """Keeps the validation if it beats the best; says whether it did."""
        if fitness <= self.fitness:
            return False
        self.fitness, self.epoch, self.val = fitness, epoch, val
        return True


@dataclass
class RunState:
    setup: Setup
    model: Detector
    params: int
    train_ds: YoloDataset
    val_ds: YoloDataset
    train_loader: torch.utils.data.DataLoader
    val_loader: torch.utils.data.DataLoader
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    ema: ModelEMA
    loss_fn: DetectionLoss
    scaler: torch.cuda.amp.GradScaler
    start_epoch: int = 0
    best: Best = field(default_factory=Best)
    history: list[dict] = field(default_factory=list)
    it_global: int = 0  # optimiser iterations over the whole run (drives the schedule)
    nonfinite: int = 0  # consecutive iterations with a non-finite loss
    epoch_times: list[float] = field(default_factory=list)

    @property
    def iters(self) -> int:
        return len(self.train_loader)


@dataclass
class LossMeter:
    """Running mean of the loss parts over an epoch, and images per second since the last report."""

    sums: torch.Tensor = field(default_factory=lambda: torch.zeros(3))
    seen: int = 0
    window_start: float = field(default_factory=time.time)
    window_images: int = 0

    def add(self, parts: torch.Tensor) -> None:
        self.sums += parts.cpu()
        self.seen += 1

    def means(self) -> list[float]:
        return (self.sums / max(self.seen, 1)).tolist()

    def loss(self) -> dict[str, float]:
        box, cls, dfl = self.means()
        return {"box": box, "cls": cls, "dfl": dfl}

    def images_per_s(self) -> float:
        """Images per second since the last call (or the start), then starts a new window."""
        now = time.time()
        rate = self.window_images / max(now - self.window_start, 1e-9)
        self.window_start, self.window_images = now, 0
        return rate
