"""MEXC's public REST limits, per endpoint and IP.

Spot v3: 500 weight per 10 s per endpoint (klines, ping and time weigh 1, exchangeInfo 10); over it
HTTP 429 with ``Retry-After`` (the body is UNVERIFIED: mockfeed sends spot's ``{"code","msg"}`` shape
with code 429, which ccxt maps to RateLimitExceeded). Contract v1: 20 requests per 2 s per endpoint;
over it the envelope's business code 510 "Excessive frequency of requests" (HTTP status UNVERIFIED;
200 like every contract error here). Sliding windows of wall time.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from mockfeed.exchanges.base import RestRequest, RestResponse, json_response
from mockfeed.exchanges.mexc import errors
from mockfeed.exchanges.ratelimit import Decision, EndpointLimits, Rule, SlidingWindow, retry_after_s

SPOT_API = "/api/v3"
CONTRACT_API = "/api/v1/contract"
SPOT_RULE = Rule(500, 10_000)
CONTRACT_RULE = Rule(20, 2_000)
SPOT_WEIGHTS: Mapping[str, int] = MappingProxyType({
    f"{SPOT_API}/ping": 1, f"{SPOT_API}/time": 1, f"{SPOT_API}/exchangeInfo": 10, f"{SPOT_API}/klines": 1,
})
CONTRACT_ENDPOINTS = (f"{CONTRACT_API}/ping", f"{CONTRACT_API}/detail", f"{CONTRACT_API}/kline")
RULES: Mapping[str, Rule] = MappingProxyType({
    **{path: SPOT_RULE for path in SPOT_WEIGHTS},
    **{path: CONTRACT_RULE for path in CONTRACT_ENDPOINTS},
})
EXCESSIVE = errors.contract(510, "Excessive frequency of requests")


def route(path: str) -> str | None:
    """The endpoint a path counts against (``/kline/{symbol}`` counts as one endpoint)."""
    if path.startswith(f"{CONTRACT_API}/kline/"):
        return f"{CONTRACT_API}/kline"
    return path if path in RULES else None


def refuse(decision: Decision, request: RestRequest) -> RestResponse:
    """Spot: 429 with Retry-After; contract: business code 510."""
    if request.path.startswith(CONTRACT_API):
        return EXCESSIVE.response()
    return json_response(
        429, {"code": 429, "msg": "Too Many Requests"},
        (("Retry-After", retry_after_s(decision.retry_after_ms)),),
    )


def mexc_limits() -> EndpointLimits:
    """A fresh set of counters for one MEXC product."""
    return EndpointLimits(RULES, route, refuse, lambda request: SPOT_WEIGHTS.get(request.path, 1))


#: Spot WebSocket: incoming messages per second per connection; beyond, the connection is closed
#: (MEXC documents the disconnect, not a close code: 1008 is mockfeed's choice).
WS_MESSAGES_PER_SECOND = 100
WS_CLOSE_CODE = 1008
WS_CLOSE_REASON = "too many messages"


def ws_meter() -> SlidingWindow:
    """A fresh per-connection meter of incoming spot WebSocket messages."""
    return SlidingWindow(WS_MESSAGES_PER_SECOND, 1000, max_keys=1)
