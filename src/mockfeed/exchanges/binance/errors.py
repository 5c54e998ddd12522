"""Binance's native error bodies (``{"code": <negative int>, "msg": ...}``)."""

from __future__ import annotations

from mockfeed.exchanges.base import RestResponse, json_response

SYMBOL_RANGE = "^[A-Z0-9-_.]{1,20}$"
NUMBER_RANGE = "^[0-9]{1,20}$"


class BinanceError(Exception):
    """A request Binance would refuse; carries the native code, message and HTTP status."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status

    def response(self) -> RestResponse:
        """The native error response."""
        return json_response(self.status, {"code": self.code, "msg": self.msg})


def missing(name: str) -> BinanceError:
    """-1102: a mandatory parameter is absent."""
    return BinanceError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def empty(name: str) -> BinanceError:
    """-1105: a parameter is present but empty."""
    return BinanceError(-1105, f"Parameter '{name}' was empty.")


def duplicate(name: str) -> BinanceError:
    """-1101: a parameter is sent twice."""
    return BinanceError(-1101, f"Duplicate values for parameter '{name}'.")


def illegal(name: str, legal: str) -> BinanceError:
    """-1100: a parameter has characters outside its legal range."""
    return BinanceError(
        -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'."
    )


def invalid_data(name: str) -> BinanceError:
    """-1130: a parameter parses but its value is not allowed."""
    return BinanceError(-1130, f"Data sent for parameter '{name}' is not valid.")


INVALID_SYMBOL = BinanceError(-1121, "Invalid symbol.")
INVALID_INTERVAL = BinanceError(-1120, "Invalid interval.")
START_AFTER_END = BinanceError(-1023, "Start time is greater than end time.")
