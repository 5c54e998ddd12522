"""Binance's IP limits as data: request weight per minute, 429 then 418 bans, WebSocket message rate.

Weight is counted per client IP in fixed wall-clock minutes (``X-MBX-USED-WEIGHT-1M`` on every
answer). With limits enforced, a request whose weight no longer fits the minute is refused with
HTTP 429 ``-1003`` and ``Retry-After`` (seconds to the next minute) and counts nothing. Binance
bans IPs that keep sending after 429s (HTTP 418, "2 minutes to 3 days") without publishing the
schedule; mockfeed bans at the 10th refusal in a row, for 2 minutes the first time, doubling with
each repeat up to 3 days, and forgets offences 3 days after a ban ends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import attrs

from mockfeed.exchanges.base import Headers, RestRequest, RestResponse, ReuseHeaders, json_response
from mockfeed.exchanges.exchange_type import ExchangeType
from mockfeed.exchanges.ratelimit import Bans, FixedWindow, SlidingWindow, retry_after_s

MINUTE_MS = 60_000
DAY_MS = 86_400_000
HEADER = "X-MBX-USED-WEIGHT-1M"
#: Consecutive 429s after which the next refusal is a ban (mockfeed's choice; Binance gives none).
BAN_STRIKES = 10
#: 2 minutes, doubling, capped at 3 days ("from 2 minutes to 3 days").
BAN_DURATIONS_MS = tuple(min(2 * MINUTE_MS << n, 3 * DAY_MS) for n in range(13))
FORGET_MS = 3 * DAY_MS
#: A WebSocket connection over its message rate is closed with this code and reason.
WS_CLOSE_CODE = 1008
WS_CLOSE_REASON = "Too many requests"


def spot_klines_weight(limit: int) -> int:
    """Spot ``/klines`` and ``/uiKlines``: 2 whatever the limit."""
    return 2


def futures_klines_weight(limit: int) -> int:
    """USDⓈ-M ``/klines`` by ``limit``: [1,100) 1, [100,500) 2, [500,1000] 5, above 10."""
    if limit < 100:
        return 1
    if limit < 500:
        return 2
    return 5 if limit <= 1000 else 10


@attrs.frozen
class Table:
    """One product's limits."""

    weight_per_minute: int
    endpoint_weights: Mapping[str, int]  # path suffix after the product prefix
    klines_weight: Callable[[int], int]
    default_limit: int
    ws_messages_per_second: int
    other_weight: int = 1  # unknown paths and the other products' empty exchangeInfo


SPOT = Table(
    weight_per_minute=6000,
    endpoint_weights=MappingProxyType({"/ping": 1, "/time": 1, "/exchangeInfo": 20}),
    klines_weight=spot_klines_weight,
    default_limit=500,
    ws_messages_per_second=5,
)
PERPETUAL = Table(
    weight_per_minute=2400,
    endpoint_weights=MappingProxyType({"/ping": 1, "/time": 1, "/exchangeInfo": 1}),
    klines_weight=futures_klines_weight,
    default_limit=500,
    ws_messages_per_second=10,
)


class BinanceLimits:
    """Weight meter, refusals and bans of one Binance product (sans-IO; times are wall ms)."""

    def __init__(self, table: Table, prefix: str) -> None:
        self.table = table
        self.prefix = prefix
        self.meter = FixedWindow(table.weight_per_minute, MINUTE_MS)
        self.bans = Bans(BAN_STRIKES, BAN_DURATIONS_MS, FORGET_MS)

    def charge(self, request: RestRequest, weight: int) -> tuple[tuple[str, str], ...]:
        """Count ``weight`` for an answered request; the used-weight header to send with it."""
        return self.charger(weight)(request.client, request.wall_ms, request.now_ms)

    def charger(self, weight: int) -> ReuseHeaders:
        """:meth:`charge` of ``weight`` as a function of the client and times (kept with a reused answer)."""
        meter = self.meter

        def headers(client: str, wall_ms: int, now_ms: int) -> Headers:
            return ((HEADER, str(meter.charge(client, wall_ms, weight))),)

        return headers

    def weight(self, request: RestRequest) -> int:
        """The weight Binance charges for ``request`` (klines by ``limit``)."""
        suffix = request.path[len(self.prefix):] if request.path.startswith(self.prefix) else ""
        if suffix in ("/klines", "/uiKlines"):
            return self.table.klines_weight(_limit(request, self.table.default_limit))
        return self.table.endpoint_weights.get(suffix, self.table.other_weight)

    def check(self, request: RestRequest) -> RestResponse | None:
        """None if ``request`` may be answered, else Binance's 429 or 418 (counting nothing)."""
        key, now = request.client, request.wall_ms
        ban = self.bans.banned(key, now)
        if ban is None:
            decision = self.meter.peek(key, now, self.weight(request))
            if decision.admitted:
                self.bans.admitted(key)
                return None
            ban = self.bans.strike(key, now)
            if ban is None:
                return self._too_much(decision.used, decision.retry_after_ms)
        return self._banned(request, self.meter.used(key, now), ban.until_ms - now)

    def ws_meter(self) -> SlidingWindow:
        """A fresh per-connection meter of incoming WebSocket messages (one key, one second)."""
        return SlidingWindow(self.table.ws_messages_per_second, 1000, max_keys=1)

    def _too_much(self, used: int, retry_ms: int) -> RestResponse:
        msg = (
            f"Too much request weight used; current limit is {self.table.weight_per_minute} request "
            "weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."
        )
        return json_response(
            429, {"code": -1003, "msg": msg},
            ((HEADER, str(used)), ("Retry-After", retry_after_s(retry_ms))),
        )

    def _banned(self, request: RestRequest, used: int, left_ms: int) -> RestResponse:
        until = request.now_ms + left_ms  # in the client's (market) time, like every timestamp
        msg = (
            f"Way too much request weight used; IP banned until {until}. "
            "Please use WebSocket Streams for live updates to avoid bans."
        )
        return json_response(
            418, {"code": -1003, "msg": msg},
            ((HEADER, str(used)), ("Retry-After", retry_after_s(left_ms))),
        )


def _limit(request: RestRequest, default: int) -> int:
    values = [v for k, v in request.query if k == "limit"]
    if len(values) == 1 and values[0].isdigit():
        return int(values[0])
    return default


TABLES: Mapping[ExchangeType, Table] = MappingProxyType(
    {ExchangeType.BINANCE_SPOT: SPOT, ExchangeType.BINANCE_PERPETUAL: PERPETUAL}
)
