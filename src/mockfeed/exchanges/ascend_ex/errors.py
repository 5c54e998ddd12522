"""AscendEX's native error bodies: ``{"code": <int>, "reason": "<REASON>", "message": "<detail>"}``.

Codes and reasons come from the documented error table (group ``10XXXX``: general errors). The detail
texts are mockfeed's own: the documentation gives none for ``barhist``. AscendEX answers request errors
with HTTP 200 and a non-zero ``code`` ("we always respond with json include code field"); the status is
UNVERIFIED for ``barhist`` specifically, and ccxt is indifferent (it reads ``code`` whatever the status).
"""

from __future__ import annotations

import enum

from mockfeed.exchanges.base import RestResponse, json_response


class Reason(enum.Enum):
    """A documented error code and its reason text."""

    INVALID_HTTP_INPUT = 100001
    INVALID_REQUEST_DATA = 100004
    INVALID_WS_REQUEST_DATA = 100005
    INVALID_ARGUMENT = 100006
    SYMBOL_ERROR = 100008
    AUTHORIZATION_NEEDED = 100009
    INVALID_TIMESTAMP = 100011
    INVALID_NUM_FORMAT = 100013
    INVALID_JSON_FORMAT = 150001
    SERVER_ERROR = 510001


class AscendExError(Exception):
    """A request AscendEX would refuse: native code, reason, detail message and HTTP status."""

    def __init__(self, reason: Reason, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status = status

    @property
    def code(self) -> int:
        """The numeric error code."""
        return self.reason.value

    def body(self) -> dict[str, object]:
        """The rich error body (code, reason, message)."""
        return {"code": self.code, "reason": self.reason.name, "message": self.message}

    def response(self) -> RestResponse:
        """The native error response."""
        return json_response(self.status, self.body())


def missing(name: str) -> AscendExError:
    """A mandatory parameter is absent or empty."""
    return AscendExError(Reason.INVALID_REQUEST_DATA, f"Missing required parameter: {name}")


def duplicate(name: str) -> AscendExError:
    """A parameter is sent more than once."""
    return AscendExError(Reason.INVALID_REQUEST_DATA, f"Duplicate parameter: {name}")


def bad_timestamp(name: str, value: str) -> AscendExError:
    """A time parameter is not a non-negative integer of milliseconds."""
    return AscendExError(Reason.INVALID_TIMESTAMP, f"Not a valid timestamp: {name}={value[:64]}")


def bad_number(name: str, value: str) -> AscendExError:
    """A count parameter is not an integer."""
    return AscendExError(Reason.INVALID_NUM_FORMAT, f"Invalid number input: {name}={value[:64]}")


def bad_argument(message: str) -> AscendExError:
    """A parameter parses but its value is not allowed."""
    return AscendExError(Reason.INVALID_ARGUMENT, message)


def bad_symbol(symbol: str) -> AscendExError:
    """The symbol is not listed (or not spelled ``BASE/QUOTE``)."""
    return AscendExError(Reason.SYMBOL_ERROR, f"Invalid symbol: {symbol[:64]}")


NOT_FOUND = AscendExError(Reason.INVALID_HTTP_INPUT, "Http request is invalid", 404)
METHOD_NOT_ALLOWED = AscendExError(Reason.INVALID_HTTP_INPUT, "Http request is invalid", 405)
SERVER_ERROR = AscendExError(Reason.SERVER_ERROR, "Something wrong with server.", 500)
