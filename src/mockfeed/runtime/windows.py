"""Scheduled maintenance windows (scenario events) applied to an exchange's conditions in market time."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import trio

from mockfeed.market.clock import Clock
from mockfeed.runtime.conditions import ConditionsHolder

log = logging.getLogger("mockfeed.windows")

MAX_SLEEP = 1.0  # re-check at least this often: market time may be moved at any moment


async def follow_windows(holder: ConditionsHolder, clock: Clock, windows: Sequence[tuple[int, int]]) -> None:
    """Keep ``holder``'s ``maintenance`` switched on inside ``windows`` (epoch ms, market time).

    The switch is set when market time enters or leaves a window (also after jumps either way);
    between boundaries it is left alone, so a change made by hand lasts until the next boundary.
    """
    inside: bool | None = None
    while True:
        now = clock.now_ms()
        wanted = any(start <= now < end for start, end in windows)
        if wanted != inside:
            if inside is not None or wanted:
                holder.update({"maintenance": wanted})
                log.info("%s: maintenance %s", holder.exchange, "begins" if wanted else "ends")
            inside = wanted
        await trio.sleep(_until_next(clock, windows, now))


def _until_next(clock: Clock, windows: Sequence[tuple[int, int]], now: int) -> float:
    """Seconds until market time next crosses a window boundary (capped; a frozen clock waits)."""
    seconds_until = getattr(clock, "seconds_until", None)
    upcoming = [t for window in windows for t in window if t > now]
    if not upcoming or seconds_until is None:
        return MAX_SLEEP
    delay = seconds_until(min(upcoming))
    return MAX_SLEEP if math.isinf(delay) else min(MAX_SLEEP, max(0.001, delay))
