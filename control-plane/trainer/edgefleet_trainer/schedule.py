"""Optimiser parameter groups and the per-iteration learning-rate schedule."""
from __future__ import annotations

import math

from torch import nn


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
