"""KuCoin's native answers for injected faults, by fault kind (see ``ExchangePlugin.fault_response``).

A server error is KuCoin's system code ``500000`` with HTTP 500 (ccxt: ``ExchangeNotAvailable``).
KuCoin documents HTTP 503 "temporarily offline for maintenance"; that answer and a gateway timeout
(HTTP 504) come from the gateway, not the API, so they carry no envelope (bodies UNVERIFIED) and ccxt
falls back to the status: ``ExchangeNotAvailable`` for 503, ``RequestTimeout`` for 504. Spot and
futures share the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from mockfeed.exchanges.base import FaultKind, RestResponse
from mockfeed.exchanges.kucoin.errors import INTERNAL

MAINTENANCE = RestResponse(503, b"Service Unavailable", content_type="text/plain")
GATEWAY_TIMEOUT = RestResponse(504, b"Gateway Timeout", content_type="text/plain")

FAULTS: Mapping[FaultKind, RestResponse] = MappingProxyType({
    FaultKind.SERVER_ERROR: INTERNAL.response(),
    FaultKind.MAINTENANCE: MAINTENANCE,
    FaultKind.TIMEOUT: GATEWAY_TIMEOUT,
})
