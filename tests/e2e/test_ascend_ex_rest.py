"""AscendEX spot REST over real sockets (httpx against the trio fixture)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from mockfeed import Interval, Server

pytestmark = pytest.mark.mockfeed(exchanges=["ascend_ex_spot"], seed=5)

MINUTE = 60_000
BARHIST = "/api/pro/v1/barhist"


async def get(server: Server, path: str, **params: Any) -> tuple[int, Any]:
    """Status and decoded JSON body of one GET."""
    async with httpx.AsyncClient(base_url=server.rest_url) as client:
        response = await client.get(path, params=params)
    assert response.headers["content-type"] == "application/json"
    return response.status_code, response.json()


async def test_barhist_latest_bars(mockfeed_server: Server) -> None:
    """barhist answers the newest bars, oldest first, equal to the model's candles."""
    before = time.time_ns() // 1_000_000 // MINUTE * MINUTE
    status, payload = await get(mockfeed_server, BARHIST, symbol="ETH/USDT", interval="1", n=30)
    after = time.time_ns() // 1_000_000 // MINUTE * MINUTE
    assert status == 200 and payload["code"] == 0 and "message" not in payload
    rows = payload["data"]
    ts = [r["data"]["ts"] for r in rows]
    assert ts == [ts[0] + i * MINUTE for i in range(30)]
    assert ts[-1] in {before, after}  # the forming bar comes last
    closed = rows[-2]
    candle = mockfeed_server.model.candle("ETH-USDT", Interval.parse("1m"), closed["data"]["ts"], ts[-1])
    assert candle is not None and candle.closed
    assert closed == {
        "m": "bar",
        "s": "ETH/USDT",
        "data": {
            "i": "1",
            "ts": candle.open_time,
            "o": f"{candle.open:.2f}",
            "c": f"{candle.close:.2f}",
            "h": f"{candle.high:.2f}",
            "l": f"{candle.low:.2f}",
            "v": f"{candle.volume:.4f}",
        },
    }


async def test_barhist_default_and_range(mockfeed_server: Server) -> None:
    """Default n is 10; from/to select an inclusive range of bar starts; the range is capped at 500."""
    _, default = await get(mockfeed_server, BARHIST, symbol="BTC/USDT", interval="60")
    assert len(default["data"]) == 10
    to = 1_760_000_000_000 // MINUTE * MINUTE
    _, ranged = await get(mockfeed_server, BARHIST, symbol="BTC/USDT", interval="1",
                          **{"from": to - 4 * MINUTE, "to": to})
    assert [r["data"]["ts"] for r in ranged["data"]] == [to - (4 - i) * MINUTE for i in range(5)]
    _, wide = await get(mockfeed_server, BARHIST, symbol="BTC/USDT", interval="1",
                        **{"from": to - 10_000 * MINUTE, "to": to})
    assert len(wide["data"]) == 500 and wide["data"][-1]["data"]["ts"] == to


@pytest.mark.parametrize(
    ("params", "code", "reason"),
    [
        ({"symbol": "BTCUSDT", "interval": "1"}, 100008, "SYMBOL_ERROR"),
        ({"symbol": "BTC/USDT", "interval": "1h"}, 100006, "INVALID_ARGUMENT"),
        ({"interval": "1"}, 100004, "INVALID_REQUEST_DATA"),
        ({"symbol": "BTC/USDT", "interval": "1", "n": "x"}, 100013, "INVALID_NUM_FORMAT"),
        ({"symbol": "BTC/USDT", "interval": "1", "to": "soon"}, 100011, "INVALID_TIMESTAMP"),
    ],
)
async def test_barhist_errors(mockfeed_server: Server, params: dict[str, str], code: int, reason: str) -> None:
    """Bad requests get the native error body with HTTP 200."""
    status, payload = await get(mockfeed_server, BARHIST, **params)
    assert status == 200
    assert payload["code"] == code and payload["reason"] == reason and payload["message"]


async def test_metadata_endpoints_ccxt_load_markets_calls(mockfeed_server: Server) -> None:
    """The four endpoints ccxt 4.5.63's load_markets calls answer code 0 without 'message'."""
    for path in ("/api/pro/v2/assets", "/api/pro/v1/products", "/api/pro/v1/cash/products",
                 "/api/pro/v2/futures/contract"):
        status, payload = await get(mockfeed_server, path)
        assert status == 200 and set(payload) == {"code", "data"} and payload["code"] == 0, path
    _, cash = await get(mockfeed_server, "/api/pro/v1/cash/products")
    assert [p["symbol"] for p in cash["data"]] == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    _, contracts = await get(mockfeed_server, "/api/pro/v2/futures/contract")
    assert contracts["data"] == []


async def test_exchange_info_time(mockfeed_server: Server) -> None:
    """exchange-info reports the server's receive time (ccxt fetch_time)."""
    sent = time.time_ns() // 1_000_000
    _, payload = await get(mockfeed_server, "/api/pro/v1/exchange-info", requestTime=sent)
    data = payload["data"]
    assert data["requestTimeEcho"] == sent
    assert abs(data["requestReceiveAt"] - sent) < 5_000
    assert data["latency"] == data["requestReceiveAt"] - sent


async def test_unknown_path_and_method(mockfeed_server: Server) -> None:
    """Unknown paths answer 404 and wrong methods 405, both with the native error body."""
    status, payload = await get(mockfeed_server, "/api/pro/v1/klines")
    assert status == 404 and payload["code"] == 100001
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        response = await client.post(BARHIST, content=b"{}")
    assert response.status_code == 405 and response.json()["reason"] == "INVALID_HTTP_INPUT"
