"""ccxt (REST and ccxt.pro WebSocket) against the OKX mocks, with only URLs changed."""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt
import ccxt.pro as ccxtpro
import pytest

from mockfeed import Interval, ThreadedServer
from tests.e2e.ccxt_support import rewrite_urls

MINUTE = 60_000
PAGE = 300  # OKX's maximum page; ccxt caps any larger limit to it
CASES = [
    pytest.param("okx_spot", "BTC/USDT", "spot", id="okx_spot"),
    pytest.param("okx_perpetual", "BTC/USDT:USDT", "swap", id="okx_perpetual"),
]


def _client(server: ThreadedServer) -> Any:
    client = ccxtpro.okx()
    # urls['api'] = {'rest': 'https://{hostname}', 'ws': 'wss://ws.okx.com:443/ws/v5'}
    client.urls["api"] = rewrite_urls(client.urls["api"], server.rest_url, server.ws_url)
    return client


async def _rest_flow(server: ThreadedServer, symbol: str, market_type: str) -> None:
    client = _client(server)
    try:
        markets = await client.load_markets()  # 5 instrument requests with the default options
        assert {m["base"] for m in markets.values()} == {"BTC", "ETH", "SOL"}
        market = markets[symbol]
        assert market["type"] == market_type and market["active"]
        if market_type == "swap":
            assert market["linear"] and market["settle"] == "USDT" and market["contractSize"] == 0.01
        server_time = await client.fetch_time()
        assert abs(server_time - client.milliseconds()) < 5_000

        latest = await client.fetch_ohlcv(symbol, "1m", limit=100)  # /market/candles, no since
        assert len(latest) == 100
        assert [row[0] for row in latest] == [latest[0][0] + i * MINUTE for i in range(100)]
        assert all(row[3] <= min(row[1], row[4]) <= max(row[1], row[4]) <= row[2] for row in latest)
        model = server.server.model.candle("BTC-USDT", Interval.parse("1m"), latest[-2][0], latest[-1][0])
        assert model is not None and latest[-2][5] == float(model.volume)  # base volume, both products

        with pytest.raises(ccxt.BadRequest, match="51000"):  # 1s is history-candles only
            await client.fetch_ohlcv(symbol, "1s")

        # Three days back is beyond /market/candles' 1,440 bars: ccxt pages on history-candles.
        start = (client.milliseconds() - 3 * 86_400_000) // MINUTE * MINUTE
        since, rows = start, []
        for _ in range(20):  # 3 days of 1m candles is 15 pages of 300
            page = await client.fetch_ohlcv(symbol, "1m", since=since, limit=1000)
            if not page:
                break
            rows += page
            since = page[-1][0] + 1
            if len(page) < PAGE:
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
                candles = await client.watch_ohlcv(symbol, "1m")  # on <ws>/business
                updates.append(list(candles[-1]))
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
    """watch_ohlcv receives at least two updates of the forming 1m candle."""
    with ThreadedServer(exchanges=[exchange], port=0, ws_port=0) as server:
        updates = asyncio.run(_ws_flow(server, symbol))
        assert len(updates) == 2
        assert updates[0][0] % MINUTE == 0
        model_candle = server.server.model.candle(
            "BTC-USDT", Interval.parse("1m"), updates[-1][0], updates[-1][0] + MINUTE
        )
        assert model_candle is not None
        assert float(model_candle.open) == updates[-1][1]
