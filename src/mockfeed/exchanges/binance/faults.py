"""Binance's native answers for injected faults, by fault kind (see ``ExchangePlugin.fault_response``).

Binance puts every failure in its ``{"code", "msg"}`` envelope, with a 5XX status for its own side
("the execution status is UNKNOWN"). ccxt 4.5 reads the body before the status: -1001 raises
OperationFailed (the base class of NetworkError), -1007 RequestTimeout, and the maintenance message
OnMaintenance.
"""

from __future__ import annotations

from mockfeed.exchanges.base import FaultKind
from mockfeed.exchanges.binance.errors import BinanceError

FAULTS: dict[str, BinanceError] = {
    # -1001 DISCONNECTED: Binance's transient internal error.
    FaultKind.SERVER_ERROR: BinanceError(
        -1001, "Internal error; unable to process your request. Please try again.", 500
    ),
    # The system-status answer during a maintenance window (code 1, as ccxt's error table records it);
    # that the market endpoints answer the same, and with 503, is UNVERIFIED.
    FaultKind.MAINTENANCE: BinanceError(1, "System is under maintenance.", 503),
    # -1007 TIMEOUT: the gateway gave up waiting for the backend; Binance documents 503 for it.
    FaultKind.TIMEOUT: BinanceError(
        -1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown.", 503
    ),
}
