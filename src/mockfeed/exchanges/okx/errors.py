"""OKX's native REST error bodies: the success envelope with ``code`` other than ``"0"``.

Codes, HTTP statuses and wording follow OKX's "Error Code / REST API / Public" table.
"""

from __future__ import annotations

from mockfeed.exchanges.base import RestResponse, json_response


class OkxError(Exception):
    """A request OKX would refuse: native code (a string on the wire), message and HTTP status."""

    def __init__(self, code: str, msg: str, status: int = 200, *, with_data: bool = True) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status
        self.with_data = with_data

    def response(self) -> RestResponse:
        """The native error response (``{"code":..,"data":[],"msg":..}``)."""
        body: dict[str, object] = {"code": self.code}
        if self.with_data:
            body["data"] = []
        body["msg"] = self.msg
        return json_response(self.status, body)


def empty(name: str) -> OkxError:
    """50014 (HTTP 400): a required parameter is absent or empty."""
    return OkxError("50014", f"Parameter {name} can not be empty.", 400)


def either(first: str, second: str) -> OkxError:
    """50015 (HTTP 400): one of two parameters is required."""
    return OkxError("50015", f"Either parameter {first} or {second} is required.", 400)


def bad(name: str) -> OkxError:
    """51000 (HTTP 400): a parameter has a value OKX does not accept."""
    return OkxError("51000", f"Parameter {name} error", 400)


def no_instrument() -> OkxError:
    """51001 (HTTP 200): the instrument is not listed."""
    return OkxError("51001", "Instrument ID, Instrument ID code or Spread ID doesn't exist.")


def method_not_allowed() -> OkxError:
    """50115 (HTTP 405): a known path asked with the wrong method."""
    return OkxError("50115", "Invalid request method.", 405)


def system_error() -> OkxError:
    """50026 (HTTP 500): the handler failed."""
    return OkxError("50026", "System error. Try again later", 500)


def not_found() -> OkxError:
    """HTTP 404 for a path OKX does not serve.

    UNVERIFIED: no source records OKX's body for an unknown path; this keeps its envelope.
    """
    return OkxError("404", "Not Found", 404)


def too_many_requests() -> OkxError:
    """50011 (HTTP 429): a rate limit was exceeded; this body has no ``data`` key (3P measurement)."""
    return OkxError("50011", "Too Many Requests", 429, with_data=False)
