"""ccxt (REST and ccxt.pro WebSocket) against the Hyperliquid mocks, with only URLs changed."""

from __future__ import annotations

import asyncio

import ccxt.pro as ccxtpro
import pytest

from mockfeed import ThreadedServer
from tests.e2e import ccxt_support as cx

MINUTE = cx.MINUTE
CASES = [
    pytest.param("hyperliquid_spot", "BTC/USDC", "spot", id="hyperliquid_spot"),
    pytest.param("hyperliquid_perpetual", "BTC/USDC:USDC", "swap", id="hyperliquid_perpetual"),
]


async def _rest_flow(server: ThreadedServer, symbol: str, market_type: str) -> None:
    async with cx.open_client(ccxtpro.hyperliquid, server) as client:
        markets = await client.load_markets()
        assert cx.listed(markets, "base") == set(cx.BASES)
        assert cx.listed(markets, "type") == {market_type}
        assert symbol in markets
        await cx.assert_fetch_time(client)

        latest = await cx.fetch_latest(client, symbol)
        assert cx.forming_open(client) - latest[-1][0] in (0, MINUTE)

        start = cx.days_ago(client, 3)  # 3 days of 1m candles is 5 pages of 1000
        rows = await cx.paginate_since(client, symbol, "1m", start, 1000, max_pages=10)
        cx.assert_contiguous(rows, start, MINUTE)
        assert len(rows) >= 3 * 1440

        old = start - 30 * cx.DAY  # beyond the 5000-candle window: bound it with ``until``
        page = await client.fetch_ohlcv(symbol, "1m", since=old, limit=1000,
                                        params={"until": old + 1000 * MINUTE})
        assert [row[0] for row in page] == list(range(old, old + 1000 * MINUTE, MINUTE))


async def _ws_flow(server: ThreadedServer, symbol: str) -> None:
    async with cx.open_client(ccxtpro.hyperliquid, server) as client, asyncio.timeout(20):
        updates = await cx.watch_updates(client, symbol, "1m", 2, 20)
        await client.un_watch_ohlcv(symbol, "1m")
    assert len(updates) == 2
    cx.assert_forming_candles(server, updates)


@pytest.mark.parametrize(("exchange", "symbol", "market_type"), CASES)
def test_ccxt_rest(exchange: str, symbol: str, market_type: str) -> None:
    """load_markets, fetch_time, fetch_ohlcv and 3 days of since-pagination work unchanged."""
    cx.run_on_mock(exchange, _rest_flow, symbol, market_type)


@pytest.mark.parametrize(("exchange", "symbol", "market_type"), CASES)
def test_ccxt_watch_ohlcv(exchange: str, symbol: str, market_type: str) -> None:
    """watch_ohlcv receives two updates of the forming 1m candle, then un_watch_ohlcv is acknowledged."""
    cx.run_on_mock(exchange, _ws_flow, symbol)
