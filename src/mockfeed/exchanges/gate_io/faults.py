"""Gate's native answers for injected faults, by fault kind (see ``ExchangePlugin.fault_response``).

Gate's documented server-error labels are ``INTERNAL``, ``SERVER_ERROR`` (both "Internal server
error") and ``TOO_BUSY`` ("Server is too busy at the moment"); ccxt maps all three to
ExchangeNotAvailable. Gate documents no maintenance or timeout label: maintenance answers TOO_BUSY
with 503 (status UNVERIFIED), and a backend timeout is the proxy's 504 page, which ccxt raises as
RequestTimeout.
"""

from __future__ import annotations

from collections.abc import Mapping

from mockfeed.exchanges import gateway
from mockfeed.exchanges.base import FaultKind, RestResponse
from mockfeed.exchanges.gate_io.errors import SERVER_ERROR, GateError

FAULTS: Mapping[str, RestResponse] = {
    FaultKind.SERVER_ERROR: SERVER_ERROR.response(),
    FaultKind.MAINTENANCE: GateError("TOO_BUSY", "Server is too busy at the moment", 503).response(),
    FaultKind.TIMEOUT: gateway.GATEWAY_TIMEOUT,
}
