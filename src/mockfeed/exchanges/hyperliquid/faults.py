"""Hyperliquid's native answers for injected faults, by fault kind (see ``ExchangePlugin.fault_response``).

Hyperliquid's API answers errors as bare text with an HTTP status and has no maintenance or timeout
body of its own: an internal error is ``500 Internal Server Error``; when the API is down (outages
and upgrades are reported as bursts of 502 on ``/info``) or too slow, the proxy in front of it answers
with its 502 or 504 page. ccxt goes by the status: ExchangeNotAvailable for 500 and 502,
RequestTimeout for 504.
"""

from __future__ import annotations

from collections.abc import Mapping

from mockfeed.exchanges import gateway
from mockfeed.exchanges.base import FaultKind, RestResponse
from mockfeed.exchanges.hyperliquid.errors import INTERNAL

FAULTS: Mapping[str, RestResponse] = {
    FaultKind.SERVER_ERROR: INTERNAL,
    FaultKind.MAINTENANCE: gateway.BAD_GATEWAY,
    FaultKind.TIMEOUT: gateway.GATEWAY_TIMEOUT,
}
