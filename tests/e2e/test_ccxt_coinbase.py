"""ccxt (REST; ccxt.pro has no Coinbase candles) against the Coinbase Advanced Trade mock, URLs changed."""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt
import ccxt.pro as ccxtpro
import pytest

from mockfeed import ThreadedServer
from tests.e2e import ccxt_support as cx

EXCHANGE = "coinbase_advanced_trade"
SYMBOL = "BTC/USDT"


@pytest.fixture(scope="module")
def server() -> Any:
    """One mock for the module: these tests only read."""
    with cx.serve(EXCHANGE) as running:
        yield running


async def _markets_and_time(server: ThreadedServer) -> None:
    async with cx.open_client(ccxtpro.coinbase, server) as client:
        markets = await client.load_markets()
        assert set(markets) == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
        btc = markets[SYMBOL]
        assert (btc["id"], btc["base"], btc["quote"], btc["type"]) == ("BTC-USDT", "BTC", "USDT", "spot")
        assert btc["spot"] is True and btc["active"] is True
        assert (btc["precision"]["amount"], btc["precision"]["price"]) == (0.00001, 0.01)
        assert {"BTC", "ETH", "SOL", "USDT", "USD"} <= set(client.currencies)
        assert client.currencies["BTC"]["name"] == "Bitcoin"
        for method in ("v2PublicGetTime", "v3PublicGetBrokerageTime"):
            server_time = await cx.assert_fetch_time(client, {"method": method})
            assert server_time % 1000 == 0  # ccxt reads whole seconds from both endpoints


async def _ohlcv(server: ThreadedServer) -> None:
    async with cx.open_client(ccxtpro.coinbase, server) as client:
        latest = await cx.fetch_latest(client, SYMBOL)
        assert latest[-1][0] == cx.forming_open(client)  # the forming candle last

        start = cx.days_ago(client, 3)
        now_minute = cx.forming_open(client)
        pages = await cx.since_pages(  # 3 days of 1m candles is 15 pages of ccxt's 300
            client, SYMBOL, "1m", start, 1000, max_pages=20, last_page=lambda page: page[-1][0] >= now_minute
        )
        # ccxt asks [since, since + 300 min); its "+1 ms" since drops the already-seen first row.
        assert all(299 <= len(page) <= 300 or page[-1][0] >= now_minute for page in pages if page)
        rows = [row for page in pages for row in page]
        cx.assert_contiguous(rows, start, cx.MINUTE)
        assert len(rows) >= 3 * 1440

        hours = await client.fetch_ohlcv("ETH/USDT", "1h", since=start, limit=24)
        first_hour = -(-start // 3_600_000) * 3_600_000  # ccxt drops the bucket that opens before since
        assert [row[0] for row in hours] == [first_hour + 3_600_000 * i for i in range(24)]


async def _errors(server: ThreadedServer) -> None:
    async with cx.open_client(ccxtpro.coinbase, server) as client:
        await client.load_markets()
        with pytest.raises(ccxt.BadRequest, match="number of candles requested"):
            until = {"until": 1_767_300_000_000}  # 1245 minutes after since
            await client.fetch_ohlcv(SYMBOL, "1m", since=1_767_225_600_000, params=until)
        with pytest.raises(ccxt.BadRequest, match="granularity argument is invalid"):
            await client.fetch_ohlcv(SYMBOL, "4h")  # ccxt passes unknown timeframes through verbatim


async def _watch_ohlcv_is_not_in_ccxt(server: ThreadedServer) -> None:
    async with cx.open_client(ccxtpro.coinbase, server) as client:
        assert client.has["watchOHLCV"] is False
        with pytest.raises(ccxt.NotSupported):
            await client.watch_ohlcv(SYMBOL, "5m")


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
