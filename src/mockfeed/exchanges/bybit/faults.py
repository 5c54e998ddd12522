"""Bybit's native answers for injected faults, by fault kind (see ``ExchangePlugin.fault_response``).

Bybit reports backend trouble inside its usual v5 envelope with HTTP 200: ``retCode`` 10016 is both
its "System error" and, with another ``retMsg``, its backend timeout (both bodies are live captures
quoted in ccxt's error table; ccxt raises ``ExchangeError`` for the first and ``RequestTimeout`` for
the second, matching "Request timeout" in the message). A maintenance window is not an API answer
but the gateway's bare HTTP 503 (body UNVERIFIED); ccxt maps the status to ``ExchangeNotAvailable``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from mockfeed.exchanges.base import FaultKind, RestResponse
from mockfeed.exchanges.bybit.errors import SYSTEM, SYSTEM_ERROR, BybitError

#: A fault's answer as a function of the request's market time (the envelope carries ``time``).
Answer = Callable[[int], RestResponse]

REQUEST_TIMEOUT = BybitError("Request timeout, please try again later", SYSTEM_ERROR)
MAINTENANCE = RestResponse(503, b"Service Unavailable", content_type="text/plain")

FAULTS: Mapping[FaultKind, Answer] = MappingProxyType({
    FaultKind.SERVER_ERROR: SYSTEM.response,
    FaultKind.MAINTENANCE: lambda now_ms: MAINTENANCE,
    FaultKind.TIMEOUT: REQUEST_TIMEOUT.response,
})
