"""Request weight used per client IP in the current minute (``X-MBX-USED-WEIGHT-1M``)."""

from __future__ import annotations


class WeightMeter:
    """Counts weight per client in fixed one-minute windows, as Binance reports it."""

    def __init__(self, max_clients: int = 10_000) -> None:
        self._used: dict[str, tuple[int, int]] = {}
        self._max_clients = max_clients

    def add(self, client: str, now_ms: int, weight: int) -> int:
        """Add ``weight`` for ``client`` and return the minute's total so far."""
        minute = now_ms // 60_000
        window, used = self._used.get(client, (minute, 0))
        if window != minute:
            used = 0
        used += weight
        if len(self._used) >= self._max_clients and client not in self._used:
            self._used.clear()
        self._used[client] = (minute, used)
        return used
