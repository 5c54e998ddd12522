"""KuCoin's resource-pool quota as its ``gw-ratelimit-*`` headers report it (not enforced here)."""

from __future__ import annotations

import attrs

WINDOW_MS = 30_000
PUBLIC_POOL = 2000  # per IP and 30 s, shared by every public endpoint of spot and futures


@attrs.frozen
class Quota:
    """The state of one client's pool after a request."""

    limit: int
    remaining: int
    reset_ms: int

    def headers(self) -> tuple[tuple[str, str], ...]:
        """``gw-ratelimit-limit``, ``-remaining`` and ``-reset`` (ms until the window resets)."""
        return (
            ("gw-ratelimit-limit", str(self.limit)),
            ("gw-ratelimit-remaining", str(self.remaining)),
            ("gw-ratelimit-reset", str(self.reset_ms)),
        )


class PoolMeter:
    """Weight used per client in fixed 30-second windows."""

    def __init__(self, limit: int = PUBLIC_POOL, max_clients: int = 10_000) -> None:
        self.limit = limit
        self._used: dict[str, tuple[int, int]] = {}
        self._max_clients = max_clients

    def add(self, client: str, now_ms: int, weight: int) -> Quota:
        """Charge ``weight`` to ``client`` and report what is left of its pool."""
        window = now_ms // WINDOW_MS
        start, used = self._used.get(client, (window, 0))
        if start != window:
            used = 0
        used += weight
        if len(self._used) >= self._max_clients and client not in self._used:
            self._used.clear()
        self._used[client] = (window, used)
        reset = (window + 1) * WINDOW_MS - now_ms
        return Quota(self.limit, max(0, self.limit - used), reset)
