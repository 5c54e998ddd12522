"""Coinbase's native error bodies.

Advanced Trade (``/api/v3/brokerage``) answers ``{"error": CODE, "error_details": ..., "message": ...}``
with the gRPC-style code in upper case; the older ``/v2`` API answers
``{"errors": [{"id": code, "message": ...}]}`` with a lower-case id.
"""

from __future__ import annotations

from mockfeed.exchanges.base import RestResponse, json_response

#: The one limit Coinbase names in its candle errors.
MAX_CANDLES = 350


class CoinbaseError(Exception):
    """A request Advanced Trade refuses: HTTP status, upper-case code and its details text."""

    def __init__(self, status: int, code: str, details: str) -> None:
        super().__init__(details)
        self.status = status
        self.code = code
        self.details = details

    def response(self) -> RestResponse:
        """The native body; ``message`` repeats ``error_details`` as the live API does."""
        return json_response(
            self.status, {"error": self.code, "error_details": self.details, "message": self.details}
        )


class V2Error(Exception):
    """A request the ``/v2`` API refuses: status, lower-case id and message."""

    def __init__(self, status: int, error_id: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_id = error_id
        self.message = message

    def response(self) -> RestResponse:
        """The native ``{"errors": [...]}`` body."""
        return json_response(self.status, {"errors": [{"id": self.error_id, "message": self.message}]})


def invalid(details: str) -> CoinbaseError:
    """HTTP 400 ``INVALID_ARGUMENT`` (ccxt maps it to ``BadRequest``)."""
    return CoinbaseError(400, "INVALID_ARGUMENT", details)


def argument(name: str) -> CoinbaseError:
    """A parameter that is missing or does not parse: ``<name> argument is invalid``.

    The wording is live for ``granularity``; for the other parameters it is the same family (UNVERIFIED).
    """
    return invalid(f"{name} argument is invalid")


def time_range(reason: str) -> CoinbaseError:
    """A bad ``start``/``end``: ``start and end argument is invalid - <reason>``."""
    return invalid(f"start and end argument is invalid - {reason}")


TOO_MANY_CANDLES = time_range(f"number of candles requested should be less than {MAX_CANDLES}")
#: Unknown product on the candles endpoint (3P live logs; the product endpoint answers 404 instead).
INVALID_PRODUCT = invalid("ProductID is invalid")
NOT_FOUND = CoinbaseError(404, "NOT_FOUND", "Not Found")
METHOD_NOT_ALLOWED = CoinbaseError(405, "UNIMPLEMENTED", "Method Not Allowed")
INTERNAL = CoinbaseError(500, "INTERNAL", "internal error")


def product_not_found(product_id: str) -> CoinbaseError:
    """HTTP 404 for an unknown product on ``/market/products/{id}`` (live text)."""
    return CoinbaseError(404, "NOT_FOUND", f"Product {product_id} not supported")


V2_NOT_FOUND = V2Error(404, "not_found", "Not found")
V2_INVALID_CURRENCY = V2Error(400, "invalid_request", "Invalid currency")
