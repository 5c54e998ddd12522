"""ccxt (REST and ccxt.pro WebSocket) against the Bybit mocks, with only URLs changed.

ccxt's default ``load_markets()`` asks every category (spot, linear and inverse with their
PreLaunch twins, options for six base coins): each product lists its own pairs and answers the
rest with empty lists, so no ccxt option is touched.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt.pro as ccxtpro
import pytest

from mockfeed import Interval, ThreadedServer
from tests.e2e.ccxt_support import rewrite_urls

MINUTE = 60_000
KEEP_ALIVE_MS = 300
CASES = [
    pytest.param("bybit_spot", "BTC/USDT", "spot", id="bybit_spot"),
    pytest.param("bybit_perpetual", "BTC/USDT:USDT", "swap", id="bybit_perpetual"),
]


def _client(server: ThreadedServer) -> Any:
    client = ccxtpro.bybit()
    client.urls["api"] = rewrite_urls(client.urls["api"], server.rest_url, server.ws_url)
    return client


async def _rest_flow(server: ThreadedServer, symbol: str, kind: str) -> None:
    client = _client(server)
    try:
        markets = await client.load_markets()
        assert {m["symbol"] for m in markets.values()} == {
            symbol.replace("BTC", base) for base in ("BTC", "ETH", "SOL")
        }
        market = markets[symbol]
        assert market["type"] == kind and market["active"]
        if kind == "swap":
            assert market["linear"] and market["settle"] == "USDT"
        assert market["precision"]["price"] == 0.01
        server_time = await client.fetch_time()
        assert abs(server_time - client.milliseconds()) < 5_000

        before = client.milliseconds() // MINUTE * MINUTE
        latest = await client.fetch_ohlcv(symbol, "1m", limit=100)
        assert len(latest) == 100
        assert [row[0] for row in latest] == [latest[0][0] + i * MINUTE for i in range(100)]
        # the forming candle is the last one (Bybit sends it first; ccxt sorts ascending)
        assert before <= latest[-1][0] <= client.milliseconds() // MINUTE * MINUTE
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


async def _ws_flow(server: ThreadedServer, symbol: str) -> list[list[Any]]:
    client = _client(server)
    # ccxt pings with {"op":"ping"} every keepAlive ms and fails the connection after two missed
    # pongs; a short keepAlive makes ~6 pings happen during the three updates below.
    client.streaming = {**client.streaming, "keepAlive": KEEP_ALIVE_MS}
    updates = []
    try:
        async with asyncio.timeout(20):
            for _ in range(3):
                candles = await client.watch_ohlcv(symbol, "1m")
                updates.append(list(candles[-1]))
        [ws] = client.clients.values()
        assert "spot" in ws.url if symbol == "BTC/USDT" else "/v5/public/linear" in ws.url
        assert client.milliseconds() - ws.lastPong < 2 * KEEP_ALIVE_MS, "pongs not recognised"
    finally:
        await client.close()
    return updates


@pytest.mark.parametrize(("exchange", "symbol", "kind"), CASES)
def test_ccxt_rest(exchange: str, symbol: str, kind: str) -> None:
    """Default load_markets, fetch_time, fetch_ohlcv and 3 days of since-pagination work unchanged."""
    with ThreadedServer(exchanges=[exchange], port=0, ws_port=0) as server:
        asyncio.run(_rest_flow(server, symbol, kind))


@pytest.mark.parametrize(("exchange", "symbol", "kind"), CASES)
def test_ccxt_watch_ohlcv(exchange: str, symbol: str, kind: str) -> None:
    """watch_ohlcv gets updates of the forming 1m candle (the model's open); ccxt's pings get pongs."""
    with ThreadedServer(exchanges=[exchange], port=0, ws_port=0) as server:
        updates = asyncio.run(_ws_flow(server, symbol))
        assert len(updates) == 3
        assert updates[0][0] % MINUTE == 0
        model_candle = server.server.model.candle(
            "BTC-USDT", Interval.parse("1m"), updates[-1][0], updates[-1][0] + MINUTE
        )
        assert model_candle is not None
        assert float(model_candle.open) == updates[-1][1]
