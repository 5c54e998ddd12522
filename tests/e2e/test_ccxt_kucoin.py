"""ccxt (REST and ccxt.pro WebSocket) against the KuCoin mocks, with only URLs changed.

ccxt's spot class also loads futures contracts from ``urls['api']['futuresPublic']`` and its futures
class loads currencies from ``urls['api']['public']``; rewriting every URL sends both to the one
mock, which answers the other product's listing with an empty list. The WebSocket URL is not
configured at all: ccxt takes it from the mock's ``POST /api/v1/bullet-public``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt
import ccxt.pro as ccxtpro
import pytest

from mockfeed import ThreadedServer
from tests.e2e import ccxt_support as cx

CASES = [
    pytest.param("kucoin_spot", ccxtpro.kucoin, "BTC/USDT", 1000, id="kucoin_spot"),
    pytest.param("kucoin_perpetual", ccxtpro.kucoinfutures, "BTC/USDT:USDT", 200, id="kucoin_perpetual"),
]


async def _rest_flow(server: ThreadedServer, cls: Any, symbol: str, page_size: int) -> None:
    async with cx.open_client(cls, server) as client:
        markets = await client.load_markets()
        assert cx.listed(markets, "base") == set(cx.BASES)
        market = markets[symbol]
        assert market["active"]
        if market["contract"]:
            assert market["swap"] and market["linear"] and market["settle"] == "USDT"
            assert market["id"] == "XBTUSDTM" and market["contractSize"] == 0.00001
        else:
            assert market["id"] == "BTC-USDT" and market["precision"]["price"] == 0.01
        await cx.assert_fetch_time(client)

        latest = await cx.fetch_latest(client, symbol)
        model = cx.model_candle(server, latest[-2][0], latest[-1][0])
        contract = market["contractSize"] or 1
        assert latest[-2][5] * contract == pytest.approx(float(model.volume))

        with pytest.raises(ccxt.BadRequest, match="400100"):  # the mock's code, mapped by ccxt
            await client.fetch_ohlcv(symbol, "3m" if market["contract"] else "1s")

        start = cx.days_ago(client, 3)  # 3 days of 1m candles: 5 pages of 1000 (spot), 22 of 200 (futures)
        rows = await cx.paginate_since(client, symbol, "1m", start, page_size, max_pages=40)
        cx.assert_contiguous(rows, start, cx.MINUTE)
        assert len(rows) >= 3 * 1440


async def _ws_flow(server: ThreadedServer, cls: Any, symbol: str) -> None:
    async with cx.open_client(cls, server) as client, asyncio.timeout(20):
        updates = await cx.watch_updates(client, symbol, "1m", 2, 20)
        await client.un_watch_ohlcv(symbol, "1m")  # unsubscribe, resolved by the mock's ack
        updates += await cx.watch_updates(client, symbol, "1m", 1, 20)  # and subscribe again
    assert len(updates) == 3
    cx.assert_forming_candles(server, updates)


@pytest.mark.parametrize(("exchange", "cls", "symbol", "page_size"), CASES)
def test_ccxt_rest(exchange: str, cls: Any, symbol: str, page_size: int) -> None:
    """load_markets, fetch_time, fetch_ohlcv and 3 days of since-pagination work unchanged."""
    cx.run_on_mock(exchange, _rest_flow, cls, symbol, page_size)


@pytest.mark.parametrize(("exchange", "cls", "symbol", "page_size"), CASES)
def test_ccxt_watch_ohlcv(exchange: str, cls: Any, symbol: str, page_size: int) -> None:
    """watch_ohlcv (token from bullet-public) receives updates of the forming 1m candle."""
    cx.run_on_mock(exchange, _ws_flow, cls, symbol)


async def _both_mocks_flow(server: ThreadedServer) -> None:
    spot, perp = server.server["kucoin_spot"], server.server["kucoin_perpetual"]
    async with cx.closing(ccxtpro.kucoin()) as client:
        client.urls["api"]["public"] = spot.rest_url
        client.urls["api"]["futuresPublic"] = perp.rest_url
        markets = await client.load_markets()
        assert {"BTC/USDT", "BTC/USDT:USDT"} <= set(markets)
        for symbol in ("BTC/USDT", "BTC/USDT:USDT"):
            rows = await client.fetch_ohlcv(symbol, "1m", limit=5)
            assert len(rows) == 5
            [candle] = await cx.watch_updates(client, symbol, "1m", 1, 10)  # each from its own bullet-public
            assert candle[0] == rows[-1][0] or candle[0] == rows[-1][0] + cx.MINUTE


def test_ccxt_spot_class_with_both_mocks() -> None:
    """ccxt.kucoin with public -> spot mock and futuresPublic -> futures mock sees both products."""
    with cx.serve("kucoin_spot", "kucoin_perpetual") as server:
        asyncio.run(_both_mocks_flow(server))
