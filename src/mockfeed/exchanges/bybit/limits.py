"""Bybit's IP limit: 600 requests in any 5-second window, across every endpoint of the host.

A breach answers HTTP 403 with the plain text ``access too frequent`` and bans the IP for 10 minutes
("terminate all HTTP sessions and wait for at least 10 minutes"); every request during the ban gets
the same 403. The ``retCode`` 10006/10018 and ``X-Bapi-Limit*`` headers belong to per-UID (private)
limits, which public market data does not have. ccxt maps HTTP 403 to RateLimitExceeded.
"""

from __future__ import annotations

from mockfeed.exchanges.base import RestRequest, RestResponse
from mockfeed.exchanges.ratelimit import Bans, SlidingWindow

LIMIT = 600
WINDOW_MS = 5_000
BAN_MS = 600_000
FORBIDDEN = RestResponse(403, b"access too frequent", content_type="text/plain")


class BybitLimits:
    """The per-IP sliding window and its 10-minute bans (times are wall ms)."""

    def __init__(self) -> None:
        self.window = SlidingWindow(LIMIT, WINDOW_MS)
        self.bans = Bans(1, (BAN_MS,), forget_ms=BAN_MS)

    def check(self, request: RestRequest) -> RestResponse | None:
        """None if admitted (and counted), else the 403."""
        key, now = request.client, request.wall_ms
        if self.bans.banned(key, now) is not None:
            return FORBIDDEN
        if self.window.hit(key, now).admitted:
            return None
        self.bans.strike(key, now)
        return FORBIDDEN
