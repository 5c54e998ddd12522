"""ccxt (REST and ccxt.pro WebSocket) against the Binance mocks, with only URLs changed."""

from __future__ import annotations

from typing import Any

import ccxt.pro as ccxtpro
import pytest

from mockfeed import ThreadedServer
from tests.e2e import ccxt_support as cx

CASES = [
    pytest.param("binance_spot", ccxtpro.binance, "BTC/USDT", id="binance_spot"),
    pytest.param("binance_perpetual", ccxtpro.binanceusdm, "BTC/USDT:USDT", id="binance_perpetual"),
]


async def _rest_flow(server: ThreadedServer, cls: Any, symbol: str) -> None:
    async with cx.open_client(cls, server) as client:
        markets = await client.load_markets()
        assert set(cx.BASES) <= cx.listed(markets, "base")
        assert symbol in markets
        await cx.assert_fetch_time(client)

        await cx.fetch_latest(client, symbol)

        start = cx.days_ago(client, 3)  # 3 days of 1m candles is 5 pages of 1000
        rows = await cx.paginate_since(client, symbol, "1m", start, 1000, max_pages=10)
        cx.assert_contiguous(rows, start, cx.MINUTE)
        assert len(rows) >= 3 * 1440


async def _ws_flow(server: ThreadedServer, cls: Any, symbol: str) -> None:
    async with cx.open_client(cls, server) as client:
        updates = await cx.watch_updates(client, symbol, "1m", 2, 20)
    assert len(updates) == 2
    cx.assert_forming_candles(server, updates)


@pytest.mark.parametrize(("exchange", "cls", "symbol"), CASES)
def test_ccxt_rest(exchange: str, cls: Any, symbol: str) -> None:
    """load_markets, fetch_time, fetch_ohlcv and 3 days of since-pagination work unchanged."""
    cx.run_on_mock(exchange, _rest_flow, cls, symbol)


@pytest.mark.parametrize(("exchange", "cls", "symbol"), CASES)
def test_ccxt_watch_ohlcv(exchange: str, cls: Any, symbol: str) -> None:
    """watch_ohlcv receives at least two updates of the forming 1m candle."""
    cx.run_on_mock(exchange, _ws_flow, cls, symbol)
