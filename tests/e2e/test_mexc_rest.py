"""MEXC spot and contract REST over real sockets: httpx against the mockfeed_server fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import httpx
import pytest
import trio

from mockfeed import Server
from mockfeed.market import Interval

pytestmark = pytest.mark.mockfeed(exchanges=["mexc_spot", "mexc_perpetual"], seed=11)

MINUTE = 60_000
TIMEOUT = 10.0


@asynccontextmanager
async def rest(server: Server, exchange: str) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on one product's REST listener, every call bounded in time."""
    async with httpx.AsyncClient(base_url=server[exchange].rest_url, timeout=TIMEOUT) as client:
        with trio.fail_after(TIMEOUT * 2):
            yield client


def plain(value: Decimal) -> str:
    """A decimal without trailing zeros, as MEXC spot writes it."""
    return format(value.normalize(), "f")


async def test_spot_klines_match_the_model(mockfeed_server: Server) -> None:
    """A window of 60m candles: 8-field rows, close = next open, values straight from the model."""
    async with rest(mockfeed_server, "mexc_spot") as client:
        before = mockfeed_server.first.clock.now_ms()
        response = await client.get(
            "/api/v3/klines", params={"symbol": "ETHUSDT", "interval": "60m", "limit": 24}
        )
        now = mockfeed_server.first.clock.now_ms()
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    rows = response.json()
    hour = Interval.parse("1h")
    assert len(rows) == 24 and rows[-1][0] in {hour.floor(before), hour.floor(now)}
    for row in rows[:-1]:
        candle = mockfeed_server.model.candle("ETH-USDT", hour, row[0], now)
        assert candle is not None and candle.closed
        assert row == [
            candle.open_time, plain(candle.open), plain(candle.high), plain(candle.low), plain(candle.close),
            plain(candle.volume), candle.open_time + 3_600_000, plain(candle.quote_volume),
        ]


@pytest.mark.parametrize(
    ("params", "body"),
    [
        ({"symbol": "BTCUSDT", "interval": "1h"}, {"msg": "Invalid interval.", "code": -1121, "_extend": None}),
        ({"symbol": "BTC_USDT", "interval": "1m"}, {"msg": "Invalid symbol.", "code": -1121, "_extend": None}),
        ({"interval": "1m"}, {
            "msg": "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
            "code": -1102, "_extend": None,
        }),
        ({"symbol": "BTCUSDT", "interval": "1m", "startTime": 10, "endTime": 5}, {
            "msg": "Combination of optional parameters invalid.", "code": -1128, "_extend": None,
        }),
    ],
)
async def test_spot_errors_are_native(mockfeed_server: Server, params: dict[str, object], body: object) -> None:
    """Refusals come back as MEXC's spot envelope with HTTP 400."""
    async with rest(mockfeed_server, "mexc_spot") as client:
        response = await client.get("/api/v3/klines", params=params)
    assert response.status_code == 400
    assert response.json() == body


async def test_contract_klines_over_the_wire(mockfeed_server: Server) -> None:
    """The symbol is a path segment; start/end in seconds; columns of numbers in the success envelope."""
    async with rest(mockfeed_server, "mexc_perpetual") as client:
        now = mockfeed_server.first.clock.now_ms()
        start = (now // MINUTE - 10) * 60
        response = await client.get(
            "/api/v1/contract/kline/BTC_USDT", params={"interval": "Min1", "start": start, "end": start + 240}
        )
    assert response.status_code == 200
    payload = response.json()
    assert (payload["success"], payload["code"]) == (True, 0)
    data = payload["data"]
    assert data["time"] == [start + 60 * i for i in range(5)]
    candles = [mockfeed_server.model.candle("BTC-USDT", Interval.parse("1m"), t * 1000, now) for t in data["time"]]
    assert data["close"] == [float(c.close) for c in candles if c is not None]


@pytest.mark.parametrize(
    ("path", "params", "body"),
    [
        ("/api/v1/contract/kline/DOGE_USDT", {}, {"success": False, "code": 1001, "message": "Contract does not exist!"}),
        ("/api/v1/contract/kline/BTC_USDT", {"interval": "1m"}, {"success": False, "code": 600, "message": "Param error!"}),
        ("/api/v1/contract/kline/BTC_USDT", {"start": "yesterday"}, {"success": False, "code": 600, "message": "Param error!"}),
    ],
)
async def test_contract_errors_are_native(
    mockfeed_server: Server, path: str, params: dict[str, str], body: object
) -> None:
    """Contract refusals keep HTTP 200 and say so in the envelope."""
    async with rest(mockfeed_server, "mexc_perpetual") as client:
        response = await client.get(path, params=params)
    assert response.status_code == 200
    assert response.json() == body


@pytest.mark.parametrize(
    ("exchange", "spot_symbols", "contracts"),
    [("mexc_spot", ["BTCUSDT", "ETHUSDT", "SOLUSDT"], []), ("mexc_perpetual", [], ["BTC_USDT", "ETH_USDT", "SOL_USDT"])],
)
async def test_both_listings_on_both_products(
    mockfeed_server: Server, exchange: str, spot_symbols: list[str], contracts: list[str]
) -> None:
    """exchangeInfo and contract/detail answer on each product; the API it does not serve lists nothing."""
    async with rest(mockfeed_server, exchange) as client:
        info = (await client.get("/api/v3/exchangeInfo")).json()
        detail = (await client.get("/api/v1/contract/detail")).json()
        time = (await client.get("/api/v3/time")).json()
        ping = (await client.get("/api/v1/contract/ping")).json()
        now = mockfeed_server.first.clock.now_ms()
    assert [s["symbol"] for s in info["symbols"]] == spot_symbols
    assert (detail["success"], detail["code"]) == (True, 0)
    assert [c["symbol"] for c in detail["data"]] == contracts
    assert abs(time["serverTime"] - now) < 5_000 and abs(ping["data"] - now) < 5_000


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v3/depth", {"msg": "Not Found", "code": 404, "_extend": None}),
        ("/api/v1/contract/kline/index_price/BTC_USDT", {"success": False, "code": 404, "message": "Not Found"}),
        ("/api/v1/contract/kline", {"success": False, "code": 404, "message": "Not Found"}),
    ],
)
async def test_unserved_paths_are_404_in_the_path_s_envelope(
    mockfeed_server: Server, path: str, body: object
) -> None:
    """A path the mock does not serve is a 404 in the envelope of the API it belongs to."""
    async with rest(mockfeed_server, "mexc_perpetual") as client:
        response = await client.get(path)
    assert response.status_code == 404
    assert response.json() == body
