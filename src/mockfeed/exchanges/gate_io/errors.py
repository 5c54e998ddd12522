"""Gate APIv4's native REST error bodies: ``{"label": <LABEL>, "message": <text>}`` with a non-2xx status."""

from __future__ import annotations

from mockfeed.exchanges.base import RestResponse, json_response


class GateError(Exception):
    """A request Gate would refuse; carries the native label, message and HTTP status."""

    def __init__(self, label: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.label = label
        self.message = message
        self.status = status

    def response(self, headers: tuple[tuple[str, str], ...] = ()) -> RestResponse:
        """The native error response."""
        return json_response(self.status, {"label": self.label, "message": self.message}, headers)


def invalid_value(name: str, value: str) -> GateError:
    """INVALID_PARAM_VALUE for one parameter (Gate's wording, as seen for ``limit``)."""
    return GateError("INVALID_PARAM_VALUE", f"Invalid request parameter `{name}` value: {value}")


def missing(name: str) -> GateError:
    """MISSING_REQUIRED_PARAM: a mandatory query parameter is absent or empty."""
    return GateError("MISSING_REQUIRED_PARAM", f"Missing required parameter: {name}")


def unknown_pair(name: str) -> GateError:
    """INVALID_CURRENCY_PAIR: a spot pair that is not listed."""
    return GateError("INVALID_CURRENCY_PAIR", f"Invalid currency pair {name}")


def unknown_currency(name: str) -> GateError:
    """INVALID_CURRENCY: a currency that is not listed."""
    return GateError("INVALID_CURRENCY", f"Invalid currency {name}")


def unknown_contract(name: str) -> GateError:
    """CONTRACT_NOT_FOUND: a futures contract that is not listed (status and text UNVERIFIED)."""
    return GateError("CONTRACT_NOT_FOUND", f"Contract {name} not found")


def too_broad(max_points: int) -> GateError:
    """A from/to range holding more points than one request may return (text seen in ccxt#17464)."""
    return GateError(
        "INVALID_PARAM_VALUE",
        f"Candlestick range too broad. Maximum {max_points} data points are allowed per request",
    )


def too_long_ago(template: str, window: int) -> GateError:
    """A range reaching before the last ``window`` points (text per product, see ``CandleEndpoint``)."""
    return GateError("INVALID_PARAM_VALUE", template.format(window=window))


NOT_FOUND = GateError("NOT_FOUND", "Not Found", 404)
METHOD_NOT_ALLOWED = GateError("METHOD_NOT_ALLOWED", "Method Not Allowed", 405)
SERVER_ERROR = GateError("SERVER_ERROR", "Internal server error", 500)
