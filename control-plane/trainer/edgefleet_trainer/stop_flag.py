"""Graceful stop: SIGTERM/SIGINT only set a flag that the training loop checks."""
from __future__ import annotations

import signal
from types import FrameType


class StopFlag:
    """SIGTERM/SIGINT only set a flag; the loop finishes its iteration, saves last.pt, exits 5."""

    def __init__(self) -> None:
        self.signal: int | None = None

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._on)
        signal.signal(signal.SIGINT, self._on)

    def _on(self, signum: int, _frame: FrameType | None) -> None:
        self.signal = signum

    def __bool__(self) -> bool:
        return self.signal is not None

    def name(self) -> str:
        return signal.Signals(self.signal).name if self.signal else "signal"


def worker_sigterm_as_interrupt(_worker_id: int) -> None:
    # A loader worker treats SIGTERM like SIGINT: torch's worker loop then ends quietly (exit 0),
    # so neither a process-group SIGTERM nor multiprocessing's exit-time terminate() looks
    # like a crash to the main process, which saves last.pt and exits 5 itself.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
