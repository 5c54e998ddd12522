"""ccxt (REST and ccxt.pro WebSocket) against the Gate mocks, with only URLs changed."""

from __future__ import annotations

import asyncio

import ccxt.pro as ccxtpro
import pytest
from ccxt.base.errors import BadRequest

from mockfeed import ThreadedServer
from tests.e2e import ccxt_support as cx

KEEP_ALIVE_MS = 500
CASES = [
    pytest.param("gate_io_spot", "BTC/USDT", "spot", id="gate_io_spot"),
    pytest.param("gate_io_perpetual", "BTC/USDT:USDT", "swap", id="gate_io_perpetual"),
]


async def _rest_flow(server: ThreadedServer, symbol: str, market_type: str) -> None:
    # ccxt.pro's gate with every ``urls['api']`` origin pointed at the mock, nothing else changed.
    async with cx.open_client(ccxtpro.gate, server) as client:
        markets = await client.load_markets()  # default options: spot, swap, future and option listings
        assert cx.listed(markets, "symbol") == {
            f"{base}/USDT" + (":USDT" if market_type == "swap" else "") for base in cx.BASES
        }
        market = markets[symbol]
        assert market["type"] == market_type and market["active"] is True
        assert market["precision"]["price"] == 0.01
        if market_type == "swap":
            assert market["contractSize"] == 0.00001 and market["linear"] is True
        await cx.assert_fetch_time(client)

        await cx.fetch_latest(client, symbol)

        # 3 days of 1m candles (inside Gate's 10 000-candle window), a full page at a time. ccxt sends
        # from = since // 1000 and to = from + (page - 1) minutes; the next since is the next minute.
        start = cx.days_ago(client, 3)
        rows = await cx.paginate_since(client, symbol, "1m", start, None, step=cx.MINUTE, max_pages=10)
        cx.assert_contiguous(rows, start, cx.MINUTE)
        assert len(rows) >= 3 * 1440

        with pytest.raises(BadRequest, match="Candlestick too long ago"):
            await client.fetch_ohlcv(symbol, "1m", since=client.milliseconds() - 30 * cx.DAY)
        with pytest.raises(BadRequest, match="INVALID_PARAM_VALUE"):
            await client.fetch_ohlcv(symbol, "2h")  # in ccxt's timeframes, not in Gate's enum


async def _ws_flow(server: ThreadedServer, symbol: str) -> None:
    # ccxt keeps Gate alive with protocol pings every keepAlive ms and fails the connection when
    # no pong comes back; a short keepAlive makes several pings happen during the updates below.
    streaming = {"keepAlive": KEEP_ALIVE_MS}
    async with cx.open_client(ccxtpro.gate, server, streaming=streaming) as client, asyncio.timeout(20):
        updates = await cx.watch_updates(client, symbol, "1m", 2, 20)
        [ws] = client.clients.values()
        for _ in range(60):  # the updates can come before the first keep-alive round trip
            if ws.lastPong is not None:
                break
            await asyncio.sleep(0.05)
        assert ws.lastPong is not None, "protocol pongs not seen"
        pong_age = client.milliseconds() - ws.lastPong
        with pytest.raises(BadRequest, match="unknown interval"):
            await client.watch_ohlcv(symbol, "2h")
    assert len(updates) == 2
    assert pong_age < 2 * KEEP_ALIVE_MS, "protocol pongs not seen"
    cx.assert_forming_candles(server, updates)


@pytest.mark.parametrize(("exchange", "symbol", "market_type"), CASES)
def test_ccxt_rest(exchange: str, symbol: str, market_type: str) -> None:
    """Default load_markets, fetch_time, fetch_ohlcv, 3 days of since-pagination and native errors."""
    cx.run_on_mock(exchange, _rest_flow, symbol, market_type)


@pytest.mark.parametrize(("exchange", "symbol", "market_type"), CASES)
def test_ccxt_watch_ohlcv(exchange: str, symbol: str, market_type: str) -> None:
    """watch_ohlcv gets updates of the forming 1m candle (the model's), pongs come back, errors raise."""
    cx.run_on_mock(exchange, _ws_flow, symbol)
