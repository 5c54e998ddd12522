"""OKX's public REST limits: requests per 2 seconds per IP, each endpoint counted on its own.

Over the limit OKX answers HTTP 429 ``{"msg":"Too Many Requests","code":"50011"}`` (no ``data``) and
drops the request. The figures are OKX's documented "Rate Limit: N requests per 2 seconds" (ccxt's
costs agree: candles ½, history-candles and instruments 1, time 2, system/status 50 at 10/s).
Counted in sliding windows of wall time. The WebSocket's 480 subscribe/unsubscribe/login requests
per hour per connection are enforced by the session itself (60014), whatever the conditions.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from mockfeed.exchanges.base import RestRequest, RestResponse, json_response
from mockfeed.exchanges.ratelimit import Decision, EndpointLimits, Rule

API = "/api/v5"
RULES: Mapping[str, Rule] = MappingProxyType({
    f"{API}/market/candles": Rule(40, 2_000),
    f"{API}/market/history-candles": Rule(20, 2_000),
    f"{API}/public/instruments": Rule(20, 2_000),
    f"{API}/public/time": Rule(10, 2_000),
    f"{API}/system/status": Rule(1, 5_000),
})


def refuse(decision: Decision, request: RestRequest) -> RestResponse:
    """50011 with HTTP 429."""
    return json_response(429, {"msg": "Too Many Requests", "code": "50011"})


def okx_limits() -> EndpointLimits:
    """A fresh set of counters for one OKX product."""
    return EndpointLimits(RULES, lambda path: path if path in RULES else None, refuse)
