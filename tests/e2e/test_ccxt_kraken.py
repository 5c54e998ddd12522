"""ccxt (REST and ccxt.pro WebSocket v2) against the Kraken spot mock, with only URLs changed."""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt.pro as ccxtpro
import pytest

from mockfeed import ThreadedServer
from tests.e2e import ccxt_support as cx

MINUTE = cx.MINUTE
QUARTER = 15 * MINUTE
SYMBOL = "BTC/USDT"


def _open_client(server: ThreadedServer, **options: Any) -> Any:
    # enableRateLimit off only to keep the test fast: ccxt spaces Kraken requests 1 s apart client-side,
    # which changes nothing on the wire.
    return cx.open_client(ccxtpro.kraken, server, enableRateLimit=False, **options)


async def _rest_flow(server: ThreadedServer) -> None:
    async with _open_client(server) as client:
        markets = await client.load_markets()
        assert {"BTC/USDT", "ETH/USDT", "SOL/USDT"} <= set(markets)
        assert markets[SYMBOL]["id"] == "XBTUSDT"
        assert markets[SYMBOL]["precision"]["price"] == 0.01
        assert client.currencies["BTC"]["id"] == "XXBT"
        assert (await client.fetch_status())["status"] == "ok"
        await cx.assert_fetch_time(client)

        latest = await cx.fetch_latest(client, SYMBOL)
        assert abs(latest[-1][0] - cx.forming_open(client)) <= MINUTE

        # Three days of 15m candles (inside Kraken's 720-row window), paginated with since/limit.
        start = cx.days_ago(client, 3, QUARTER)
        rows = await cx.paginate_since(client, SYMBOL, "15m", start, 100, max_pages=20)
        cx.assert_contiguous(rows, start, QUARTER)
        assert len(rows) >= 3 * 96
        assert all(row[0] % QUARTER == 0 for row in rows)

        # 1m: the 720 most recent candles paginated from their start; older data cannot be fetched,
        # so a since three days back still begins at the window's start, as on Kraken.
        window = await client.fetch_ohlcv(SYMBOL, "1m", since=client.milliseconds() - 3 * cx.DAY)
        assert len(window) == 720
        cx.assert_contiguous(window, window[0][0], MINUTE)
        rows = await cx.paginate_since(client, SYMBOL, "1m", window[0][0], 250, max_pages=20)
        cx.assert_contiguous(rows, window[0][0], MINUTE)
        assert len(rows) >= 720


async def _ws_flow(server: ThreadedServer) -> None:
    """Three watch_ohlcv results (snapshot, two updates), then 2.5 s more of watching with a fast
    keep-alive: ccxt pings ``{"method": "ping"}`` every 0.3 s and fails the watch unless a pong it
    recognises comes back within 0.6 s; then the candles and the age of the last pong are checked."""
    # keepAlive: only the cadence; the default is 6 s with a 12 s limit
    async with _open_client(server, streaming={"keepAlive": 300}) as client:
        updates = await cx.watch_updates(client, SYMBOL, "1m", 3, 20, min_s=2.5)
        connection = client.clients[client.urls["api"]["ws"]["publicV2"]]
        pong_age = client.milliseconds() - connection.lastPong
    assert len(updates) >= 3
    assert pong_age < 600
    assert len({u[0] for u in updates}) <= 2  # the forming candle, and its successor at most
    cx.assert_forming_candles(server, updates)


@pytest.fixture(scope="module")
def server() -> Any:
    """One Kraken spot mock for the module."""
    with cx.serve("kraken_spot") as running:
        yield running


def test_ccxt_rest(server: ThreadedServer) -> None:
    """load_markets, fetch_status, fetch_time, fetch_ohlcv and since-pagination work unchanged."""
    asyncio.run(_rest_flow(server))


def test_ccxt_watch_ohlcv(server: ThreadedServer) -> None:
    """watch_ohlcv (v2 ``ohlc`` channel) gets the forming 1m candle's updates; pongs keep it alive."""
    asyncio.run(_ws_flow(server))
