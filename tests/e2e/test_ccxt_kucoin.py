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

from mockfeed import Interval, ThreadedServer
from tests.e2e.ccxt_support import rewrite_urls

MINUTE = 60_000
CASES = [
    pytest.param("kucoin_spot", ccxtpro.kucoin, "BTC/USDT", 1000, id="kucoin_spot"),
    pytest.param("kucoin_perpetual", ccxtpro.kucoinfutures, "BTC/USDT:USDT", 200, id="kucoin_perpetual"),
]


def _client(cls: Any, server: ThreadedServer) -> Any:
    client = cls()
    client.urls["api"] = rewrite_urls(client.urls["api"], server.rest_url, server.ws_url)
    return client


async def _rest_flow(cls: Any, server: ThreadedServer, symbol: str, page_size: int) -> None:
    client = _client(cls, server)
    try:
        markets = await client.load_markets()
        assert {m["base"] for m in markets.values()} == {"BTC", "ETH", "SOL"}
        market = markets[symbol]
        assert market["active"]
        if market["contract"]:
            assert market["swap"] and market["linear"] and market["settle"] == "USDT"
            assert market["id"] == "XBTUSDTM" and market["contractSize"] == 0.00001
        else:
            assert market["id"] == "BTC-USDT" and market["precision"]["price"] == 0.01
        server_time = await client.fetch_time()
        assert abs(server_time - client.milliseconds()) < 5_000

        latest = await client.fetch_ohlcv(symbol, "1m", limit=100)
        assert len(latest) == 100
        assert [row[0] for row in latest] == [latest[0][0] + i * MINUTE for i in range(100)]
        assert all(row[3] <= min(row[1], row[4]) <= max(row[1], row[4]) <= row[2] for row in latest)
        model = server.server.model.candle("BTC-USDT", Interval.parse("1m"), latest[-2][0], latest[-1][0])
        assert model is not None
        contract = market["contractSize"] or 1
        assert latest[-2][5] * contract == pytest.approx(float(model.volume))

        with pytest.raises(ccxt.BadRequest, match="400100"):  # the mock's code, mapped by ccxt
            await client.fetch_ohlcv(symbol, "3m" if market["contract"] else "1s")

        start = (client.milliseconds() - 3 * 86_400_000) // MINUTE * MINUTE
        since, rows = start, []
        for _ in range(40):  # 3 days of 1m candles: 5 pages of 1000 (spot), 22 of 200 (futures)
            page = await client.fetch_ohlcv(symbol, "1m", since=since, limit=page_size)
            if not page:
                break
            rows += page
            since = page[-1][0] + 1
            if len(page) < page_size:
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
            await client.un_watch_ohlcv(symbol, "1m")  # unsubscribe, resolved by the mock's ack
            candles = await client.watch_ohlcv(symbol, "1m")  # and subscribe again
            updates.append(list(candles[-1]))
    finally:
        await client.close()
    return updates


@pytest.mark.parametrize(("exchange", "cls", "symbol", "page_size"), CASES)
def test_ccxt_rest(exchange: str, cls: Any, symbol: str, page_size: int) -> None:
    """load_markets, fetch_time, fetch_ohlcv and 3 days of since-pagination work unchanged."""
    with ThreadedServer(exchanges=[exchange], port=0, ws_port=0) as server:
        asyncio.run(_rest_flow(cls, server, symbol, page_size))


@pytest.mark.parametrize(("exchange", "cls", "symbol", "page_size"), CASES)
def test_ccxt_watch_ohlcv(exchange: str, cls: Any, symbol: str, page_size: int) -> None:
    """watch_ohlcv (token from bullet-public) receives updates of the forming 1m candle."""
    with ThreadedServer(exchanges=[exchange], port=0, ws_port=0) as server:
        updates = asyncio.run(_ws_flow(cls, server, symbol))
        assert len(updates) == 3
        assert all(row[0] % MINUTE == 0 for row in updates)
        model_candle = server.server.model.candle(
            "BTC-USDT", Interval.parse("1m"), updates[-1][0], updates[-1][0] + MINUTE
        )
        assert model_candle is not None
        assert float(model_candle.open) == updates[-1][1]


async def _both_mocks_flow(server: ThreadedServer) -> None:
    spot, perp = server.server["kucoin_spot"], server.server["kucoin_perpetual"]
    client = ccxtpro.kucoin()
    client.urls["api"]["public"] = spot.rest_url
    client.urls["api"]["futuresPublic"] = perp.rest_url
    try:
        markets = await client.load_markets()
        assert {"BTC/USDT", "BTC/USDT:USDT"} <= set(markets)
        for symbol in ("BTC/USDT", "BTC/USDT:USDT"):
            rows = await client.fetch_ohlcv(symbol, "1m", limit=5)
            assert len(rows) == 5
            async with asyncio.timeout(10):
                candles = await client.watch_ohlcv(symbol, "1m")  # each from its own bullet-public
            assert candles[-1][0] == rows[-1][0] or candles[-1][0] == rows[-1][0] + MINUTE
    finally:
        await client.close()


def test_ccxt_spot_class_with_both_mocks() -> None:
    """ccxt.kucoin with public -> spot mock and futuresPublic -> futures mock sees both products."""
    with ThreadedServer(exchanges=["kucoin_spot", "kucoin_perpetual"], port=0, ws_port=0) as server:
        asyncio.run(_both_mocks_flow(server))
