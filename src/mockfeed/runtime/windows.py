"""Scheduled maintenance windows (scenario events) applied to an exchange's conditions in market time."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence

import trio

from mockfeed.market.clock import Clock
from mockfeed.runtime.conditions import ConditionsHolder

log = logging.getLogger("mockfeed.windows")

MAX_SLEEP = 1.0  # re-check at least this often: market time may be moved at any moment

Window = tuple[int, int]  # [start, end) in epoch ms, market time


class Follower:
    """Keeps one exchange's ``maintenance`` switched on inside its windows.

    The switch is set when market time enters or leaves a window (also after jumps either way);
    between boundaries it is left alone, so a change made by hand lasts until the next boundary.
    ``inside`` is whether the follower has the switch on (None: it has not touched it yet).
    """

    def __init__(
        self, holder: ConditionsHolder, clock: Clock, windows: Sequence[Window], inside: bool | None = None
    ) -> None:
        self.holder = holder
        self.clock = clock
        self.windows = tuple(windows)
        self.inside = inside
        self.scope = trio.CancelScope()

    def step(self) -> int:
        """Switch maintenance if market time crossed a boundary; returns the market time seen."""
        now = self.clock.now_ms()
        wanted = any(start <= now < end for start, end in self.windows)
        if wanted != self.inside:
            if self.inside is not None or wanted:
                self.holder.update({"maintenance": wanted})
                log.info("%s: maintenance %s", self.holder.exchange, "begins" if wanted else "ends")
            self.inside = wanted
        return now

    async def run(self) -> None:
        """Follow the windows until cancelled (:meth:`stop`)."""
        with self.scope:
            while True:
                now = self.step()
                await trio.sleep(_until_next(self.clock, self.windows, now))

    def stop(self) -> None:
        """Stop following (the switch stays as it is)."""
        self.scope.cancel()


async def follow_windows(holder: ConditionsHolder, clock: Clock, windows: Sequence[Window]) -> None:
    """Keep ``holder``'s ``maintenance`` switched on inside ``windows`` (see :class:`Follower`)."""
    await Follower(holder, clock, windows).run()


class Schedule:
    """Every exchange's maintenance windows, followed from one nursery; replaced as a whole when
    the scenario changes (:meth:`replace`)."""

    def __init__(self, holders: Mapping[str, ConditionsHolder], clock: Clock) -> None:
        self.holders = dict(holders)
        self.clock = clock
        self.followers: dict[str, Follower] = {}
        self._nursery: trio.Nursery | None = None
        self._pending: Mapping[str, Sequence[Window]] = {}

    def start(self, nursery: trio.Nursery) -> None:
        """Follow the windows given so far (and later ones) in ``nursery``."""
        self._nursery = nursery
        self.replace(self._pending)

    def replace(self, windows: Mapping[str, Sequence[Window]]) -> None:
        """Follow ``windows`` (by exchange) instead of the current ones.

        A window in force that the new schedule drops ends at once (maintenance off); one that it
        keeps or adds is in force at once.
        """
        if self._nursery is None:
            self._pending = windows
            return
        for name, holder in self.holders.items():
            old = self.followers.pop(name, None)
            inside = None
            if old is not None:
                old.stop()
                inside = old.inside
            wanted = tuple(windows.get(name, ()))
            follower = Follower(holder, self.clock, wanted, inside)
            if wanted:
                self.followers[name] = follower
                self._nursery.start_soon(follower.run)
            follower.step()  # at once: the next request already sees the new schedule

    def windows(self, exchange: str) -> tuple[Window, ...]:
        """The windows followed for ``exchange``."""
        follower = self.followers.get(exchange)
        return () if follower is None else follower.windows


def _until_next(clock: Clock, windows: Sequence[Window], now: int) -> float:
    """Seconds until market time next crosses a window boundary (capped; a frozen clock waits)."""
    seconds_until = getattr(clock, "seconds_until", None)
    upcoming = [t for window in windows for t in window if t > now]
    if not upcoming or seconds_until is None:
        return MAX_SLEEP
    delay = seconds_until(min(upcoming))
    return MAX_SLEEP if math.isinf(delay) else min(MAX_SLEEP, max(0.001, delay))
