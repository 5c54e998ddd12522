"""Per-connection WebSocket fault state: which pushes a connection loses (or gets twice, or late) and
when its messages go out.

Every accepted connection gets a :class:`Lane` with its number (its exchange's connections counted from
0 in accept order, restarting when the conditions are reset), so the draws behind loss and delay are a
pure function of ``(fault_seed, exchange, connection number, push or message number)``. Delays keep the
connection's order: a message never goes out before one queued earlier on the same connection.
"""

from __future__ import annotations

from mockfeed.runtime.conditions import Conditions, check_partial

DROP, DELIVER, DUPLICATE, LATE = 0, 1, 2, 3
#: Condition keys one connection may override (the WebSocket ones).
CONNECTION_KEYS = ("latency_ms", "jitter_ms", "loss", "loss_burst", "duplicate", "late", "late_ms", "stall",
                   "fault_seed")


class Lane:
    """One connection's fault counters: pushes seen, burst left to drop, messages delayed so far."""

    __slots__ = ("_base", "_effective", "burst_left", "messages", "not_before", "number", "overrides", "pushes")

    def __init__(self, number: int) -> None:
        self.number = number
        self.overrides: dict[str, object] | None = None  # this connection's own condition keys
        self._base: Conditions | None = None  # the exchange's conditions _effective was made from
        self._effective: Conditions | None = None
        self.pushes = 0  # pushes offered to this connection (delivered or dropped)
        self.burst_left = 0  # pushes still to drop in the current loss burst
        self.messages = 0  # messages delayed so far (their delay draws)
        self.not_before = 0.0  # monotonic time of the last scheduled message

    def conditions(self, base: Conditions) -> Conditions:
        """The conditions this connection is under: the exchange's, with its own overrides on top."""
        if self.overrides is None:
            return base
        if base is not self._base or self._effective is None:
            self._base, self._effective = base, base.updated(self.overrides)
        return self._effective

    def override(self, change: dict[str, object] | None) -> None:
        """Give this connection its own values of some condition keys (None: the exchange's again).

        Raises ValueError naming a bad key or value; nothing changes then.
        """
        self.overrides = check_partial(change, CONNECTION_KEYS, "per connection") if change else None
        self._base = self._effective = None

    def fate(self, conditions: Conditions, exchange: str) -> int:
        """What happens to the next push offered to this connection: :data:`DROP`, :data:`DELIVER`,
        :data:`DUPLICATE` or :data:`LATE`. Loss is decided first, then lateness, then duplication."""
        number = self.pushes
        self.pushes += 1
        if self.burst_left:
            self.burst_left -= 1
            return DROP
        if conditions.drops(exchange, self.number, number):
            self.burst_left = conditions.loss_burst - 1
            return DROP
        if conditions.is_late(exchange, self.number, number):
            return LATE
        if conditions.duplicates(exchange, self.number, number):
            return DUPLICATE
        return DELIVER

    def delayed(self, share: tuple[int, ...], soonest: float) -> tuple[tuple[int, ...], float]:
        """:meth:`fate` of each push in ``share`` and then :meth:`due` of what is left, under one
        constant delay and no other fault (so every fate is DELIVER unless a loss burst begun
        earlier is still under way): the pushes delivered and when, ``soonest`` or after this
        connection's last scheduled message. One call per fan-out instead of one per push."""
        self.pushes += len(share)
        if self.burst_left:
            dropped = min(self.burst_left, len(share))
            self.burst_left -= dropped
            share = share[dropped:]
            if not share:
                return share, soonest
        self.messages += 1
        at = soonest if soonest >= self.not_before else self.not_before
        self.not_before = at
        return share, at

    def due(self, conditions: Conditions, exchange: str, now: float) -> float:
        """When the next message of this connection goes out (monotonic seconds, never before ``now``
        or a message scheduled earlier)."""
        delay = conditions.ws_delay_ms(exchange, self.number, self.messages)
        self.messages += 1
        at = max(now + delay / 1000, self.not_before)
        self.not_before = at
        return at
