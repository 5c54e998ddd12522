"""Volatility regimes and scenarios posted to the control endpoint, through real sockets.

Binance spot and OKX spot serve the market; REST is compared with the plain model (same seed, no
scenario) computed in the test, WS pushes (on virtual time where streamed) with REST.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
import trio
import trio.testing
from trio_websocket import open_websocket_url

from mockfeed import Server
from mockfeed.market import Interval, MarketModel, parse_pairs
from mockfeed.market.clock import parse_time
from mockfeed.market.scenario import Volatility
from tests.support.finals import binance_finals, okx_finals

START = "2024-03-01T00:00:00Z"
START_MS = parse_time(START)
MINUTE = 60_000
SEED = 11
TICK = Decimal("0.01")
PLAIN = MarketModel(parse_pairs("BTC-USDT,ETH-USDT"), seed=SEED)
COMMON: dict[str, Any] = {
    "exchanges": ["binance_spot", "okx_spot"], "start": START, "seed": SEED,
    "pairs": ["BTC-USDT", "ETH-USDT"],
}


def minute(k: int) -> int:
    return START_MS + k * MINUTE


def plain_rows(pair: str, count: int, code: str = "1m") -> list[Any]:
    return PLAIN.candles(pair, Interval.parse(code), now_ms=minute(count), limit=count, start_ms=START_MS)


async def binance(server: Server, **params: object) -> list[list[Any]]:
    async with httpx.AsyncClient(base_url=server["binance_spot"].rest_url) as client:
        response = await client.get("/api/v3/klines", params={"interval": "1m", "symbol": "BTCUSDT", **params})
    assert response.status_code == 200
    rows: list[list[Any]] = response.json()
    return rows


async def okx(server: Server, **params: object) -> list[list[str]]:
    async with httpx.AsyncClient(base_url=server["okx_spot"].rest_url) as client:
        response = await client.get(
            "/api/v5/market/history-candles", params={"bar": "1m", "instId": "BTC-USDT", **params}
        )
    body = response.json()
    assert response.status_code == 200 and body["code"] == "0"
    rows: list[list[str]] = body["data"]
    return rows[::-1]  # OKX answers newest first


# -- volatility ------------------------------------------------------------------------------------

REGIME = [Volatility(at="+3m", over="10m", factor=4, pair="BTC-USDT")]


@pytest.mark.mockfeed(**COMMON, scenario=REGIME, speed=0)
async def test_rest_history_of_a_volatility_regime(mockfeed_server: Server) -> None:
    """Minutes 3-12 move four times the model's around the price at minute 3, to the tick; before
    is untouched, after goes on from the price reached; both exchanges serve the same rows."""
    mockfeed_server.set_time(minute(30))
    rows = await binance(mockfeed_server, startTime=START_MS, limit=20)
    base = plain_rows("BTC-USDT", 20)
    p0 = base[3].open
    for k, (row, plain) in enumerate(zip(rows, base, strict=True)):
        prices = [Decimal(x) for x in row[1:5]]
        model = [plain.open, plain.high, plain.low, plain.close]
        if k < 3:
            assert prices == model
        elif k < 13:
            assert prices == [p0 + 4 * (p - p0) for p in model]
        assert Decimal(row[5]) == plain.volume and row[8] == plain.trades
    regime = [Decimal(r[2]) - Decimal(r[3]) for r in rows[3:13]]
    assert regime == [4 * (b.high - b.low) for b in base[3:13]]  # four times as wild
    ratio = Decimal(rows[13][1]) / base[13].open
    for row, plain in zip(rows[13:], base[13:], strict=True):  # the model's moves, rescaled
        assert abs(Decimal(row[4]) - plain.close * ratio) <= TICK
    assert rows[13][1] == rows[12][4]  # continuous at the end
    okx_rows = await okx(mockfeed_server, after=minute(20), limit=20)
    assert [[Decimal(x) for x in r[:6]] for r in okx_rows] == [
        [Decimal(x) for x in r[:6]] for r in rows
    ]
    [hour] = await binance(mockfeed_server, interval="1h", startTime=START_MS, limit=1)
    thirty = await binance(mockfeed_server, startTime=START_MS, limit=30)
    assert Decimal(hour[2]) == max(Decimal(r[2]) for r in thirty)
    assert Decimal(hour[3]) == min(Decimal(r[3]) for r in thirty)
    assert Decimal(hour[7]) == sum(Decimal(r[7]) for r in thirty)  # quote volumes add up exactly


@pytest.mark.mockfeed(**COMMON, scenario=REGIME)
async def test_ws_final_pushes_equal_rest_through_a_regime(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """16 minutes streamed on virtual time: every final push, before, in and after the regime,
    is the row REST serves afterwards, on both exchanges."""
    results: dict[str, Any] = {}

    async def collect(name: str, task: Any) -> None:
        results[name] = await task(mockfeed_server, minute(16))

    with trio.fail_after(3600):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(collect, "binance", binance_finals)
            nursery.start_soon(collect, "okx", okx_finals)
    rows = await binance(mockfeed_server, startTime=START_MS, endTime=minute(15), limit=16)
    assert [[k["t"], k["o"], k["h"], k["l"], k["c"], k["v"], k["T"], k["q"], k["n"], k["V"], k["Q"]]
            for k in results["binance"]] == [r[:11] for r in rows]
    assert len(rows) == 16
    assert results["okx"] == await okx(mockfeed_server, after=minute(16), limit=16)


# -- the control endpoint --------------------------------------------------------------------------

CRASH = {"events": [{"kind": "crash", "at": "+5m", "pct": 50, "pair": "BTC-USDT"},
                    {"kind": "volatility", "at": "2024-03-01T00:10:00Z", "over": "5m", "factor": 0.2}]}


@pytest.mark.mockfeed(**COMMON, speed=0, control_port=0)
async def test_put_get_delete_scenario(mockfeed_server: Server) -> None:
    """PUT rewrites REST history on both exchanges at once (cached pages included), GET shows the
    events as PUT, DELETE restores the plain market's candles byte for byte."""
    mockfeed_server.set_time(minute(30))
    page = {"startTime": START_MS, "limit": 20}
    async with httpx.AsyncClient(base_url=mockfeed_server.control_url) as control:
        assert (await control.get("/scenario")).json() == {"events": []}
        before = await binance(mockfeed_server, **page)
        assert await binance(mockfeed_server, **page) == before  # cached now
        okx_before = await okx(mockfeed_server, after=minute(20), limit=20)

        put = await control.put("/scenario", json=CRASH)
        shown = {"events": [{**CRASH["events"][0], "over": "0s"}, CRASH["events"][1]]}  # defaults too
        assert put.status_code == 200 and put.json() == shown
        assert (await control.get("/scenario")).json() == shown
        assert (await control.put("/scenario", json=shown)).json() == shown  # GET's body PUTs back
        after = await binance(mockfeed_server, **page)
        assert after[:5] == before[:5]  # before the crash: untouched
        for row, old in zip(after[6:10], before[6:10], strict=True):
            assert Decimal(row[4]) == (Decimal(old[4]) / 2).quantize(TICK, ROUND_HALF_UP)
        okx_after = await okx(mockfeed_server, after=minute(20), limit=20)
        closes = [Decimal(r[4]) for r in after]
        assert [Decimal(r[4]) for r in okx_after] == closes != [Decimal(r[4]) for r in okx_before]
        calm = [Decimal(r[2]) - Decimal(r[3]) for r in after[10:15]]
        wild = [Decimal(r[2]) - Decimal(r[3]) for r in before[10:15]]
        assert sum(calm) < sum(wild) / 2  # a fifth of the moves, at half the price

        deleted = await control.delete("/scenario")
        assert deleted.status_code == 200 and deleted.json() == {"events": []}
        assert await binance(mockfeed_server, **page) == before
        assert await okx(mockfeed_server, after=minute(20), limit=20) == okx_before


BAD_BODIES = [
    ({"events": [{"kind": "jump", "at": "+1h", "pct": "ten"}]}, "events[0].pct"),
    ({"events": [{"kind": "hault", "at": "+1h"}]}, "events[0].kind"),
    ({"events": [CRASH["events"][0], {"kind": "volatility", "at": "+1h", "over": "1h"}]},
     "events[1].factor"),
    ({"events": [{"kind": "volatility", "at": "+1h", "over": "1h", "factor": 0}]}, "events[0].factor"),
    ({"events": [{"kind": "jump", "at": "+1h", "pct": 5, "pair": "DOGE-USDT"}]}, "events[0].pair"),
    ({"events": [{"kind": "maintenance", "at": "+1h", "over": "1m", "exchange": "kraken_spot"}]},
     "events[0].exchange"),
    ({"events": [{"kind": "jump", "at": "+1h", "over": "1h", "pct": 5},
                 {"kind": "volatility", "at": "+90m", "over": "1h", "factor": 3}]}, "overlaps a jump"),
    ({"evnts": []}, "evnts"),
    ([], "JSON object"),
]


@pytest.mark.mockfeed(**COMMON, speed=0, control_port=0, scenario=REGIME)
async def test_bad_scenarios_are_refused_and_change_nothing(mockfeed_server: Server) -> None:
    """Every bad body is a 400 naming the key; the scenario in force and the candles stay."""
    mockfeed_server.set_time(minute(30))
    async with httpx.AsyncClient(base_url=mockfeed_server.control_url) as control:
        shown = (await control.get("/scenario")).json()
        assert shown == {"events": [{"kind": "volatility", "at": "+3m", "over": "10m", "factor": 4,
                                     "pair": "BTC-USDT"}]}
        rows = await binance(mockfeed_server, startTime=START_MS, limit=20)
        for body, key in BAD_BODIES:
            answer = await control.put("/scenario", json=body)
            assert answer.status_code == 400, body
            assert key in answer.json()["error"], answer.json()
        broken = await control.put("/scenario", content=b'{"events": [')
        assert broken.status_code == 400 and "JSON" in broken.json()["error"]
        assert (await control.get("/scenario")).json() == shown
        assert await binance(mockfeed_server, startTime=START_MS, limit=20) == rows


@pytest.mark.mockfeed(**COMMON, control_port=0)
async def test_put_takes_effect_on_websocket_pushes_and_maintenance_at_once(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """A subscriber's next push follows the new scenario and equals REST; a maintenance window
    PUT around now takes the exchange down at once, and DELETE brings it back."""
    binance_server = mockfeed_server["binance_spot"]
    await trio.sleep(5 * 60 + 30)
    async with httpx.AsyncClient(base_url=mockfeed_server.control_url) as control:
        async with open_websocket_url(binance_server.ws_url + "/ws/btcusdt@kline_1m") as ws:
            first = json.loads(await ws.get_message())["k"]
            crash = {"events": [{"kind": "crash", "at": "+1m", "pct": 50, "pair": "BTC-USDT"}]}
            assert (await control.put("/scenario", json=crash)).status_code == 200
            with trio.fail_after(10):  # virtual seconds: the next push or so (one may be on its way)
                while True:
                    pushed = json.loads(await ws.get_message())["k"]
                    if Decimal(pushed["o"]) < Decimal(first["o"]) * Decimal("0.6"):
                        break
        [rest] = await binance(mockfeed_server, startTime=pushed["t"], limit=1)
        assert rest[0] == pushed["t"] and rest[1] == pushed["o"]

        down = {"events": [{"kind": "maintenance", "at": "+5m", "over": "1h", "exchange": "binance_spot"}]}
        assert (await control.put("/scenario", json=down)).status_code == 200
        async with httpx.AsyncClient() as client:
            answer = await client.get(binance_server.rest_url + "/api/v3/time")
            assert answer.status_code == 503
            assert (await control.delete("/scenario")).status_code == 200
            assert (await client.get(binance_server.rest_url + "/api/v3/time")).status_code == 200
