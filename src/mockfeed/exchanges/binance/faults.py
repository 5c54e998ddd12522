"""Binance's native answers for injected faults, by fault kind (see ``ExchangePlugin.fault_response``)."""

from __future__ import annotations

from mockfeed.exchanges.binance.errors import BinanceError

# -1001 DISCONNECTED: Binance's transient "internal error" (5XX statuses are Binance-side failures;
# ccxt maps -1001 to ExchangeError/OperationFailed and retries nothing on its own).
FAULTS: dict[str, BinanceError] = {
    "server_error": BinanceError(
        -1001, "Internal error; unable to process your request. Please try again.", 500
    ),
}
