"""ccxt (REST; ccxt.pro has no Coinbase candles) against the Coinbase Advanced Trade mock, URLs changed."""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt
import ccxt.pro as ccxtpro
import pytest

from mockfeed import ThreadedServer
from tests.e2e.ccxt_support import rewrite_urls

MINUTE = 60_000
EXCHANGE = "coinbase_advanced_trade"
SYMBOL = "BTC/USDT"


def _client(server: ThreadedServer) -> Any:
    client = ccxtpro.coinbase()
    client.urls["api"] = rewrite_urls(client.urls["api"], server.rest_url, server.ws_url)
    return client


@pytest.fixture(scope="module")
def server() -> Any:
    """One mock for the module: these tests only read."""
    with ThreadedServer(exchanges=[EXCHANGE], port=0, ws_port=0) as running:
        yield running


async def _markets_and_time(server: ThreadedServer) -> None:
    client = _client(server)
    try:
        markets = await client.load_markets()
        assert set(markets) == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
        btc = markets[SYMBOL]
        assert (btc["id"], btc["base"], btc["quote"], btc["type"]) == ("BTC-USDT", "BTC", "USDT", "spot")
        assert btc["spot"] is True and btc["active"] is True
        assert (btc["precision"]["amount"], btc["precision"]["price"]) == (0.00001, 0.01)
        assert {"BTC", "ETH", "SOL", "USDT", "USD"} <= set(client.currencies)
        assert client.currencies["BTC"]["name"] == "Bitcoin"
        for method in ("v2PublicGetTime", "v3PublicGetBrokerageTime"):
            server_time = await client.fetch_time({"method": method})
            assert abs(server_time - client.milliseconds()) < 5_000
            assert server_time % 1000 == 0  # ccxt reads whole seconds from both endpoints
    finally:
        await client.close()


async def _ohlcv(server: ThreadedServer) -> None:
    client = _client(server)
    try:
        latest = await client.fetch_ohlcv(SYMBOL, "1m", limit=100)
        assert len(latest) == 100
        assert [row[0] for row in latest] == [latest[0][0] + i * MINUTE for i in range(100)]
        assert latest[-1][0] == client.milliseconds() // MINUTE * MINUTE  # the forming candle last
        assert all(row[3] <= min(row[1], row[4]) <= max(row[1], row[4]) <= row[2] for row in latest)

        start = (client.milliseconds() - 3 * 86_400_000) // MINUTE * MINUTE
        since, rows = start, []
        now_minute = client.milliseconds() // MINUTE * MINUTE
        for _ in range(20):  # 3 days of 1m candles is 15 pages of ccxt's 300
            page = await client.fetch_ohlcv(SYMBOL, "1m", since=since, limit=1000)
            if not page:
                break
            # ccxt asks [since, since + 300 min); its "+1 ms" since drops the already-seen first row.
            assert 299 <= len(page) <= 300 or page[-1][0] >= now_minute
            rows += page
            since = page[-1][0] + 1
            if page[-1][0] >= now_minute:
                break
        times = [row[0] for row in rows]
        assert times[0] == start
        assert times == list(range(start, start + len(times) * MINUTE, MINUTE))
        assert len(times) >= 3 * 1440

        hours = await client.fetch_ohlcv("ETH/USDT", "1h", since=start, limit=24)
        first_hour = -(-start // 3_600_000) * 3_600_000  # ccxt drops the bucket that opens before since
        assert [row[0] for row in hours] == [first_hour + 3_600_000 * i for i in range(24)]
    finally:
        await client.close()


async def _errors(server: ThreadedServer) -> None:
    client = _client(server)
    try:
        await client.load_markets()
        with pytest.raises(ccxt.BadRequest, match="number of candles requested"):
            until = {"until": 1_767_300_000_000}  # 1245 minutes after since
            await client.fetch_ohlcv(SYMBOL, "1m", since=1_767_225_600_000, params=until)
        with pytest.raises(ccxt.BadRequest, match="granularity argument is invalid"):
            await client.fetch_ohlcv(SYMBOL, "4h")  # ccxt passes unknown timeframes through verbatim
    finally:
        await client.close()


async def _watch_ohlcv_is_not_in_ccxt(server: ThreadedServer) -> None:
    client = _client(server)
    try:
        assert client.has["watchOHLCV"] is False
        with pytest.raises(ccxt.NotSupported):
            await client.watch_ohlcv(SYMBOL, "5m")
    finally:
        await client.close()


def test_ccxt_load_markets_and_fetch_time(server: ThreadedServer) -> None:
    """load_markets (v2 currencies, crypto, exchange rates, products, FUTURE products) and fetch_time."""
    asyncio.run(asyncio.wait_for(_markets_and_time(server), 30))


def test_ccxt_fetch_ohlcv_latest_and_since_pagination(server: ThreadedServer) -> None:
    """The latest page ends with the forming candle; since-pagination over 3 days is contiguous."""
    asyncio.run(asyncio.wait_for(_ohlcv(server), 60))


def test_ccxt_sees_native_errors(server: ThreadedServer) -> None:
    """Coinbase's INVALID_ARGUMENT bodies become ccxt BadRequest with the native text."""
    asyncio.run(asyncio.wait_for(_errors(server), 30))


def test_ccxt_pro_has_no_coinbase_candles(server: ThreadedServer) -> None:
    """ccxt.pro.coinbase has no watch_ohlcv (so the feed is tested at protocol level instead)."""
    asyncio.run(asyncio.wait_for(_watch_ohlcv_is_not_in_ccxt(server), 30))
