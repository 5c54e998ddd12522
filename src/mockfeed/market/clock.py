"""Clocks: where the runtime reads market time from.

The runtime reads market time only through :meth:`Clock.now_ms`. :class:`RealClock` is the wall
clock. :class:`ScaledClock` runs market time from a start at ``speed`` times the pace of a time
source, and can be moved while running (:meth:`~ScaledClock.advance`, :meth:`~ScaledClock.set_time`,
:meth:`~ScaledClock.set_speed`). Its source is injected: ``time.monotonic`` by default, or trio's
``current_time`` (the runtime's choice), which makes market time follow trio's clock, virtual under
``trio.testing.MockClock``. This module stays pure: no I/O, no trio.
"""

from __future__ import annotations

import datetime as _dt
import math
import time
from collections.abc import Callable
from typing import Protocol

from mockfeed.market.model import DEFAULT_HISTORY_START_MS

EARLIEST_MS = DEFAULT_HISTORY_START_MS  # 2017-01-01T00:00:00Z: the first candle served
LATEST_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z: market time stops here (the model goes further)
MAX_SPEED = 100_000.0  # a day of market time in under a second

#: A time source: seconds as a float, never decreasing (its origin does not matter).
Source = Callable[[], float]


class Clock(Protocol):
    """A source of market time in epoch milliseconds."""

    def now_ms(self) -> int:
        """The current market time."""
        ...


def wall_ms() -> int:
    """The wall-clock time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


class RealClock:
    """Wall-clock UTC time; cannot be moved."""

    def now_ms(self) -> int:
        """The current wall-clock time in epoch milliseconds."""
        return wall_ms()

    def seconds_until(self, ms: int) -> float:
        """Seconds until the wall clock reaches ``ms``."""
        return max(0.0, (ms - wall_ms()) / 1000)


class ScaledClock:
    """Market time that runs ``speed`` times as fast as ``source``, from ``start_ms``; movable.

    The clock starts on :meth:`start` or its first use, whichever comes first: market time is then
    ``start_ms`` (None: the wall-clock time at that moment) and runs on at ``speed`` (0 freezes it).
    Market time never runs backwards except through :meth:`set_time`, and stays within
    :data:`EARLIEST_MS` … :data:`LATEST_MS`.
    """

    def __init__(
        self, *, start_ms: int | None = None, speed: float = 1.0, source: Source = time.monotonic
    ) -> None:
        self._start_ms = None if start_ms is None else check_time(start_ms)
        self._speed = check_speed(speed)
        self._source = source
        self._anchor_s: float | None = None  # source reading at which market time was _anchor_ms
        self._anchor_ms = 0
        self._watchers: list[Callable[[], None]] = []

    def watch(self, watcher: Callable[[], None]) -> None:
        """Call ``watcher()`` after every move (advance, set_time, set_speed): schedules depend on it."""
        self._watchers.append(watcher)

    def _moved(self) -> None:
        for watcher in self._watchers:
            watcher()

    def __repr__(self) -> str:
        if self._anchor_s is None:  # reading it would start it
            return f"ScaledClock(start_ms={self._start_ms}, speed={self._speed}, not started)"
        return f"ScaledClock(now_ms={self.now_ms()}, speed={self._speed})"

    @property
    def speed(self) -> float:
        """Market milliseconds per source millisecond (1 = real pace, 0 = frozen)."""
        return self._speed

    def start(self, started_at_wall_ms: int | None = None) -> int:
        """Start the clock if it has not started yet; returns the market time.

        ``started_at_wall_ms`` says when (wall clock) market time was ``start_ms``, so processes
        started at different moments agree (several workers serving one market): market time is
        then ``start_ms + (now - started_at_wall_ms) * speed``.
        """
        if self._anchor_s is None and started_at_wall_ms is not None:
            self._anchor_s = self._source()
            base = started_at_wall_ms if self._start_ms is None else self._start_ms
            elapsed = max(0, wall_ms() - started_at_wall_ms) * self._speed
            self._anchor_ms = min(base + math.floor(elapsed), LATEST_MS)
        return self.now_ms()

    def now_ms(self) -> int:
        """The current market time in epoch milliseconds."""
        return self._at(self._read())

    def advance(self, ms: int) -> int:
        """Move market time forward by ``ms`` milliseconds (≥ 0); returns the new market time."""
        ms = _whole(ms)
        if ms < 0:
            raise ValueError(
                f"cannot advance by {ms} ms: market time never runs backwards (set the time instead)"
            )
        now = self._at(self._read())
        check_time(now + ms)
        self._anchor_ms += ms
        self._moved()
        return now + ms

    def set_time(self, ms: int) -> int:
        """Make the market time ``ms`` (epoch milliseconds), forwards or backwards; returns it."""
        ms = check_time(ms)
        self._anchor_s = self._read()
        self._anchor_ms = ms
        self._moved()
        return ms

    def set_speed(self, speed: float) -> int:
        """Run market time at ``speed`` from now on, without a jump; returns the market time."""
        speed = check_speed(speed)
        s = self._read()
        now = self._at(s)
        self._anchor_s, self._anchor_ms, self._speed = s, now, speed
        self._moved()
        return now

    def seconds_until(self, ms: int) -> float:
        """Source seconds until market time reaches ``ms`` at the current speed (inf when frozen)."""
        left = ms - self.now_ms()
        if left <= 0:
            return 0.0
        return math.inf if self._speed == 0 else left / (self._speed * 1000)

    def _read(self) -> float:
        s = self._source()
        if self._anchor_s is None:
            self._anchor_s = s
            self._anchor_ms = wall_ms() if self._start_ms is None else self._start_ms
        return s

    def _at(self, s: float) -> int:
        assert self._anchor_s is not None
        elapsed = max(0.0, s - self._anchor_s) * self._speed * 1000
        return min(self._anchor_ms + math.floor(elapsed), LATEST_MS)


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number of milliseconds, got {value!r}")
    return value


def check_time(ms: int) -> int:
    """``ms`` if it is an epoch-millisecond time the market serves, else :class:`ValueError`."""
    ms = _whole(ms)
    if not EARLIEST_MS <= ms <= LATEST_MS:
        raise ValueError(
            f"{ms} is outside the market's time span {EARLIEST_MS} … {LATEST_MS} "
            f"({format_time(EARLIEST_MS)} … {format_time(LATEST_MS)})"
        )
    return ms


def check_speed(speed: float) -> float:
    """``speed`` as a float if it is a usable clock speed (0 … :data:`MAX_SPEED`), else ValueError."""
    if isinstance(speed, bool) or not isinstance(speed, int | float):
        raise ValueError(f"expected a number, got {speed!r}")
    if not 0 <= speed <= MAX_SPEED:  # also refuses NaN
        raise ValueError(f"{speed!r} is outside the speed range 0 … {MAX_SPEED:g} (0 freezes market time)")
    return float(speed)


def parse_time(value: int | str | _dt.datetime) -> int:
    """Epoch milliseconds from epoch ms, an ISO 8601 string or a datetime (naive means UTC).

    ``2024-01-01``, ``2024-01-01T00:00:00Z`` and ``2024-01-01T08:00:00+08:00`` all give
    1704067200000. Raises :class:`ValueError` with the expected form for anything else.
    """
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"not an ISO 8601 time: {value!r} (expected e.g. 2024-01-01T00:00:00Z)"
            ) from None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        return check_time(round(value.timestamp() * 1000))
    return check_time(value)


def format_time(ms: int) -> str:
    """``ms`` as ISO 8601 UTC with milliseconds, e.g. ``2024-01-01T00:00:00.000Z``."""
    moment = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC) + _dt.timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
