"""Hyperliquid's REST limit: aggregated weight 1200 per minute per IP, over every ``POST /info``.

Weights as documented: ``l2Book``, ``allMids``, ``clearinghouseState``, ``orderStatus``,
``spotClearinghouseState`` and ``exchangeStatus`` 2, ``userRole`` 60, every other info request 20;
``candleSnapshot`` adds 1 per 60 candles it returns (estimated from the requested window, at most
5000 candles). Over the limit: HTTP 429; no body is documented, so mockfeed sends the plain text
``Too Many Requests`` (ccxt raises RateLimitExceeded on the status). A sliding minute of wall time.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import orjson

from mockfeed.exchanges.base import RestRequest, RestResponse
from mockfeed.exchanges.ratelimit import SlidingWindow
from mockfeed.market import Interval

LIMIT = 1200
WINDOW_MS = 60_000
DEFAULT_WEIGHT = 20
WEIGHTS: Mapping[str, int] = MappingProxyType({
    "l2Book": 2, "allMids": 2, "clearinghouseState": 2, "orderStatus": 2,
    "spotClearinghouseState": 2, "exchangeStatus": 2, "userRole": 60,
})
MAX_CANDLES = 5000
TOO_MANY = RestResponse(429, b"Too Many Requests", content_type="text/plain")


def weight(body: bytes, now_ms: int) -> int:
    """The weight of one ``/info`` body (a body that does not parse weighs the default)."""
    try:
        request: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return DEFAULT_WEIGHT
    if not isinstance(request, dict):
        return DEFAULT_WEIGHT
    kind = request.get("type")
    base = WEIGHTS.get(kind, DEFAULT_WEIGHT) if isinstance(kind, str) else DEFAULT_WEIGHT
    if kind == "candleSnapshot":
        return base + _candles(request.get("req"), now_ms) // 60
    return base


def _candles(req: Any, now_ms: int) -> int:
    if not isinstance(req, dict):
        return 0
    start, end, code = req.get("startTime"), req.get("endTime"), req.get("interval")
    if end is None:
        end = now_ms
    if not (isinstance(start, int) and isinstance(end, int) and isinstance(code, str)):
        return 0
    try:
        step = Interval.parse(code).ms
    except ValueError:
        return 0
    if step <= 0:
        return 0
    return max(0, min(MAX_CANDLES, (end - start) // step + 1))


class HyperliquidLimits:
    """The per-IP sliding minute of weight (times are wall ms)."""

    def __init__(self) -> None:
        self.window = SlidingWindow(LIMIT, WINDOW_MS)

    def check(self, request: RestRequest) -> RestResponse | None:
        """None if admitted (and counted), else the 429."""
        cost = weight(request.body, request.now_ms)
        return None if self.window.hit(request.client, request.wall_ms, cost).admitted else TOO_MANY
