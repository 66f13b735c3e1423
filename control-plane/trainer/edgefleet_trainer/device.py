"""Where the run computes: device choice, CPU count, seeding."""
from __future__ import annotations

import os
import random

import numpy as np
import torch

from .errors import TrainerError


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
