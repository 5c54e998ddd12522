"""Timers and short tasks shared by every connection of an exchange.

An idle connection should cost a few hundred bytes, not a task per duty: its pings and session
ticks are entries in one timer heap, and work that must wait (flushing a full socket, awaiting a
pong, a close handshake) runs as a short task in one shared nursery, only while it waits.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import trio

log = logging.getLogger("mockfeed.ws")


COMPACT_AT = 1024  # cancelled timers tolerated in the heap before it is rebuilt without them


class Timer:
    """A pending call; :meth:`cancel` makes it a no-op."""

    __slots__ = ("_chores", "callback")

    def __init__(self, callback: Callable[[], None] | None, chores: Chores) -> None:
        self.callback = callback
        self._chores = chores

    def cancel(self) -> None:
        """Never run it."""
        if self.callback is not None:
            self.callback = None
            self._chores._cancelled()


class Chores:
    """A timer heap of synchronous callbacks and a nursery for short tasks, run by :meth:`run`.

    Neither a callback nor a task can take the exchange down: their exceptions are logged.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._dead = 0  # cancelled timers still in the heap
        self._order = itertools.count()
        self._nursery: trio.Nursery | None = None
        self._early: list[tuple[Callable[..., Awaitable[None]], tuple[Any, ...]]] = []
        self._sleep: trio.CancelScope | None = None

    def __len__(self) -> int:
        """Timers held, including cancelled ones not yet dropped."""
        return len(self._heap)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Call ``callback()`` once, ``delay`` seconds from now."""
        timer = Timer(callback, self)
        due = trio.current_time() + delay
        heapq.heappush(self._heap, (due, next(self._order), timer))
        if self._sleep is not None and due < self._sleep.deadline:
            self._sleep.deadline = due
        return timer

    def _cancelled(self) -> None:
        # A closed connection's ping is due only an interval later: without this, a reconnect
        # storm would keep rate × interval dead entries around.
        self._dead += 1
        if self._dead > COMPACT_AT and self._dead * 2 > len(self._heap):
            self._heap = [entry for entry in self._heap if entry[2].callback is not None]
            heapq.heapify(self._heap)
            self._dead = 0

    def spawn(self, fn: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Run ``await fn(*args)`` as a task of the shared nursery."""
        if self._nursery is None:
            self._early.append((fn, args))  # before run() has opened the nursery
        else:
            self._nursery.start_soon(_guarded, fn, args)

    async def run(self) -> None:
        """Fire timers as they fall due and host the spawned tasks, until cancelled."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            for fn, args in self._early:
                nursery.start_soon(_guarded, fn, args)
            self._early.clear()
            try:
                await self._fire_forever()
            finally:
                self._nursery = None

    async def _fire_forever(self) -> None:
        while True:
            now = trio.current_time()
            while self._heap and self._heap[0][0] <= now:
                timer = heapq.heappop(self._heap)[2]
                callback, timer.callback = timer.callback, None
                if callback is None:
                    self._dead -= 1
                    continue
                try:
                    callback()
                except Exception:
                    log.exception("a connection timer failed")
            deadline = self._heap[0][0] if self._heap else math.inf
            with trio.CancelScope(deadline=deadline) as self._sleep:
                await trio.sleep_forever()
            self._sleep = None


async def _guarded(fn: Callable[..., Awaitable[None]], args: tuple[Any, ...]) -> None:
    try:
        await fn(*args)
    except Exception:
        log.exception("a connection task failed")
