"""KuCoin's resource-pool quota as its ``gw-ratelimit-*`` headers report it, and its refusal.

With rate limits enforced, a request whose weight no longer fits the client's pool is refused with
HTTP 429 ``{"code":"429000","msg":"Too many requests."}`` and the pool's headers, counting nothing.
The pool is counted in 30-second windows of the market clock, the time its ``gw-ratelimit-reset``
counts down in (real time at the default speed).
"""

from __future__ import annotations

import attrs

from mockfeed.exchanges.base import RestResponse, json_response

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

    def refusal(self, client: str, now_ms: int, weight: int) -> RestResponse | None:
        """KuCoin's 429000 if ``weight`` no longer fits ``client``'s pool, else None (counting nothing)."""
        window = now_ms // WINDOW_MS
        start, used = self._used.get(client, (window, 0))
        if start != window:
            used = 0
        if used + weight <= self.limit:
            return None
        quota = Quota(self.limit, max(0, self.limit - used), (window + 1) * WINDOW_MS - now_ms)
        return json_response(429, {"code": "429000", "msg": "Too many requests."}, quota.headers())

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
