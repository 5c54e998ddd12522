"""Coinbase's public REST limit: about 10 requests per second per IP (UNVERIFIED: from hummingbot and
third parties; the Advanced Trade docs give no public figure).

Over it: HTTP 429. The body is UNVERIFIED for Advanced Trade; mockfeed uses its envelope with the
``rate_limit_exceeded`` id of Coinbase's documented error table (the one ccxt maps to
RateLimitExceeded), and ``{"errors":[{"id":"rate_limit_exceeded",...}]}`` on ``/v2``. A sliding
second of wall time, shared by every endpoint.
"""

from __future__ import annotations

from mockfeed.exchanges.base import RestRequest, RestResponse
from mockfeed.exchanges.coinbase.errors import CoinbaseError, V2Error
from mockfeed.exchanges.ratelimit import SlidingWindow

LIMIT = 10
WINDOW_MS = 1_000
TOO_MANY = CoinbaseError(429, "rate_limit_exceeded", "Too many requests").response()
V2_TOO_MANY = V2Error(429, "rate_limit_exceeded", "Too many requests").response()


class CoinbaseLimits:
    """The per-IP sliding second (times are wall ms)."""

    def __init__(self) -> None:
        self.window = SlidingWindow(LIMIT, WINDOW_MS)

    def check(self, request: RestRequest) -> RestResponse | None:
        """None if admitted (and counted), else the 429 in the API's own shape."""
        if self.window.hit(request.client, request.wall_ms).admitted:
            return None
        return V2_TOO_MANY if request.path.startswith("/v2/") else TOO_MANY
