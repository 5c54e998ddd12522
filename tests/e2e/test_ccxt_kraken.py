"""ccxt (REST and ccxt.pro WebSocket v2) against the Kraken spot mock, with only URLs changed."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import ccxt.pro as ccxtpro
import pytest

from mockfeed import Interval, ThreadedServer
from tests.e2e.ccxt_support import rewrite_urls

MINUTE = 60_000
QUARTER = 15 * MINUTE
DAY = 86_400_000
SYMBOL = "BTC/USDT"


def _client(server: ThreadedServer) -> Any:
    # enableRateLimit off only to keep the test fast: ccxt spaces Kraken requests 1 s apart client-side,
    # which changes nothing on the wire.
    client = ccxtpro.kraken({"enableRateLimit": False})
    client.urls["api"] = rewrite_urls(client.urls["api"], server.rest_url, server.ws_url)
    return client


def _contiguous(rows: list[list[Any]], step: int) -> bool:
    return all(b[0] - a[0] == step for a, b in itertools.pairwise(rows))


async def _paginate(client: Any, timeframe: str, since: int, limit: int) -> list[list[Any]]:
    """fetch_ohlcv pages from ``since`` on, each page starting after the previous one's last row."""
    rows: list[list[Any]] = []
    for _ in range(20):
        page = await client.fetch_ohlcv(SYMBOL, timeframe, since=since, limit=limit)
        if not page:
            break
        rows += page
        since = page[-1][0] + 1
        if len(page) < limit:
            break
    return rows


async def _rest_flow(server: ThreadedServer) -> None:
    client = _client(server)
    try:
        markets = await client.load_markets()
        assert {"BTC/USDT", "ETH/USDT", "SOL/USDT"} <= set(markets)
        assert markets[SYMBOL]["id"] == "XBTUSDT"
        assert markets[SYMBOL]["precision"]["price"] == 0.01
        assert client.currencies["BTC"]["id"] == "XXBT"
        assert (await client.fetch_status())["status"] == "ok"
        server_time = await client.fetch_time()
        assert abs(server_time - client.milliseconds()) < 5_000

        latest = await client.fetch_ohlcv(SYMBOL, "1m", limit=100)
        assert len(latest) == 100
        assert abs(latest[-1][0] - client.milliseconds() // MINUTE * MINUTE) <= MINUTE
        assert _contiguous(latest, MINUTE)
        assert all(row[3] <= min(row[1], row[4]) <= max(row[1], row[4]) <= row[2] for row in latest)

        # Three days of 15m candles (inside Kraken's 720-row window), paginated with since/limit.
        start = (client.milliseconds() - 3 * DAY) // QUARTER * QUARTER
        rows = await _paginate(client, "15m", start, 100)
        assert rows[0][0] == start
        assert _contiguous(rows, QUARTER)
        assert len(rows) >= 3 * 96
        assert all(row[0] % QUARTER == 0 for row in rows)

        # 1m: the 720 most recent candles paginated from their start; older data cannot be fetched,
        # so a since three days back still begins at the window's start, as on Kraken.
        window = await client.fetch_ohlcv(SYMBOL, "1m", since=client.milliseconds() - 3 * DAY)
        assert len(window) == 720
        assert _contiguous(window, MINUTE)
        rows = await _paginate(client, "1m", window[0][0], 250)
        assert rows[0][0] == window[0][0]
        assert _contiguous(rows, MINUTE)
        assert len(rows) >= 720
    finally:
        await client.close()


async def _ws_flow(server: ThreadedServer) -> tuple[list[list[Any]], int]:
    """Three watch_ohlcv results (snapshot, two updates), then 2.5 s more of watching with a fast
    keep-alive: ccxt pings ``{"method": "ping"}`` every 0.3 s and fails the watch unless a pong it
    recognises comes back within 0.6 s. Returns the candles and the age of the last pong (ms)."""
    client = _client(server)
    client.streaming["keepAlive"] = 300  # only the cadence; the default is 6 s with a 12 s limit
    updates = []
    try:
        async with asyncio.timeout(20):
            started = client.milliseconds()
            while len(updates) < 3 or client.milliseconds() - started < 2_500:
                candles = await client.watch_ohlcv(SYMBOL, "1m")
                updates.append(list(candles[-1]))
        connection = client.clients[client.urls["api"]["ws"]["publicV2"]]
        pong_age = client.milliseconds() - connection.lastPong
    finally:
        await client.close()
    return updates, pong_age


@pytest.fixture(scope="module")
def server() -> Any:
    """One Kraken spot mock for the module."""
    with ThreadedServer(exchanges=["kraken_spot"], port=0, ws_port=0) as running:
        yield running


def test_ccxt_rest(server: ThreadedServer) -> None:
    """load_markets, fetch_status, fetch_time, fetch_ohlcv and since-pagination work unchanged."""
    asyncio.run(_rest_flow(server))


def test_ccxt_watch_ohlcv(server: ThreadedServer) -> None:
    """watch_ohlcv (v2 ``ohlc`` channel) gets the forming 1m candle's updates; pongs keep it alive."""
    updates, pong_age = asyncio.run(_ws_flow(server))
    assert len(updates) >= 3
    assert pong_age < 600
    assert all(u[0] % MINUTE == 0 for u in updates)
    assert len({u[0] for u in updates}) <= 2  # the forming candle, and its successor at most
    model_candle = server.server.model.candle(
        "BTC-USDT", Interval.parse("1m"), updates[-1][0], updates[-1][0] + MINUTE
    )
    assert model_candle is not None
    assert float(model_candle.open) == updates[-1][1]
