"""ccxt (REST and ccxt.pro WebSocket) against the Bybit mocks, with only URLs changed.

ccxt's default ``load_markets()`` asks every category (spot, linear and inverse with their
PreLaunch twins, options for six base coins): each product lists its own pairs and answers the
rest with empty lists, so no ccxt option is touched.
"""

from __future__ import annotations

import ccxt.pro as ccxtpro
import pytest

from mockfeed import ThreadedServer
from tests.e2e import ccxt_support as cx

KEEP_ALIVE_MS = 300
CASES = [
    pytest.param("bybit_spot", "BTC/USDT", "spot", id="bybit_spot"),
    pytest.param("bybit_perpetual", "BTC/USDT:USDT", "swap", id="bybit_perpetual"),
]


async def _rest_flow(server: ThreadedServer, symbol: str, kind: str) -> None:
    async with cx.open_client(ccxtpro.bybit, server) as client:
        markets = await client.load_markets()
        assert cx.listed(markets, "symbol") == cx.symbol_family(symbol)
        market = markets[symbol]
        assert market["type"] == kind and market["active"]
        if kind == "swap":
            assert market["linear"] and market["settle"] == "USDT"
        assert market["precision"]["price"] == 0.01
        await cx.assert_fetch_time(client)

        before = cx.forming_open(client)
        latest = await cx.fetch_latest(client, symbol)
        # the forming candle is the last one (Bybit sends it first; ccxt sorts ascending)
        assert before <= latest[-1][0] <= cx.forming_open(client)

        start = cx.days_ago(client, 3)  # 3 days of 1m candles is 5 pages of 1000
        rows = await cx.paginate_since(client, symbol, "1m", start, 1000, max_pages=10)
        cx.assert_contiguous(rows, start, cx.MINUTE)
        assert len(rows) >= 3 * 1440


async def _ws_flow(server: ThreadedServer, symbol: str) -> None:
    # ccxt pings with {"op":"ping"} every keepAlive ms and fails the connection after two missed
    # pongs; a short keepAlive makes ~6 pings happen during the three updates below.
    async with cx.open_client(ccxtpro.bybit, server, streaming={"keepAlive": KEEP_ALIVE_MS}) as client:
        updates = await cx.watch_updates(client, symbol, "1m", 3, 20)
        [ws] = client.clients.values()
        assert "spot" in ws.url if symbol == "BTC/USDT" else "/v5/public/linear" in ws.url
        assert client.milliseconds() - ws.lastPong < 2 * KEEP_ALIVE_MS, "pongs not recognised"
    assert len(updates) == 3
    cx.assert_forming_candles(server, updates)


@pytest.mark.parametrize(("exchange", "symbol", "kind"), CASES)
def test_ccxt_rest(exchange: str, symbol: str, kind: str) -> None:
    """Default load_markets, fetch_time, fetch_ohlcv and 3 days of since-pagination work unchanged."""
    cx.run_on_mock(exchange, _rest_flow, symbol, kind)


@pytest.mark.parametrize(("exchange", "symbol", "kind"), CASES)
def test_ccxt_watch_ohlcv(exchange: str, symbol: str, kind: str) -> None:
    """watch_ohlcv gets updates of the forming 1m candle (the model's open); ccxt's pings get pongs."""
    cx.run_on_mock(exchange, _ws_flow, symbol)
