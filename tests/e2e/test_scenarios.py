"""Scenarios through real sockets: Binance spot and OKX spot serve jumps, halts, gaps and listings.

REST history is compared with the plain model (same seed, no scenario) computed in the test; WS
final pushes, streamed on virtual time (pytest-trio's ``autojump_clock``), are compared with REST.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
import trio
import trio.testing
from trio_websocket import ConnectionClosed, ConnectionRejected, open_websocket_url

import mockfeed
from mockfeed import Server
from mockfeed.exchanges import available
from mockfeed.market import Interval, MarketModel, parse_pairs
from mockfeed.market.clock import parse_time
from mockfeed.market.scenario import Crash, Gap, Halt, Jump, Listing, Maintenance
from tests.reliability.products import REST_SEEDS, RestSeed
from tests.reliability.strategies import NOW_MS
from tests.support.finals import binance_finals, okx_finals

START = "2024-03-01T00:00:00Z"
START_MS = parse_time(START)
MINUTE = 60_000
SEED = 11
EVENTS = [
    Jump(at="+3m", pct=20, over="2m", pair="BTC-USDT"),  # minutes 3-4 ramp, from 5 on × 1.2
    Halt(at="+8m", over="3m", pair="BTC-USDT"),  # minutes 8-10 flat, no volume
    Gap(at="+13m", over="3m", pair="BTC-USDT"),  # minutes 13-15 missing
    Listing(at="+18m", pair="ETH-USDT"),  # no ETH before minute 18
    Crash(at="+30m", pct=50),  # every pair, after the streamed window
]
SERVER: dict[str, Any] = {
    "exchanges": ["binance_spot", "okx_spot"], "start": START, "seed": SEED,
    "pairs": ["BTC-USDT", "ETH-USDT"], "scenario": EVENTS,
}
PLAIN = MarketModel(parse_pairs("BTC-USDT,ETH-USDT"), seed=SEED)


def minute(k: int) -> int:
    return START_MS + k * MINUTE


def plain_closes(pair: str, count: int) -> list[Decimal]:
    rows = PLAIN.candles(pair, Interval.parse("1m"), now_ms=minute(count), limit=count, start_ms=START_MS)
    return [c.close for c in rows]


async def binance(server: Server, **params: object) -> list[list[Any]]:
    async with httpx.AsyncClient(base_url=server["binance_spot"].rest_url) as client:
        response = await client.get("/api/v3/klines", params={"interval": "1m", **params})
    assert response.status_code == 200
    rows: list[list[Any]] = response.json()
    return rows


async def okx(server: Server, **params: object) -> list[list[str]]:
    async with httpx.AsyncClient(base_url=server["okx_spot"].rest_url) as client:
        response = await client.get("/api/v5/market/history-candles", params={"bar": "1m", **params})
    body = response.json()
    assert response.status_code == 200 and body["code"] == "0"
    rows: list[list[str]] = body["data"]
    return rows[::-1]  # OKX answers newest first


def check_history(opens: list[int], ohlcv: list[list[Decimal]]) -> None:
    """Minutes 0-24 of BTC under EVENTS, each row (open, high, low, close, volume)."""
    by_minute = dict(zip(((t - START_MS) // MINUTE for t in opens), ohlcv, strict=True))
    assert sorted(by_minute) == [k for k in range(25) if k not in (13, 14, 15)]  # the gap
    base = plain_closes("BTC-USDT", 25)
    assert [by_minute[k][3] for k in range(3)] == base[:3]  # untouched before the jump
    for k in (5, 6, 7):  # after the ramp: 1.2 × the model, to the tick
        assert by_minute[k][3] == (base[k] * Decimal("1.2")).quantize(Decimal("0.01"))
    assert base[3] * Decimal("1.05") < by_minute[3][3] < base[3] * Decimal("1.15")  # half-way up
    flat = by_minute[7][3]
    for k in (8, 9, 10):
        assert by_minute[k][:4] == [flat] * 4 and by_minute[k][4] == 0
    assert by_minute[11][0] == flat  # trading resumes from the halt's price


@pytest.mark.mockfeed(**SERVER, speed=0)  # moved by set_time only
async def test_rest_history_shows_every_event(mockfeed_server: Server) -> None:
    """Both exchanges' REST history: untouched, ramp, +20 %, flat halt, gap, ETH listed at minute 18."""
    mockfeed_server.set_time(minute(25))
    rows = await binance(mockfeed_server, symbol="BTCUSDT", startTime=START_MS, endTime=minute(24), limit=25)
    check_history([r[0] for r in rows], [[Decimal(x) for x in r[1:6]] for r in rows])
    assert [r[8] for r in rows if r[0] == minute(9)] == [0]  # no trades in a halt
    okx_rows = await okx(mockfeed_server, instId="BTC-USDT", after=minute(25), limit=22)
    check_history([int(r[0]) for r in okx_rows], [[Decimal(x) for x in r[1:6]] for r in okx_rows])
    assert [[Decimal(x) for x in r[:5]] for r in okx_rows] == [[Decimal(x) for x in r[:5]] for r in rows]

    # Before the listing: each exchange's own empty answer; a range across it starts at it.
    assert await binance(mockfeed_server, symbol="ETHUSDT", endTime=minute(17) + 1) == []
    assert await okx(mockfeed_server, instId="ETH-USDT", after=minute(18), limit=10) == []
    eth = await binance(mockfeed_server, symbol="ETHUSDT", startTime=START_MS, limit=3)
    assert [r[0] for r in eth] == [minute(18), minute(19), minute(20)]
    eth_okx = await okx(mockfeed_server, instId="ETH-USDT", after=minute(21), limit=10)
    assert [int(r[0]) for r in eth_okx] == [minute(18), minute(19), minute(20)]

    # Pages select the candles that exist: one from the gap's start goes on after it.
    after_gap = await binance(mockfeed_server, symbol="BTCUSDT", startTime=minute(13), limit=3)
    assert [r[0] for r in after_gap] == [minute(16), minute(17), minute(18)]
    before_gap = await okx(mockfeed_server, instId="BTC-USDT", after=minute(16), limit=2)
    assert [int(r[0]) for r in before_gap] == [minute(11), minute(12)]

    # An hour candle aggregates the minutes that exist, across all of it.
    [hour] = await binance(mockfeed_server, symbol="BTCUSDT", interval="1h", startTime=START_MS, limit=1)
    assert Decimal(hour[2]) == max(Decimal(r[2]) for r in rows)
    assert Decimal(hour[3]) == min(Decimal(r[3]) for r in rows)
    assert Decimal(hour[5]) == sum(Decimal(r[5]) for r in rows)  # the forming hour so far

    # The crash halves every pair from minute 31 on (ETH has had no other event).
    mockfeed_server.set_time(minute(45))
    eth = await binance(mockfeed_server, symbol="ETHUSDT", startTime=minute(40), limit=1)
    eth_okx = await okx(mockfeed_server, instId="ETH-USDT", after=minute(41), limit=1)
    half = (plain_closes("ETH-USDT", 41)[40] / 2).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert Decimal(eth[0][4]) == Decimal(eth_okx[0][4]) == half


@pytest.mark.mockfeed(**SERVER)
async def test_ws_final_pushes_equal_rest_across_events(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """20 minutes streamed on virtual time: finals skip the gap, match REST through jump and halt,
    and ETH pushes nothing before its listing."""
    results: dict[str, Any] = {}

    async def collect(name: str, task: Any, *args: Any) -> None:
        results[name] = await task(mockfeed_server, *args)

    with trio.fail_after(3600):  # virtual seconds
        async with trio.open_nursery() as nursery:
            nursery.start_soon(collect, "btc", binance_finals, minute(20), "btcusdt")
            nursery.start_soon(collect, "eth", binance_finals, minute(20), "ethusdt")
            nursery.start_soon(collect, "okx", okx_finals, minute(20))

    expected = [minute(k) for k in range(20) if k not in (13, 14, 15)]
    btc = results["btc"]
    assert [k["t"] for k in btc] == expected
    rows = await binance(mockfeed_server, symbol="BTCUSDT", startTime=START_MS, endTime=minute(19), limit=20)
    assert [[k["t"], k["o"], k["h"], k["l"], k["c"], k["v"], k["T"], k["q"], k["n"], k["V"], k["Q"]]
            for k in btc] == [r[:11] for r in rows]
    assert [k["t"] for k in results["eth"]] == [minute(18), minute(19)]
    okx_rows = await okx(mockfeed_server, instId="BTC-USDT", after=minute(20), limit=17)
    assert results["okx"] == okx_rows and [int(r[0]) for r in okx_rows] == expected


async def _ask(client: httpx.AsyncClient, seed: RestSeed) -> httpx.Response:
    if seed.method == "POST":
        return await client.post(seed.path, json=seed.params)
    return await client.get(seed.path, params=seed.params)


async def test_every_product_answers_before_a_listing_natively() -> None:
    """All 17 products, asked for BTC candles before its listing: a normal answer without the rows
    (shorter than the same request once listed), never an error or a traceback."""
    products = available()
    common: dict[str, Any] = {
        "exchanges": products, "port": 0, "ws_port": 0, "start": NOW_MS, "speed": 0,
    }
    later = [Listing(at=NOW_MS + 3_600_000, pair="BTC-USDT"), Gap(at="+2h", over="1m")]
    async with mockfeed.serve(**common, scenario=later) as unlisted, mockfeed.serve(**common) as listed:
        for product in products:
            seed = REST_SEEDS[str(product)]
            async with httpx.AsyncClient(base_url=unlisted[product].rest_url) as client:
                empty = await _ask(client, seed)
            async with httpx.AsyncClient(base_url=listed[product].rest_url) as client:
                full = await _ask(client, seed)
            assert empty.status_code == full.status_code == 200, product
            assert len(empty.content) < len(full.content), product
            assert b"Traceback" not in empty.content


@pytest.mark.mockfeed(
    exchanges=["binance_spot", "okx_spot"], start="2024-03-01T00:00:00Z",
    scenario=[Maintenance(at="+10m", over="5m", exchange="binance_spot")],
)
async def test_a_maintenance_window_takes_one_exchange_down_and_back(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """Inside the window Binance answers its maintenance error and closes WebSockets; OKX serves."""
    binance, okx = mockfeed_server["binance_spot"], mockfeed_server["okx_spot"]
    async with httpx.AsyncClient() as client:
        assert (await client.get(binance.rest_url + "/api/v3/time")).status_code == 200
        async with open_websocket_url(binance.ws_url + "/ws/btcusdt@kline_1m") as ws:
            with pytest.raises(ConnectionClosed) as closed, trio.fail_after(11 * 60):
                while True:
                    await ws.get_message()
            assert closed.value.reason.code == 1001
        assert 10 * 60_000 <= mockfeed_server.now_ms() - START_MS < 10 * 60_000 + 2_000
        down = await client.get(binance.rest_url + "/api/v3/time")
        assert down.status_code == 503 and down.json()["code"] == 1
        assert (await client.get(okx.rest_url + "/api/v5/public/time")).status_code == 200
        with pytest.raises(ConnectionRejected):
            async with open_websocket_url(binance.ws_url + "/ws/btcusdt@kline_1m"):
                pass
        await trio.sleep(5 * 60)
        assert (await client.get(binance.rest_url + "/api/v3/time")).status_code == 200
        async with open_websocket_url(binance.ws_url + "/ws/btcusdt@kline_1m") as ws:
            assert json.loads(await ws.get_message())["e"] == "kline"
