"""Limits on option values: each knows its argparse choices and the problem it reports.

The messages name the command-line flag, since that is how people set the options.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class Limit(Protocol):
    def problem(self, flag: str, value: Any) -> str | None:
        """The message for a value outside the limit, else None."""


@dataclass(frozen=True)
class AtLeast:
    low: int

    def problem(self, flag: str, value: Any) -> str | None:
        return None if value >= self.low else f"{flag} must be >= {self.low}, got {value}"


@dataclass(frozen=True)
class Interval:
    low: int
    high: int
    low_open: bool = False
    high_open: bool = False

    def contains(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def __str__(self) -> str:
        return f"{'(' if self.low_open else '['}{self.low}, {self.high}{')' if self.high_open else ']'}"

    def problem(self, flag: str, value: Any) -> str | None:
        return None if self.contains(value) else f"{flag} must be in {self}, got {value}"


@dataclass(frozen=True)
class MultipleOf:
    step: int
    within: Interval

    def problem(self, flag: str, value: Any) -> str | None:
        if value % self.step == 0 and self.within.contains(value):
            return None
        return f"{flag} must be a multiple of {self.step} in {self.within}, got {value}"


@dataclass(frozen=True)
class OneOf:
    choices: tuple[str, ...]

    def problem(self, flag: str, value: Any) -> str | None:
        return None if value in self.choices else f"{flag} must be {' or '.join(self.choices)}, got {value}"
