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
BINANCE = "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000"
BINANCE_REORDERED = "/api/v3/klines?interval=1m&limit=1000&symbol=BTCUSDT"  # another key: built afresh
OKX = "/api/v5/market/candles?instId=BTC-USDT&bar=1m&limit=300"
OKX_REORDERED = "/api/v5/market/candles?limit=300&bar=1m&instId=BTC-USDT"
WEIGHT = "x-mbx-used-weight-1m"

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
