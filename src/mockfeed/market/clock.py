"""Clocks: where the runtime reads market time from."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """A source of market time in epoch milliseconds."""

    def now_ms(self) -> int:
        """The current market time."""
        ...


class RealClock:
    """Wall-clock UTC time."""

    def now_ms(self) -> int:
        """The current wall-clock time in epoch milliseconds."""
        return time.time_ns() // 1_000_000
