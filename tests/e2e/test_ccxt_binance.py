"""ccxt (REST and ccxt.pro WebSocket) against the Binance mocks, with only URLs changed."""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt.pro as ccxtpro
import pytest

from mockfeed import Interval, ThreadedServer
from tests.e2e.ccxt_support import rewrite_urls

MINUTE = 60_000
CASES = [
    pytest.param("binance_spot", ccxtpro.binance, "BTC/USDT", id="binance_spot"),
    pytest.param("binance_perpetual", ccxtpro.binanceusdm, "BTC/USDT:USDT", id="binance_perpetual"),
]


def _client(cls: Any, server: ThreadedServer) -> Any:
    client = cls()
    client.urls["api"] = rewrite_urls(client.urls["api"], server.rest_url, server.ws_url)
    return client


async def _rest_flow(cls: Any, server: ThreadedServer, symbol: str) -> None:
    client = _client(cls, server)
    try:
        markets = await client.load_markets()
        assert {"BTC", "ETH", "SOL"} <= {m["base"] for m in markets.values()}
        assert symbol in markets
        server_time = await client.fetch_time()
        assert abs(server_time - client.milliseconds()) < 5_000

        latest = await client.fetch_ohlcv(symbol, "1m", limit=100)
        assert len(latest) == 100
        assert [row[0] for row in latest] == [latest[0][0] + i * MINUTE for i in range(100)]
        assert all(row[3] <= min(row[1], row[4]) <= max(row[1], row[4]) <= row[2] for row in latest)

        start = (client.milliseconds() - 3 * 86_400_000) // MINUTE * MINUTE
        since, rows = start, []
        for _ in range(10):  # 3 days of 1m candles is 5 pages of 1000
            page = await client.fetch_ohlcv(symbol, "1m", since=since, limit=1000)
            if not page:
                break
            rows += page
            since = page[-1][0] + 1
            if len(page) < 1000:
                break
        times = [row[0] for row in rows]
        assert times[0] == start
        assert times == list(range(start, start + len(times) * MINUTE, MINUTE))
        assert len(times) >= 3 * 1440
    finally:
        await client.close()


async def _ws_flow(cls: Any, server: ThreadedServer, symbol: str) -> list[list[Any]]:
    client = _client(cls, server)
    updates = []
    try:
        async with asyncio.timeout(20):
            for _ in range(2):
                candles = await client.watch_ohlcv(symbol, "1m")
                updates.append(list(candles[-1]))
    finally:
        await client.close()
    return updates


@pytest.mark.parametrize(("exchange", "cls", "symbol"), CASES)
def test_ccxt_rest(exchange: str, cls: Any, symbol: str) -> None:
    """load_markets, fetch_time, fetch_ohlcv and 3 days of since-pagination work unchanged."""
    with ThreadedServer(exchanges=[exchange], port=0, ws_port=0) as server:
        asyncio.run(_rest_flow(cls, server, symbol))


@pytest.mark.parametrize(("exchange", "cls", "symbol"), CASES)
def test_ccxt_watch_ohlcv(exchange: str, cls: Any, symbol: str) -> None:
    """watch_ohlcv receives at least two updates of the forming 1m candle."""
    with ThreadedServer(exchanges=[exchange], port=0, ws_port=0) as server:
        updates = asyncio.run(_ws_flow(cls, server, symbol))
        assert len(updates) == 2
        assert updates[0][0] % MINUTE == 0
        model_candle = server.server.model.candle(
            "BTC-USDT", Interval.parse("1m"), updates[-1][0], updates[-1][0] + MINUTE
        )
        assert model_candle is not None
        assert float(model_candle.open) == updates[-1][1]
