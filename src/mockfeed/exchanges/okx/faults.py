"""OKX's native answers for injected faults, by fault kind (see ``ExchangePlugin.fault_response``).

Codes and HTTP statuses follow OKX's public error table: 50013 "busy" comes with HTTP 200 (the error is
only in the envelope), 50001 "service temporarily unavailable" with HTTP 503, 50004 "endpoint request
timeout" with HTTP 400. ccxt raises ExchangeNotAvailable for 50013, OnMaintenance (a subclass) for
50001 and RequestTimeout for 50004.
"""

from __future__ import annotations

from mockfeed.exchanges.base import FaultKind
from mockfeed.exchanges.okx.errors import OkxError

FAULTS: dict[str, OkxError] = {
    FaultKind.SERVER_ERROR: OkxError("50013", "Systems are busy. Please try again later.", 200),
    FaultKind.MAINTENANCE: OkxError("50001", "Service temporarily unavailable. Try again later", 503),
    FaultKind.TIMEOUT: OkxError(
        "50004",
        "Endpoint request timeout (does not mean that the request was successful or failed, "
        "please check the request result)",
        400,
    ),
}
