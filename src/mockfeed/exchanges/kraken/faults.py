"""Kraken's native answers for injected faults, by fault kind (see ``ExchangePlugin.fault_response``).

All are Kraken's ``{"error": ["<Category>:<message>"]}`` body. The internal error keeps HTTP 500 (as
the plugin's own handler failures); the service errors come with HTTP 200, like Kraken's other
errors. ``EService:Unavailable`` is Kraken's "API offline" answer, used for maintenance; for a
backend timeout Kraken also documents ``EService:Deadline elapsed``, which ccxt does not map (a bare
``ExchangeError``), so the table answers ``EService:Busy`` instead, which ccxt, like the other two,
maps to ``ExchangeNotAvailable`` (a retryable ``NetworkError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from mockfeed.exchanges.base import FaultKind
from mockfeed.exchanges.kraken.errors import INTERNAL_ERROR, KrakenError

SERVICE_UNAVAILABLE = "EService:Unavailable"
SERVICE_BUSY = "EService:Busy"

FAULTS: Mapping[FaultKind, KrakenError] = MappingProxyType({
    FaultKind.SERVER_ERROR: KrakenError(INTERNAL_ERROR, 500),
    FaultKind.MAINTENANCE: KrakenError(SERVICE_UNAVAILABLE),
    FaultKind.TIMEOUT: KrakenError(SERVICE_BUSY),
})
