"""Coinbase's native answers for injected faults, by fault kind (see ``ExchangePlugin.fault_response``).

A server error is Advanced Trade's own ``INTERNAL`` body with HTTP 500 (ccxt: ``ExchangeError``, as
for every body carrying an ``error`` key). Maintenance and backend timeouts come from the proxy in
front of the API, not from the API: HTTP 503 (Coinbase documents 503 for maintenance) and HTTP 504
with the proxy's plain-text body (wording UNVERIFIED). Without an ``error`` key ccxt falls back to
the status: ``ExchangeNotAvailable`` for 503, ``RequestTimeout`` for 504.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from mockfeed.exchanges.base import FaultKind, RestResponse
from mockfeed.exchanges.coinbase.errors import INTERNAL

MAINTENANCE = RestResponse(503, b"Service Unavailable", content_type="text/plain")
GATEWAY_TIMEOUT = RestResponse(504, b"upstream request timeout", content_type="text/plain")

FAULTS: Mapping[FaultKind, RestResponse] = MappingProxyType({
    FaultKind.SERVER_ERROR: INTERNAL.response(),
    FaultKind.MAINTENANCE: MAINTENANCE,
    FaultKind.TIMEOUT: GATEWAY_TIMEOUT,
})
