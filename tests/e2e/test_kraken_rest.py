"""Kraken spot public REST over real sockets (httpx against the trio fixture)."""

from __future__ import annotations

import time

import httpx
import pytest

from mockfeed import Server

pytestmark = pytest.mark.mockfeed(exchanges=["kraken_spot"], pairs=["BTC-USDT", "ETH-USDT", "BTC-USD"])

MINUTE_S = 60


async def test_time_and_status(mockfeed_server: Server) -> None:
    """``/0/public/Time`` tells the server time in seconds; SystemStatus is online."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        server_time = (await client.get("/0/public/Time")).json()
        status = (await client.get("/0/public/SystemStatus")).json()
    assert server_time["error"] == []
    assert abs(server_time["result"]["unixtime"] - time.time()) < 5
    assert status == {"error": [], "result": {"status": "online", "timestamp": status["result"]["timestamp"]}}


async def test_markets_metadata(mockfeed_server: Server) -> None:
    """Assets and AssetPairs list the configured pairs under Kraken's names."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        assets = (await client.get("/0/public/Assets")).json()["result"]
        pairs = (await client.get("/0/public/AssetPairs")).json()["result"]
    assert set(assets) == {"XXBT", "XETH", "USDT", "ZUSD"}
    assert list(pairs) == ["XBTUSDT", "ETHUSDT", "XXBTZUSD"]
    assert pairs["XXBTZUSD"]["altname"] == "XBTUSD"


async def test_ohlc_get_and_post(mockfeed_server: Server) -> None:
    """OHLC by GET query and by POST form: 720 rows, the forming one last, JSON content type."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        got = await client.get("/0/public/OHLC", params={"pair": "XBTUSD", "interval": 1})
        posted = await client.post("/0/public/OHLC", data={"pair": "XBTUSD", "interval": "1"})
    assert got.status_code == posted.status_code == 200
    assert got.headers["content-type"] == "application/json"
    rows = got.json()["result"]["XXBTZUSD"]
    assert len(rows) == 720
    now_s = int(time.time())
    assert abs(rows[-1][0] - now_s // MINUTE_S * MINUTE_S) <= MINUTE_S
    assert got.json()["result"]["last"] == rows[-2][0]
    assert posted.json()["result"]["XXBTZUSD"][0][0] in (rows[0][0], rows[1][0])


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, "EGeneral:Invalid arguments"),
        ({"pair": "DOGEUSD"}, "EQuery:Unknown asset pair"),
        ({"pair": "XBTUSD", "interval": "3"}, "EGeneral:Invalid arguments"),
        ({"pair": "XBTUSD", "since": "now"}, "EGeneral:Invalid arguments"),
    ],
)
async def test_ohlc_errors(mockfeed_server: Server, params: dict[str, str], error: str) -> None:
    """Errors come back HTTP 200 with Kraken's error array, no result."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        response = await client.get("/0/public/OHLC", params=params)
    assert response.status_code == 200
    assert response.json() == {"error": [error]}


async def test_unknown_method_is_404(mockfeed_server: Server) -> None:
    """A method Kraken does not serve here is HTTP 404 ``EGeneral:Unknown method``."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        response = await client.get("/0/public/Depth", params={"pair": "XBTUSD"})
        wrong_method = await client.put("/0/public/OHLC")
    assert response.status_code == 404
    assert response.json() == {"error": ["EGeneral:Unknown method"]}
    assert wrong_method.status_code == 404
