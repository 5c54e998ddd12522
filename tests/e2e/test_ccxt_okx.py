"""ccxt (REST and ccxt.pro WebSocket) against the OKX mocks, with only URLs changed."""

from __future__ import annotations

import ccxt
import ccxt.pro as ccxtpro
import pytest

from mockfeed import ThreadedServer
from tests.e2e import ccxt_support as cx

PAGE = 300  # OKX's maximum page; ccxt caps any larger limit to it
CASES = [
    pytest.param("okx_spot", "BTC/USDT", "spot", id="okx_spot"),
    pytest.param("okx_perpetual", "BTC/USDT:USDT", "swap", id="okx_perpetual"),
]


async def _rest_flow(server: ThreadedServer, symbol: str, market_type: str) -> None:
    # urls['api'] = {'rest': 'https://{hostname}', 'ws': 'wss://ws.okx.com:443/ws/v5'}
    async with cx.open_client(ccxtpro.okx, server) as client:
        markets = await client.load_markets()  # 5 instrument requests with the default options
        assert cx.listed(markets, "base") == set(cx.BASES)
        market = markets[symbol]
        assert market["type"] == market_type and market["active"]
        if market_type == "swap":
            assert market["linear"] and market["settle"] == "USDT" and market["contractSize"] == 0.01
        await cx.assert_fetch_time(client)

        latest = await cx.fetch_latest(client, symbol)  # /market/candles, no since
        model = cx.model_candle(server, latest[-2][0], latest[-1][0])
        assert latest[-2][5] == float(model.volume)  # base volume, both products

        with pytest.raises(ccxt.BadRequest, match="51000"):  # 1s is history-candles only
            await client.fetch_ohlcv(symbol, "1s")

        # Three days back is beyond /market/candles' 1,440 bars: ccxt pages on history-candles.
        start = cx.days_ago(client, 3)  # 3 days of 1m candles is 15 pages of 300
        rows = await cx.paginate_since(
            client, symbol, "1m", start, 1000, max_pages=20, last_page=lambda page: len(page) < PAGE
        )
        cx.assert_contiguous(rows, start, cx.MINUTE)
        assert len(rows) >= 3 * 1440


async def _ws_flow(server: ThreadedServer, symbol: str) -> None:
    async with cx.open_client(ccxtpro.okx, server) as client:
        updates = await cx.watch_updates(client, symbol, "1m", 2, 20)  # on <ws>/business
    assert len(updates) == 2
    cx.assert_forming_candles(server, updates)


@pytest.mark.parametrize(("exchange", "symbol", "market_type"), CASES)
def test_ccxt_rest(exchange: str, symbol: str, market_type: str) -> None:
    """load_markets, fetch_time, fetch_ohlcv and 3 days of since-pagination work unchanged."""
    cx.run_on_mock(exchange, _rest_flow, symbol, market_type)


@pytest.mark.parametrize(("exchange", "symbol", "market_type"), CASES)
def test_ccxt_watch_ohlcv(exchange: str, symbol: str, market_type: str) -> None:
    """watch_ohlcv receives at least two updates of the forming 1m candle."""
    cx.run_on_mock(exchange, _ws_flow, symbol)
