"""Bybit's native error bodies: HTTP 200 with a non-zero ``retCode`` in the usual v5 envelope."""

from __future__ import annotations

from mockfeed.exchanges.base import RestResponse, json_response
from mockfeed.exchanges.bybit.wire import envelope

PARAMS_ERROR = 10001  # Bybit's catch-all "request parameter error"
SYSTEM_ERROR = 10016


class BybitError(Exception):
    """A request Bybit would refuse: its ``retCode``, ``retMsg`` and HTTP status (200 on Bybit)."""

    def __init__(self, msg: str, code: int = PARAMS_ERROR, status: int = 200) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status

    def response(self, now_ms: int) -> RestResponse:
        """The native error response, ``result`` an empty object as Bybit sends it."""
        return json_response(self.status, envelope({}, now_ms, self.code, self.msg))


def invalid(name: str) -> BybitError:
    """10001 for a parameter that is absent, malformed or out of range (UNVERIFIED wording)."""
    return BybitError(f"params error: {name} invalid")


# Observed live (spec §3.1): unknown symbol, bad interval; ccxt maps the first to BadSymbol.
NOT_SUPPORTED_SYMBOLS = BybitError("Not supported symbols")
INVALID_PERIOD = BybitError("Invalid period!")
# A category outside the endpoint's set (UNVERIFIED wording, Bybit's v5 message for it).
ILLEGAL_CATEGORY = BybitError("Illegal category")
# instruments-info for a symbol the category does not list (spec §3.1, linear).
SYMBOL_INVALID = invalid("symbol")
START_AFTER_END = BybitError("params error: start must be less than or equal to end")  # UNVERIFIED
SYSTEM = BybitError("System error. Please try again later.", SYSTEM_ERROR)
