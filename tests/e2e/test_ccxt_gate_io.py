"""ccxt (REST and ccxt.pro WebSocket) against the Gate mocks, with only URLs changed."""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt.pro as ccxtpro
import pytest
from ccxt.base.errors import BadRequest

from mockfeed import Interval, ThreadedServer
from tests.e2e.ccxt_support import rewrite_urls

MINUTE = 60_000
KEEP_ALIVE_MS = 500
CASES = [
    pytest.param("gate_io_spot", "BTC/USDT", "spot", id="gate_io_spot"),
    pytest.param("gate_io_perpetual", "BTC/USDT:USDT", "swap", id="gate_io_perpetual"),
]


def _client(server: ThreadedServer) -> Any:
    """ccxt.pro's gate with every ``urls['api']`` origin pointed at the mock, nothing else changed."""
    client = ccxtpro.gate()
    client.urls["api"] = rewrite_urls(client.urls["api"], server.rest_url, server.ws_url)
    return client


async def _rest_flow(server: ThreadedServer, symbol: str, market_type: str) -> None:
    client = _client(server)
    try:
        markets = await client.load_markets()  # default options: spot, swap, future and option listings
        assert {m["symbol"] for m in markets.values()} == {
            f"{base}/USDT" + (":USDT" if market_type == "swap" else "") for base in ("BTC", "ETH", "SOL")
        }
        market = markets[symbol]
        assert market["type"] == market_type and market["active"] is True
        assert market["precision"]["price"] == 0.01
        if market_type == "swap":
            assert market["contractSize"] == 0.00001 and market["linear"] is True
        assert abs(await client.fetch_time() - client.milliseconds()) < 5_000

        latest = await client.fetch_ohlcv(symbol, "1m", limit=100)
        assert len(latest) == 100
        assert [row[0] for row in latest] == [latest[0][0] + i * MINUTE for i in range(100)]
        assert all(row[3] <= min(row[1], row[4]) <= max(row[1], row[4]) <= row[2] for row in latest)

        # 3 days of 1m candles (inside Gate's 10 000-candle window), a full page at a time. ccxt sends
        # from = since // 1000 and to = from + (page - 1) minutes; the next since is the next minute.
        start = (client.milliseconds() - 3 * 86_400_000) // MINUTE * MINUTE
        since, rows = start, []
        for _ in range(10):
            page = await client.fetch_ohlcv(symbol, "1m", since=since)
            if not page:
                break
            rows += page
            since = page[-1][0] + MINUTE
        times = [row[0] for row in rows]
        assert times[0] == start
        assert times == list(range(start, start + len(times) * MINUTE, MINUTE))
        assert len(times) >= 3 * 1440

        with pytest.raises(BadRequest, match="Candlestick too long ago"):
            await client.fetch_ohlcv(symbol, "1m", since=client.milliseconds() - 30 * 86_400_000)
        with pytest.raises(BadRequest, match="INVALID_PARAM_VALUE"):
            await client.fetch_ohlcv(symbol, "2h")  # in ccxt's timeframes, not in Gate's enum
    finally:
        await client.close()


async def _ws_flow(server: ThreadedServer, symbol: str) -> tuple[list[list[Any]], float]:
    client = _client(server)
    # ccxt keeps Gate alive with protocol pings every keepAlive ms and fails the connection when
    # no pong comes back; a short keepAlive makes several pings happen during the updates below.
    client.streaming = {**client.streaming, "keepAlive": KEEP_ALIVE_MS}
    updates = []
    try:
        async with asyncio.timeout(20):
            for _ in range(2):
                candles = await client.watch_ohlcv(symbol, "1m")
                updates.append(list(candles[-1]))
            [ws] = client.clients.values()
            pong_age = client.milliseconds() - ws.lastPong
            with pytest.raises(BadRequest, match="unknown interval"):
                await client.watch_ohlcv(symbol, "2h")
    finally:
        await client.close()
    return updates, pong_age


@pytest.mark.parametrize(("exchange", "symbol", "market_type"), CASES)
def test_ccxt_rest(exchange: str, symbol: str, market_type: str) -> None:
    """Default load_markets, fetch_time, fetch_ohlcv, 3 days of since-pagination and native errors."""
    with ThreadedServer(exchanges=[exchange], port=0, ws_port=0) as server:
        asyncio.run(_rest_flow(server, symbol, market_type))


@pytest.mark.parametrize(("exchange", "symbol", "market_type"), CASES)
def test_ccxt_watch_ohlcv(exchange: str, symbol: str, market_type: str) -> None:
    """watch_ohlcv gets updates of the forming 1m candle (the model's), pongs come back, errors raise."""
    with ThreadedServer(exchanges=[exchange], port=0, ws_port=0) as server:
        updates, pong_age = asyncio.run(_ws_flow(server, symbol))
        assert len(updates) == 2
        assert updates[0][0] % MINUTE == 0
        assert pong_age < 2 * KEEP_ALIVE_MS, "protocol pongs not seen"
        model_candle = server.server.model.candle(
            "BTC-USDT", Interval.parse("1m"), updates[-1][0], updates[-1][0] + MINUTE
        )
        assert model_candle is not None
        assert float(model_candle.open) == updates[-1][1]
