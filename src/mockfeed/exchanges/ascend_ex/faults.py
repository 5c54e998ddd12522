"""AscendEX's native answers for injected faults, by fault kind (see ``ExchangePlugin.fault_response``).

A server error is the documented ``510001 SERVER_ERROR`` in AscendEX's envelope (ccxt 4.5.63, the
last with AscendEX: ExchangeError). AscendEX documents no maintenance or timeout code, so those are
the proxy's 503 and 504 pages (ccxt would go by the status: ExchangeNotAvailable, RequestTimeout).
"""

from __future__ import annotations

from collections.abc import Mapping

from mockfeed.exchanges import gateway
from mockfeed.exchanges.ascend_ex.errors import SERVER_ERROR
from mockfeed.exchanges.base import FaultKind, RestResponse

FAULTS: Mapping[str, RestResponse] = {
    FaultKind.SERVER_ERROR: SERVER_ERROR.response(),
    FaultKind.MAINTENANCE: gateway.UNAVAILABLE,
    FaultKind.TIMEOUT: gateway.GATEWAY_TIMEOUT,
}
