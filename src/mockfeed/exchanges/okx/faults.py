"""OKX's native answers for injected faults, by fault kind (see ``ExchangePlugin.fault_response``).

Codes and HTTP statuses follow OKX's public error table: 50013 "busy" comes with HTTP 200 (the error is
only in the envelope), 50001 "service temporarily unavailable" with HTTP 503. ccxt raises
ExchangeNotAvailable for 50013 and OnMaintenance (a subclass) for 50001.
"""

from __future__ import annotations

from mockfeed.exchanges.okx.errors import OkxError

FAULTS: dict[str, OkxError] = {
    "server_error": OkxError("50013", "Systems are busy. Please try again later.", 200),
    "maintenance": OkxError("50001", "Service temporarily unavailable. Try again later", 503),
}
