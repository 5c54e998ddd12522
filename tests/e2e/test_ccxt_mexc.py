"""ccxt (REST and ccxt.pro WebSocket) against the MEXC mocks, with only URLs changed.

ccxt loads spot and contract markets whichever it trades, so each mock serves the other API's listing
empty; the spot stream is protobuf, which ccxt decodes with the ``protobuf`` package.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt.pro as ccxtpro
import pytest

from mockfeed import Interval, ThreadedServer
from tests.e2e.ccxt_support import rewrite_urls

MINUTE = 60_000
CASES = [
    pytest.param("mexc_spot", "BTC/USDT", 500, id="mexc_spot"),  # ccxt's spot window: 500 candles
    pytest.param("mexc_perpetual", "BTC/USDT:USDT", 2000, id="mexc_perpetual"),  # contract: 2000 rows
]


def _client(server: ThreadedServer) -> Any:
    # Only the client-side throttle is off (contract/detail costs 100 tokens: a 5 s pause before the
    # next call); requests and parsing are exactly ccxt's defaults.
    client = ccxtpro.mexc({"enableRateLimit": False})
    client.urls["api"] = rewrite_urls(client.urls["api"], server.rest_url, server.ws_url)
    return client


async def _rest_flow(server: ThreadedServer, symbol: str, page_size: int) -> None:
    client = _client(server)
    try:
        markets = await client.load_markets()
        assert {m["symbol"] for m in markets.values()} == {
            symbol.replace("BTC", base) for base in ("BTC", "ETH", "SOL")
        }
        market = markets[symbol]
        assert market["active"] is True
        assert market["precision"]["price"] == 0.01
        for params in ({}, {"type": "swap"}):  # spot /api/v3/time and contract /ping, on both mocks
            server_time = await client.fetch_time(params)
            assert abs(server_time - client.milliseconds()) < 5_000

        latest = await client.fetch_ohlcv(symbol, "1m", limit=100)
        assert len(latest) == 100
        assert [row[0] for row in latest] == [latest[0][0] + i * MINUTE for i in range(100)]
        assert latest[-1][0] >= client.milliseconds() // MINUTE * MINUTE - MINUTE  # ends at now
        assert all(row[3] <= min(row[1], row[4]) <= max(row[1], row[4]) <= row[2] for row in latest)

        start = (client.milliseconds() - 3 * 86_400_000) // MINUTE * MINUTE
        since, rows = start, []
        for _ in range(20):  # 3 days of 1m candles: 9 spot pages of 500, 3 contract pages of 2000
            page = await client.fetch_ohlcv(symbol, "1m", since=since, limit=page_size)
            assert 0 < len(page) <= page_size
            rows += page
            since = page[-1][0] + 1
            if page[-1][0] >= client.milliseconds() // MINUTE * MINUTE - MINUTE:
                break
        times = [row[0] for row in rows]
        assert times[0] == start
        assert times == list(range(start, start + len(times) * MINUTE, MINUTE))
        assert len(times) >= 3 * 1440
    finally:
        await client.close()


async def _ws_flow(server: ThreadedServer, symbol: str) -> list[list[Any]]:
    client = _client(server)
    updates = []
    try:
        async with asyncio.timeout(20):
            for _ in range(2):
                candles = await client.watch_ohlcv(symbol, "1m")
                updates.append(list(candles[-1]))
            await client.un_watch_ohlcv(symbol, "1m")
    finally:
        await client.close()
    return updates


@pytest.mark.parametrize(("exchange", "symbol", "page_size"), CASES)
def test_ccxt_rest(exchange: str, symbol: str, page_size: int) -> None:
    """load_markets, fetch_time, fetch_ohlcv and 3 days of since-pagination work unchanged."""
    with ThreadedServer(exchanges=[exchange], port=0, ws_port=0) as server:
        asyncio.run(_rest_flow(server, symbol, page_size))


@pytest.mark.parametrize(("exchange", "symbol", "page_size"), CASES)
def test_ccxt_watch_ohlcv(exchange: str, symbol: str, page_size: int) -> None:
    """watch_ohlcv receives at least two updates of the forming 1m candle, as the model has it."""
    with ThreadedServer(exchanges=[exchange], port=0, ws_port=0) as server:
        updates = asyncio.run(_ws_flow(server, symbol))
        assert len(updates) == 2
        assert updates[0][0] % MINUTE == 0
        model_candle = server.server.model.candle(
            "BTC-USDT", Interval.parse("1m"), updates[-1][0], updates[-1][0] + MINUTE
        )
        assert model_candle is not None
        assert float(model_candle.open) == updates[-1][1]


async def _both_flow(spot: ThreadedServer, perp: ThreadedServer) -> None:
    client = ccxtpro.mexc({"enableRateLimit": False})
    client.urls["api"] = rewrite_urls(client.urls["api"], spot.rest_url, spot.ws_url)
    client.urls["api"]["contract"] = rewrite_urls(client.urls["api"]["contract"], perp.rest_url, perp.ws_url)
    client.urls["api"]["ws"]["swap"] = perp.ws_url + "/edge"
    try:
        markets = await client.load_markets()
        assert {"BTC/USDT", "BTC/USDT:USDT"} <= set(markets) and len(markets) == 6
        async with asyncio.timeout(20):
            for symbol in ("BTC/USDT", "BTC/USDT:USDT"):
                assert len(await client.fetch_ohlcv(symbol, "5m", limit=10)) == 10
                assert (await client.watch_ohlcv(symbol, "1m"))[-1][0] % MINUTE == 0
    finally:
        await client.close()


def test_ccxt_one_client_for_both_products() -> None:
    """Spot URLs on the spot mock and contract URLs on the perpetual mock: one client sees both."""
    with (
        ThreadedServer(exchanges=["mexc_spot"], port=0, ws_port=0) as spot,
        ThreadedServer(exchanges=["mexc_perpetual"], port=0, ws_port=0) as perp,
    ):
        asyncio.run(_both_flow(spot, perp))
