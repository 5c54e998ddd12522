"""OKX REST through real sockets: httpx against the ``mockfeed_server`` fixture, both products."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import trio

from mockfeed import Server

MINUTE = 60_000
PRODUCTS = [
    pytest.param("BTC-USDT", "SPOT", marks=pytest.mark.mockfeed(exchanges=["okx_spot"]), id="okx_spot"),
    pytest.param(
        "BTC-USDT-SWAP", "SWAP", marks=pytest.mark.mockfeed(exchanges=["okx_perpetual"]), id="okx_perpetual"
    ),
]


async def get(server: Server, path: str, **params: Any) -> httpx.Response:
    """One GET against the server's REST port, bounded in time."""
    with trio.fail_after(10):
        async with httpx.AsyncClient(base_url=server.rest_url) as client:
            return await client.get(path, params=params)


@pytest.mark.parametrize(("inst_id", "inst_type"), PRODUCTS)
async def test_candles_newest_first_with_forming_candle(mockfeed_server: Server, inst_id: str,
                                                        inst_type: str) -> None:
    """/market/candles: JSON envelope, nine strings per row, newest first, forming candle confirm 0."""
    response = await get(mockfeed_server, "/api/v5/market/candles", instId=inst_id, bar="1m", limit=5)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["code"], body["msg"]) == ("0", "")
    rows = body["data"]
    times = [int(r[0]) for r in rows]
    assert times == [times[0] - i * MINUTE for i in range(5)]
    assert [r[8] for r in rows] == ["0", "1", "1", "1", "1"]
    assert all(len(r) == 9 and all(isinstance(v, str) for v in r) for r in rows)


@pytest.mark.parametrize(("inst_id", "inst_type"), PRODUCTS)
async def test_history_candles_agree_with_candles(mockfeed_server: Server, inst_id: str,
                                                  inst_type: str) -> None:
    """A closed candle is the same row on both endpoints; history pages back with ``after``."""
    latest = (await get(mockfeed_server, "/api/v5/market/candles", instId=inst_id, limit=3)).json()["data"]
    closed = latest[1]
    history = await get(mockfeed_server, "/api/v5/market/history-candles", instId=inst_id,
                        after=int(closed[0]) + 1, limit=2)
    rows = history.json()["data"]
    assert rows[0] == closed
    assert int(rows[1][0]) == int(closed[0]) - MINUTE


@pytest.mark.parametrize(("inst_id", "inst_type"), PRODUCTS)
async def test_ccxt_load_markets_requests_all_succeed(mockfeed_server: Server, inst_id: str,
                                                      inst_type: str) -> None:
    """The five instrument requests of ccxt's load_markets answer code 0; our type lists the pairs."""
    calls = [{"instType": "SPOT"}, {"instType": "FUTURES"}, {"instType": "SWAP"},
             {"instType": "OPTION", "uly": "BTC-USD"}, {"instType": "OPTION", "uly": "ETH-USD"}]
    for params in calls:
        response = await get(mockfeed_server, "/api/v5/public/instruments", **params)
        body = response.json()
        assert (response.status_code, body["code"]) == (200, "0")
        expected = [f"{b}-USDT{inst_id[8:]}" for b in ("BTC", "ETH", "SOL")]
        assert [r["instId"] for r in body["data"]] == (expected if params["instType"] == inst_type else [])
    answer = (await get(mockfeed_server, "/api/v5/public/time")).json()
    assert answer["code"] == "0" and answer["data"][0]["ts"].isdigit()
    assert abs(int(answer["data"][0]["ts"]) - time.time() * 1000) < 5_000


@pytest.mark.mockfeed(exchanges=["okx_spot"])
@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/api/v5/market/candles", {}, 400, "50014"),
        ("/api/v5/market/candles", {"instId": "BTC-USDT", "bar": "1h"}, 400, "51000"),
        ("/api/v5/market/candles", {"instId": "BTC-USDT", "limit": "x"}, 400, "51000"),
        ("/api/v5/market/history-candles", {"instId": "BTC-USDT", "after": "soon"}, 400, "51000"),
        ("/api/v5/market/candles", {"instId": "NOPE-USDT"}, 200, "51001"),
        ("/api/v5/public/instruments", {}, 400, "50014"),
        ("/api/v5/market/tickers", {}, 404, "404"),
    ],
)
async def test_native_errors_over_http(mockfeed_server: Server, path: str, params: dict[str, str],
                                       status: int, code: str) -> None:
    """Malformed requests get OKX's error envelope and HTTP status, never a 500."""
    response = await get(mockfeed_server, path, **params)
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code and body["data"] == [] and body["msg"]


@pytest.mark.mockfeed(exchanges=["okx_spot"])
async def test_wrong_method_is_50115(mockfeed_server: Server) -> None:
    """POST on a GET endpoint answers 50115 with HTTP 405."""
    with trio.fail_after(10):
        async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
            response = await client.post("/api/v5/market/candles", params={"instId": "BTC-USDT"})
    assert response.status_code == 405
    assert response.json() == {"code": "50115", "data": [], "msg": "Invalid request method."}
