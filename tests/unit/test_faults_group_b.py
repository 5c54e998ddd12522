"""Each plugin's native answer for every injected fault kind: status, content type and body.

Gate, MEXC, Hyperliquid and AscendEX, plus Binance and OKX (whose tables gained maintenance and
timeout). Plain values: a plugin built on a model, asked ``fault_response(kind, request)``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockfeed.exchanges.base import FaultKind, RestResponse
from mockfeed.exchanges.exchange_type import ExchangeType
from tests.support.faults import make_plugin, rest_request

HTML = "text/html"
JSON = "application/json"

# nginx's pages, which stand for the proxy in front of an API that is down or too slow.
GATEWAY_TIMEOUT = "504 Gateway Time-out"
BAD_GATEWAY = "502 Bad Gateway"
UNAVAILABLE = "503 Service Temporarily Unavailable"

BINANCE = {
    FaultKind.SERVER_ERROR: (500, {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."}),
    FaultKind.MAINTENANCE: (503, {"code": 1, "msg": "System is under maintenance."}),
    FaultKind.TIMEOUT: (503, {
        "code": -1007,
        "msg": "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
    }),
}
OKX = {
    FaultKind.SERVER_ERROR: (200, {"code": "50013", "data": [], "msg": "Systems are busy. Please try again later."}),
    FaultKind.MAINTENANCE: (503, {"code": "50001", "data": [], "msg": "Service temporarily unavailable. Try again later"}),
    FaultKind.TIMEOUT: (400, {
        "code": "50004",
        "data": [],
        "msg": "Endpoint request timeout (does not mean that the request was successful or failed, "
               "please check the request result)",
    }),
}
GATE = {
    FaultKind.SERVER_ERROR: (500, {"label": "SERVER_ERROR", "message": "Internal server error"}),
    FaultKind.MAINTENANCE: (503, {"label": "TOO_BUSY", "message": "Server is too busy at the moment"}),
    FaultKind.TIMEOUT: (504, GATEWAY_TIMEOUT),
}
MEXC_MAINTENANCE = {
    "code": 500,
    "message": "Under maintenance, please try again later",
    "announcement": "https://www.mexc.com/support/articles/17827791510263",
}
MEXC_SPOT_API = {
    FaultKind.SERVER_ERROR: (500, {"msg": "Internal error", "code": 500, "_extend": None}),
    FaultKind.MAINTENANCE: (503, MEXC_MAINTENANCE),
    FaultKind.TIMEOUT: (504, GATEWAY_TIMEOUT),
}
MEXC_CONTRACT_API = {
    FaultKind.SERVER_ERROR: (500, {"success": False, "code": 500, "message": "System internal error!"}),
    FaultKind.MAINTENANCE: (503, MEXC_MAINTENANCE),
    FaultKind.TIMEOUT: (504, GATEWAY_TIMEOUT),
}
HYPERLIQUID = {
    FaultKind.SERVER_ERROR: (500, "Internal Server Error"),
    FaultKind.MAINTENANCE: (502, BAD_GATEWAY),
    FaultKind.TIMEOUT: (504, GATEWAY_TIMEOUT),
}
ASCEND_EX = {
    FaultKind.SERVER_ERROR: (500, {"code": 510001, "reason": "SERVER_ERROR", "message": "Something wrong with server."}),
    FaultKind.MAINTENANCE: (503, UNAVAILABLE),
    FaultKind.TIMEOUT: (504, GATEWAY_TIMEOUT),
}

# (product, a path the product serves, expected answers by kind)
CASES: list[tuple[ExchangeType, str, dict[FaultKind, tuple[int, Any]]]] = [
    (ExchangeType.BINANCE_SPOT, "/api/v3/klines", BINANCE),
    (ExchangeType.BINANCE_PERPETUAL, "/fapi/v1/klines", BINANCE),
    (ExchangeType.OKX_SPOT, "/api/v5/market/candles", OKX),
    (ExchangeType.OKX_PERPETUAL, "/api/v5/market/candles", OKX),
    (ExchangeType.GATE_IO_SPOT, "/api/v4/spot/candlesticks", GATE),
    (ExchangeType.GATE_IO_PERPETUAL, "/api/v4/futures/usdt/candlesticks", GATE),
    # MEXC answers a server error in the envelope of the API asked, whichever product serves it.
    (ExchangeType.MEXC_SPOT, "/api/v3/klines", MEXC_SPOT_API),
    (ExchangeType.MEXC_SPOT, "/api/v1/contract/detail", MEXC_CONTRACT_API),
    (ExchangeType.MEXC_PERPETUAL, "/api/v1/contract/kline/BTC_USDT", MEXC_CONTRACT_API),
    (ExchangeType.MEXC_PERPETUAL, "/api/v3/exchangeInfo", MEXC_SPOT_API),
    (ExchangeType.HYPERLIQUID_SPOT, "/info", HYPERLIQUID),
    (ExchangeType.HYPERLIQUID_PERPETUAL, "/info", HYPERLIQUID),
    (ExchangeType.ASCEND_EX_SPOT, "/api/pro/v1/barhist", ASCEND_EX),
]
PARAMS = [
    pytest.param(exchange, path, kind, *table[kind], id=f"{exchange}-{path}-{kind}")
    for exchange, path, table in CASES
    for kind in FaultKind
]


def _answer(exchange: ExchangeType, path: str, kind: FaultKind) -> RestResponse:
    method = "POST" if path == "/info" else "GET"
    return make_plugin(exchange).fault_response(kind, rest_request(path, method=method))


@pytest.mark.parametrize(("exchange", "path", "kind", "status", "body"), PARAMS)
def test_fault_answer_is_native(exchange: ExchangeType, path: str, kind: FaultKind, status: int, body: Any) -> None:
    """The status and the exact body (JSON object, bare text, or the proxy's HTML page)."""
    answer = _answer(exchange, path, kind)
    assert answer.status == status
    if isinstance(body, dict):
        assert answer.content_type == JSON
        assert json.loads(answer.body) == body
        assert list(json.loads(answer.body)) == list(body)  # key order as the exchange sends it
    elif body.startswith(str(status)) and answer.content_type == HTML:
        assert f"<title>{body}</title>" in answer.body.decode()
        assert "<h1>" in answer.body.decode()
    else:
        assert answer.content_type.startswith("text/plain")
        assert answer.body.decode() == body


@pytest.mark.parametrize(("exchange", "path", "table"), [pytest.param(*case, id=f"{case[0]}-{case[1]}") for case in CASES])
def test_every_kind_has_its_own_answer(exchange: ExchangeType, path: str, table: dict[FaultKind, Any]) -> None:
    """No kind falls back to another's shape: three kinds, three distinct answers per product."""
    assert set(table) == set(FaultKind)
    answers = {_answer(exchange, path, kind) for kind in FaultKind}
    assert len(answers) == len(FaultKind)


def test_gateway_pages_are_nginx_pages() -> None:
    """The proxy's pages: nginx's reason phrases, CRLF lines, no JSON (clients go by the status)."""
    answer = _answer(ExchangeType.MEXC_SPOT, "/api/v3/klines", FaultKind.TIMEOUT)
    assert answer.body == (
        b"<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
        b"<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
