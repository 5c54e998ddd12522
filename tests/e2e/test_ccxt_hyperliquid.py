"""ccxt (REST and ccxt.pro WebSocket) against the Hyperliquid mocks, with only URLs changed."""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt.pro as ccxtpro
import pytest

from mockfeed import Interval, ThreadedServer
from tests.e2e.ccxt_support import rewrite_urls

MINUTE = 60_000
CASES = [
    pytest.param("hyperliquid_spot", "BTC/USDC", "spot", id="hyperliquid_spot"),
    pytest.param("hyperliquid_perpetual", "BTC/USDC:USDC", "swap", id="hyperliquid_perpetual"),
]


def _client(server: ThreadedServer) -> Any:
    client = ccxtpro.hyperliquid()
    client.urls["api"] = rewrite_urls(client.urls["api"], server.rest_url, server.ws_url)
    return client


async def _rest_flow(server: ThreadedServer, symbol: str, market_type: str) -> None:
    client = _client(server)
    try:
        markets = await client.load_markets()
        assert {"BTC", "ETH", "SOL"} == {m["base"] for m in markets.values()}
        assert {m["type"] for m in markets.values()} == {market_type}
        assert symbol in markets
        server_time = await client.fetch_time()
        assert abs(server_time - client.milliseconds()) < 5_000

        latest = await client.fetch_ohlcv(symbol, "1m", limit=100)
        assert len(latest) == 100
        assert [row[0] for row in latest] == [latest[0][0] + i * MINUTE for i in range(100)]
        assert client.milliseconds() // MINUTE * MINUTE - latest[-1][0] in (0, MINUTE)
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

        old = start - 30 * 86_400_000  # beyond the 5000-candle window: bound it with ``until``
        page = await client.fetch_ohlcv(symbol, "1m", since=old, limit=1000,
                                        params={"until": old + 1000 * MINUTE})
        assert [row[0] for row in page] == list(range(old, old + 1000 * MINUTE, MINUTE))
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


@pytest.mark.parametrize(("exchange", "symbol", "market_type"), CASES)
def test_ccxt_rest(exchange: str, symbol: str, market_type: str) -> None:
    """load_markets, fetch_time, fetch_ohlcv and 3 days of since-pagination work unchanged."""
    with ThreadedServer(exchanges=[exchange], port=0, ws_port=0) as server:
        asyncio.run(_rest_flow(server, symbol, market_type))


@pytest.mark.parametrize(("exchange", "symbol", "market_type"), CASES)
def test_ccxt_watch_ohlcv(exchange: str, symbol: str, market_type: str) -> None:
    """watch_ohlcv receives two updates of the forming 1m candle, then un_watch_ohlcv is acknowledged."""
    with ThreadedServer(exchanges=[exchange], port=0, ws_port=0) as server:
        updates = asyncio.run(_ws_flow(server, symbol))
        assert len(updates) == 2
        assert updates[0][0] % MINUTE == 0
        model_candle = server.server.model.candle(
            "BTC-USDT", Interval.parse("1m"), updates[-1][0], updates[-1][0] + MINUTE
        )
        assert model_candle is not None
        assert float(model_candle.open) == updates[-1][1]
