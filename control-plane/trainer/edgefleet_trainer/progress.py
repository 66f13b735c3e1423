"""Progress events as JSON lines on stdout; human logs on stderr.

The real stdout file descriptor is reserved for events: `Progress.claim_stdout()`
duplicates it and points fd 1 at stderr, so stray prints from libraries (the ONNX
exporter, warnings from C++) can never corrupt the event stream.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time
from typing import IO, Any


def _clean(v: Any) -> Any:
    """Make a value JSON-safe: NaN/inf become null, floats are rounded, tensors become numbers."""
    if hasattr(v, "item") and callable(v.item) and getattr(v, "ndim", 1) == 0:
        v = v.item()
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        # 6 significant digits keeps lines short; large values (timestamps) keep milliseconds.
        return float(f"{v:.6g}") if abs(v) < 1e5 else round(v, 3)
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


class Progress:
    def __init__(self, events: IO[str], logs: IO[str]):
        self._events = events
        self._logs = logs

    @staticmethod
    def claim_stdout() -> "Progress":
        sys.stdout.flush()
        events_fd = os.dup(1)
        os.dup2(2, 1)  # anything else written to stdout lands on stderr
        events = os.fdopen(events_fd, "w", buffering=1, encoding="utf-8")
        sys.stdout = sys.stderr
        return Progress(events, sys.stderr)

    def emit(self, event: str, **fields: Any) -> None:
        obj = {"event": event, "time": round(time.time(), 3), **fields}
        self._events.write(json.dumps(_clean(obj), separators=(",", ":")) + "\n")
        self._events.flush()

    def log(self, msg: str) -> None:
        self._logs.write(f"[trainer] {msg}\n")
        self._logs.flush()
