"""KuCoin's native error bodies: the normal envelope with a string ``code`` other than ``"200000"``.

Business errors (an unknown pair or candle type) come back with HTTP 200, as on KuCoin; a query value
that does not parse is refused with HTTP 400. ccxt raises on any ``code`` that is not ``"200000"``.
"""

from __future__ import annotations

from mockfeed.exchanges.base import RestResponse, json_response


class KucoinError(Exception):
    """A request KuCoin would refuse: the native string code, message and HTTP status."""

    def __init__(self, code: str, msg: str, status: int = 200) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status

    def response(self, headers: tuple[tuple[str, str], ...] = ()) -> RestResponse:
        """The native error response."""
        return json_response(self.status, {"code": self.code, "msg": self.msg}, headers)


def invalid(name: str) -> KucoinError:
    """400100 with HTTP 400: a query value that does not parse (wording UNVERIFIED)."""
    return KucoinError("400100", f"{name} is invalid", 400)


#: Spot candles for a symbol KuCoin does not list (observed HTTP 200, see the spec §1.1).
PAIR_NOT_PROVIDED = KucoinError("400100", "This pair is not provided at present")
#: Spot candles with an unknown ``type`` (observed message; HTTP 200 like the symbol case).
TYPE_NOT_PROVIDED = KucoinError("400100", "This type of Candlestick is currently not provided.")
#: Futures klines for an unknown contract: the futures API's observed bad-contract answer
#: (seen on another futures endpoint; UNVERIFIED for /kline/query).
CONTRACT_INVALID = KucoinError("100003", "Contract parameter invalid")
#: Futures klines with a granularity outside KuCoin's list (wording UNVERIFIED).
GRANULARITY_INVALID = KucoinError("400100", "granularity is invalid")
#: A path KuCoin does not serve (KuCoin's system code table: 404000 "Url Not Found").
NOT_FOUND = KucoinError("404000", "Url Not Found.", 404)
#: A handler failure (KuCoin's system code table: 500000 "Internal Server Error").
INTERNAL = KucoinError("500000", "Internal Server Error.", 500)
