"""ccxt (REST and ccxt.pro WebSocket) against the MEXC mocks, with only URLs changed.

ccxt loads spot and contract markets whichever it trades, so each mock serves the other API's listing
empty; the spot stream is protobuf, which ccxt decodes with the ``protobuf`` package.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt.pro as ccxtpro
import pytest

from mockfeed import ThreadedServer
from tests.e2e import ccxt_support as cx

MINUTE = cx.MINUTE
CASES = [
    pytest.param("mexc_spot", "BTC/USDT", 500, id="mexc_spot"),  # ccxt's spot window: 500 candles
    pytest.param("mexc_perpetual", "BTC/USDT:USDT", 2000, id="mexc_perpetual"),  # contract: 2000 rows
]


def _open_client(server: ThreadedServer) -> Any:
    # Only the client-side throttle is off (contract/detail costs 100 tokens: a 5 s pause before the
    # next call); requests and parsing are exactly ccxt's defaults.
    return cx.open_client(ccxtpro.mexc, server, enableRateLimit=False)


def _reaches_now(client: Any, page: list[list[Any]]) -> bool:
    """The page ends at the last closed 1m candle or later."""
    return page[-1][0] >= cx.forming_open(client) - MINUTE


async def _rest_flow(server: ThreadedServer, symbol: str, page_size: int) -> None:
    async with _open_client(server) as client:
        markets = await client.load_markets()
        assert cx.listed(markets, "symbol") == cx.symbol_family(symbol)
        market = markets[symbol]
        assert market["active"] is True
        assert market["precision"]["price"] == 0.01
        for params in ({}, {"type": "swap"}):  # spot /api/v3/time and contract /ping, on both mocks
            await cx.assert_fetch_time(client, params)

        latest = await cx.fetch_latest(client, symbol)
        assert _reaches_now(client, latest)  # ends at now

        start = cx.days_ago(client, 3)
        pages = await cx.since_pages(  # 3 days of 1m candles: 9 spot pages of 500, 3 contract pages of 2000
            client, symbol, "1m", start, page_size, max_pages=20, last_page=lambda page: _reaches_now(client, page)
        )
        assert all(0 < len(page) <= page_size for page in pages)
        rows = [row for page in pages for row in page]
        cx.assert_contiguous(rows, start, MINUTE)
        assert len(rows) >= 3 * 1440


async def _ws_flow(server: ThreadedServer, symbol: str) -> None:
    async with _open_client(server) as client, asyncio.timeout(20):
        updates = await cx.watch_updates(client, symbol, "1m", 2, 20)
        await client.un_watch_ohlcv(symbol, "1m")
    assert len(updates) == 2
    cx.assert_forming_candles(server, updates)


@pytest.mark.parametrize(("exchange", "symbol", "page_size"), CASES)
def test_ccxt_rest(exchange: str, symbol: str, page_size: int) -> None:
    """load_markets, fetch_time, fetch_ohlcv and 3 days of since-pagination work unchanged."""
    cx.run_on_mock(exchange, _rest_flow, symbol, page_size)


@pytest.mark.parametrize(("exchange", "symbol", "page_size"), CASES)
def test_ccxt_watch_ohlcv(exchange: str, symbol: str, page_size: int) -> None:
    """watch_ohlcv receives at least two updates of the forming 1m candle, as the model has it."""
    cx.run_on_mock(exchange, _ws_flow, symbol)


async def _both_flow(spot: ThreadedServer, perp: ThreadedServer) -> None:
    async with _open_client(spot) as client:
        client.urls["api"]["contract"] = cx.rewrite_urls(client.urls["api"]["contract"], perp.rest_url, perp.ws_url)
        client.urls["api"]["ws"]["swap"] = perp.ws_url + "/edge"
        markets = await client.load_markets()
        assert {"BTC/USDT", "BTC/USDT:USDT"} <= set(markets) and len(markets) == 6
        async with asyncio.timeout(20):
            for symbol in ("BTC/USDT", "BTC/USDT:USDT"):
                assert len(await client.fetch_ohlcv(symbol, "5m", limit=10)) == 10
                assert (await client.watch_ohlcv(symbol, "1m"))[-1][0] % MINUTE == 0


def test_ccxt_one_client_for_both_products() -> None:
    """Spot URLs on the spot mock and contract URLs on the perpetual mock: one client sees both."""
    with cx.serve("mexc_spot") as spot, cx.serve("mexc_perpetual") as perp:
        asyncio.run(_both_flow(spot, perp))
