"""Reused answers over real sockets: identical klines requests within one market second get the
same bytes without the page being built again, per-request headers still count, and nothing stale
is ever served (next second, scenario change, faults)."""

from __future__ import annotations

import httpx
import pytest
import trio

from mockfeed import Server
from mockfeed.market.clock import parse_time
from mockfeed.market.scenario import Jump

START = "2024-03-01T00:00:00Z"
START_MS = parse_time(START)
START_S = START_MS // 1000
BINANCE = "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000"
BINANCE_REORDERED = "/api/v3/klines?interval=1m&limit=1000&symbol=BTCUSDT"  # another key: built afresh
OKX = "/api/v5/market/candles?instId=BTC-USDT&bar=1m&limit=300"
OKX_REORDERED = "/api/v5/market/candles?limit=300&bar=1m&instId=BTC-USDT"
WEIGHT = "x-mbx-used-weight-1m"
GATE_REMAIN = "x-gate-ratelimit-requests-remain"

#: Every other product whose candle answers are reused: a candle URL reaching the forming candle,
#: and the same query with its parameters in another order (another memo key: built afresh).
CANDLE_URLS = {
    "coinbase_advanced_trade": (
        f"/api/v3/brokerage/market/products/BTC-USDT/candles?start={START_S - 3600}&end={START_S + 3600}"
        "&granularity=ONE_MINUTE",
        f"/api/v3/brokerage/market/products/BTC-USDT/candles?granularity=ONE_MINUTE&end={START_S + 3600}"
        f"&start={START_S - 3600}",
    ),
    "kraken_spot": ("/0/public/OHLC?pair=XBTUSDT&interval=1", "/0/public/OHLC?interval=1&pair=XBTUSDT"),
    "gate_io_spot": (
        "/api/v4/spot/candlesticks?currency_pair=BTC_USDT&interval=1m&limit=100",
        "/api/v4/spot/candlesticks?limit=100&interval=1m&currency_pair=BTC_USDT",
    ),
    "gate_io_perpetual": (
        "/api/v4/futures/usdt/candlesticks?contract=BTC_USDT&interval=1m&limit=100",
        "/api/v4/futures/usdt/candlesticks?limit=100&interval=1m&contract=BTC_USDT",
    ),
    "mexc_spot": (
        "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=500",
        "/api/v3/klines?limit=500&interval=1m&symbol=BTCUSDT",
    ),
    "mexc_perpetual": (
        f"/api/v1/contract/kline/BTC_USDT?interval=Min1&start={START_S - 3600}",
        f"/api/v1/contract/kline/BTC_USDT?start={START_S - 3600}&interval=Min1",
    ),
    "kucoin_spot": (
        "/api/v1/market/candles?symbol=BTC-USDT&type=1min",
        "/api/v1/market/candles?type=1min&symbol=BTC-USDT",
    ),
    "kucoin_perpetual": (
        f"/api/v1/kline/query?symbol=XBTUSDTM&granularity=1&from={(START_S - 3600) * 1000}",
        f"/api/v1/kline/query?from={(START_S - 3600) * 1000}&granularity=1&symbol=XBTUSDTM",
    ),
    "ascend_ex_spot": (
        "/api/pro/v1/barhist?symbol=BTC/USDT&interval=1&n=100",
        "/api/pro/v1/barhist?n=100&interval=1&symbol=BTC/USDT",
    ),
}

pytestmark = pytest.mark.mockfeed(exchanges=["binance_spot", "okx_spot"], start=START, speed=0, seed=3)


async def get(server: Server, exchange: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server[exchange].rest_url, timeout=10) as client:
        with trio.fail_after(20):
            return await client.get(path)


def hits(server: Server, exchange: str) -> int:
    app = server[exchange].rest_app
    assert app is not None
    return app.memo.hits


async def test_binance_reuses_a_page_within_its_second_and_still_counts_the_weight(
    mockfeed_server: Server,
) -> None:
    first = await get(mockfeed_server, "binance_spot", BINANCE)
    before = hits(mockfeed_server, "binance_spot")
    second = await get(mockfeed_server, "binance_spot", BINANCE)
    assert hits(mockfeed_server, "binance_spot") == before + 1
    assert second.status_code == first.status_code == 200
    assert second.content == first.content
    weight = int(first.headers[WEIGHT])
    assert weight > 0 and int(second.headers[WEIGHT]) == 2 * weight  # every request is charged
    fresh = await get(mockfeed_server, "binance_spot", BINANCE_REORDERED)
    assert fresh.content == second.content  # the full path agrees with the reused bytes
    assert int(fresh.headers[WEIGHT]) == 3 * weight

    mockfeed_server.advance(1_000)  # the forming candle moves on: nothing from the last second
    moved = await get(mockfeed_server, "binance_spot", BINANCE)
    moved_fresh = await get(mockfeed_server, "binance_spot", BINANCE_REORDERED)
    assert moved.content == moved_fresh.content != first.content
    assert moved.json()[-1][0] == first.json()[-1][0]  # same forming candle, one second later


async def test_okx_reuses_a_newest_first_page_and_not_after_the_clock_moves(mockfeed_server: Server) -> None:
    first = await get(mockfeed_server, "okx_spot", OKX)
    before = hits(mockfeed_server, "okx_spot")
    again = await get(mockfeed_server, "okx_spot", OKX)
    assert hits(mockfeed_server, "okx_spot") == before + 1
    assert again.content == first.content == (await get(mockfeed_server, "okx_spot", OKX_REORDERED)).content
    mockfeed_server.set_time(START_MS + 5 * 60_000)
    later = await get(mockfeed_server, "okx_spot", OKX)
    assert later.content == (await get(mockfeed_server, "okx_spot", OKX_REORDERED)).content
    assert later.json()["data"][0][0] == str(START_MS + 5 * 60_000)


async def test_a_scenario_change_is_served_at_once(mockfeed_server: Server) -> None:
    plain = await get(mockfeed_server, "binance_spot", BINANCE)
    assert (await get(mockfeed_server, "binance_spot", BINANCE)).content == plain.content
    mockfeed_server.scenarios.replace([Jump(at="2024-02-29T23:50:00Z", pct=50)])  # same market second
    jumped = await get(mockfeed_server, "binance_spot", BINANCE)
    assert jumped.content != plain.content
    assert jumped.content == (await get(mockfeed_server, "binance_spot", BINANCE_REORDERED)).content
    assert float(jumped.json()[-1][4]) > 1.4 * float(plain.json()[-1][4])


async def test_faults_and_latency_never_answer_from_the_memo(mockfeed_server: Server) -> None:
    await get(mockfeed_server, "okx_spot", OKX)
    await get(mockfeed_server, "okx_spot", OKX)
    before = hits(mockfeed_server, "okx_spot")
    mockfeed_server["okx_spot"].conditions = mockfeed_server["okx_spot"].conditions.updated({"error_rate": 1.0})
    failed = await get(mockfeed_server, "okx_spot", OKX)
    assert failed.json()["code"] == "50013"  # OKX's "busy", sent with HTTP 200
    mockfeed_server["okx_spot"].conditions = mockfeed_server["okx_spot"].conditions.updated(
        {"error_rate": 0.0, "latency_ms": 1.0}
    )
    slow = await get(mockfeed_server, "okx_spot", OKX)
    assert slow.status_code == 200
    assert hits(mockfeed_server, "okx_spot") == before


@pytest.mark.mockfeed(start=START, speed=0, seed=3)
@pytest.mark.mockfeed_exchanges(*CANDLE_URLS)
async def test_candle_answers_are_reused_within_their_second(
    mockfeed_server: Server, mockfeed_exchange: str
) -> None:
    url, reordered = CANDLE_URLS[mockfeed_exchange]
    first = await get(mockfeed_server, mockfeed_exchange, url)
    assert first.status_code == 200
    assert str(START_S).encode() in first.content  # a page holding the forming candle, no error
    before = hits(mockfeed_server, mockfeed_exchange)
    again = await get(mockfeed_server, mockfeed_exchange, url)
    assert hits(mockfeed_server, mockfeed_exchange) == before + 1
    assert again.status_code == 200 and again.content == first.content
    assert (await get(mockfeed_server, mockfeed_exchange, reordered)).content == first.content

    mockfeed_server.advance(60_000)  # a minute on: a new forming candle, nothing kept from before
    moved = await get(mockfeed_server, mockfeed_exchange, url)
    assert moved.status_code == 200 and moved.content != first.content
    assert str(START_S + 60).encode() in moved.content
    assert moved.content == (await get(mockfeed_server, mockfeed_exchange, reordered)).content


#: Quota headers that count every request: (remaining, one that must not move within a frozen second).
QUOTA_HEADERS = {
    "gate_io_spot": (GATE_REMAIN, None),
    "kucoin_spot": ("gw-ratelimit-remaining", "gw-ratelimit-reset"),
}


@pytest.mark.mockfeed(start=START, speed=0, seed=3)
@pytest.mark.mockfeed_exchanges(*QUOTA_HEADERS)
async def test_quota_headers_count_every_request_of_a_reused_answer(
    mockfeed_server: Server, mockfeed_exchange: str
) -> None:
    url, reordered = CANDLE_URLS[mockfeed_exchange]
    remaining, steady = QUOTA_HEADERS[mockfeed_exchange]
    first = await get(mockfeed_server, mockfeed_exchange, url)
    before = hits(mockfeed_server, mockfeed_exchange)
    again = await get(mockfeed_server, mockfeed_exchange, url)
    assert hits(mockfeed_server, mockfeed_exchange) == before + 1
    fresh = await get(mockfeed_server, mockfeed_exchange, reordered)
    answers = (first, again, fresh)
    remain = [int(r.headers[remaining]) for r in answers]
    step = remain[0] - remain[1]
    assert step > 0 and remain[2] == remain[0] - 2 * step  # fresh, reused and fresh count alike
    if steady is not None:  # computed at the request's own market time, like a fresh answer's
        assert {r.headers[steady] for r in answers} == {first.headers[steady]}
