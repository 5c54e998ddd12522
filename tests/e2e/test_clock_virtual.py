"""Virtual market time: under pytest-trio's ``autojump_clock`` the server follows trio's MockClock.

Real sockets on 127.0.0.1 and real clients (trio-websocket, httpx); only time is virtual, so an
hour of candles streams in seconds of wall time (none of which is asserted).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import trio
import trio.testing
from trio_websocket import WebSocketConnection, open_websocket_url

from mockfeed import Server
from mockfeed.market.clock import parse_time

MINUTE = 60_000
START = "2024-03-01T00:00:00Z"
START_MS = parse_time(START)
HOUR_OF_MINUTES = 60


async def binance_finals(server: Server, count: int) -> list[dict[str, Any]]:
    """The first ``count`` final (x=true) 1m BTCUSDT klines, checking each candle closes once."""
    finals: list[dict[str, Any]] = []
    seen_final: set[int] = set()
    async with open_websocket_url(server["binance_spot"].ws_url + "/ws/btcusdt@kline_1m") as ws:
        while len(finals) < count:
            k = json.loads(await ws.get_message())["k"]
            assert k["t"] not in seen_final, "an update arrived after the candle's final push"
            if k["x"]:
                seen_final.add(k["t"])
                finals.append(k)
    return finals


async def okx_finals(server: Server, count: int) -> list[list[str]]:
    """The first ``count`` confirmed (confirm="1") 1m BTC-USDT candle rows from OKX's business stream."""
    finals: list[list[str]] = []
    async with open_websocket_url(server["okx_spot"].ws_url + "/ws/v5/business") as ws:
        await ws.send_message(json.dumps(
            {"id": "1", "op": "subscribe", "args": [{"channel": "candle1m", "instId": "BTC-USDT"}]}
        ))
        assert json.loads(await ws.get_message())["event"] == "subscribe"
        while len(finals) < count:
            [row] = json.loads(await ws.get_message())["data"]
            assert not finals or row[0] != finals[-1][0], "an update arrived after the candle's final push"
            if row[8] == "1":
                finals.append(row)
    return finals


def check_consecutive(opens: list[int]) -> None:
    """One final per minute, none skipped, none repeated, on minute boundaries of market time."""
    assert opens[0] % MINUTE == 0
    assert opens == [opens[0] + MINUTE * i for i in range(len(opens))]


async def binance_rest_rows(server: Server, first_open: int, count: int) -> list[list[Any]]:
    """REST klines for ``count`` minutes from ``first_open``."""
    params = {"symbol": "BTCUSDT", "interval": "1m", "startTime": first_open, "limit": count}
    async with httpx.AsyncClient(base_url=server["binance_spot"].rest_url) as client:
        response = await client.get("/api/v3/klines", params=params)
    assert response.status_code == 200
    rows: list[list[Any]] = response.json()
    return rows


async def okx_rest_rows(server: Server, last_open: int, count: int) -> list[list[str]]:
    """OKX history-candles for the ``count`` minutes up to ``last_open``, oldest first."""
    params = {"instId": "BTC-USDT", "bar": "1m", "after": last_open + 1, "limit": count}
    async with httpx.AsyncClient(base_url=server["okx_spot"].rest_url) as client:
        response = await client.get("/api/v5/market/history-candles", params=params)
    assert response.status_code == 200
    rows: list[list[str]] = response.json()["data"]
    return rows[::-1]


@pytest.mark.mockfeed(exchanges=["binance_spot", "okx_spot"], start=START, seed=11)
async def test_an_hour_of_1m_candles_streams_on_virtual_time_and_matches_rest(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """An hour of 1m klines from two exchanges at once: each candle closes once, equal to its REST row."""
    assert mockfeed_server.now_ms() == START_MS  # no virtual time has passed yet
    results: dict[str, Any] = {}

    async def collect(name: str, task: Any) -> None:
        results[name] = await task(mockfeed_server, HOUR_OF_MINUTES)

    with trio.fail_after(2 * 3600):  # virtual seconds
        async with trio.open_nursery() as nursery:
            nursery.start_soon(collect, "binance", binance_finals)
            nursery.start_soon(collect, "okx", okx_finals)
    assert mockfeed_server.now_ms() >= START_MS + HOUR_OF_MINUTES * MINUTE

    binance = results["binance"]
    check_consecutive([k["t"] for k in binance])
    assert binance[0]["t"] == START_MS  # the market started on a boundary, so this candle is whole
    rows = await binance_rest_rows(mockfeed_server, binance[0]["t"], HOUR_OF_MINUTES)
    for k, row in zip(binance, rows, strict=True):
        assert [k["t"], k["o"], k["h"], k["l"], k["c"], k["v"], k["T"], k["q"], k["n"], k["V"], k["Q"]] == row[:11]

    okx = results["okx"]
    check_consecutive([int(row[0]) for row in okx])
    assert int(okx[0][0]) == START_MS
    assert await okx_rest_rows(mockfeed_server, int(okx[-1][0]), HOUR_OF_MINUTES) == okx


@pytest.mark.mockfeed(exchanges=["binance_spot"], start=START, speed=0)
async def test_step_by_step_with_a_frozen_clock(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """Speed 0 freezes market time; each advance closes exactly the candles it passes, in order."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        assert (await client.get("/api/v3/time")).json() == {"serverTime": START_MS}
        await trio.sleep(3600)  # an hour of trio time: the market does not move
        assert (await client.get("/api/v3/time")).json() == {"serverTime": START_MS}
    async with open_websocket_url(mockfeed_server.ws_url + "/ws/btcusdt@kline_1m") as ws:
        first = await _push(ws)
        assert (first["k"]["t"], first["k"]["x"], first["E"]) == (START_MS, False, START_MS)
        assert mockfeed_server.advance(MINUTE + 500) == START_MS + MINUTE + 500
        final = await _until_final(ws)
        assert (final["t"], final["T"]) == (START_MS, START_MS + MINUTE - 1)
        mockfeed_server.advance(3 * MINUTE)
        finals = [await _until_final(ws) for _ in range(3)]
        assert [k["t"] for k in finals] == [START_MS + MINUTE * i for i in (1, 2, 3)]
    rows = await binance_rest_rows(mockfeed_server, START_MS, 5)
    assert [r[0] for r in rows] == [START_MS + MINUTE * i for i in range(5)]
    assert [final["o"], final["c"]] == rows[0][1:5:3]


async def _push(ws: WebSocketConnection) -> dict[str, Any]:
    with trio.fail_after(60):  # virtual seconds
        push: dict[str, Any] = json.loads(await ws.get_message())
        return push


async def _kline(ws: WebSocketConnection) -> dict[str, Any]:
    kline: dict[str, Any] = (await _push(ws))["k"]
    return kline


async def _until_final(ws: WebSocketConnection) -> dict[str, Any]:
    while not (kline := await _kline(ws))["x"]:
        pass
    return kline


@pytest.mark.mockfeed(exchanges=["binance_spot"], start=START, speed=300)
async def test_fast_market_closes_every_1s_candle_once(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """At 300× real time 15 one-second candles close per 50 ms hub pass: each gets its final once."""
    finals: list[dict[str, Any]] = []
    async with open_websocket_url(mockfeed_server.ws_url + "/ws/btcusdt@kline_1s") as ws:
        with trio.fail_after(60):
            while len(finals) < 600:
                k = await _kline(ws)
                if k["x"]:
                    finals.append(k)
    opens = [k["t"] for k in finals]
    assert opens == [opens[0] + 1000 * i for i in range(len(opens))], "a candle was skipped or repeated"
    rows = await binance_rest_rows_1s(mockfeed_server, opens[0], 600)
    assert [[k["t"], k["o"], k["h"], k["l"], k["c"], k["v"]] for k in finals] == [r[:6] for r in rows]


async def binance_rest_rows_1s(server: Server, first_open: int, count: int) -> list[list[Any]]:
    """REST 1s klines for ``count`` seconds from ``first_open``."""
    params = {"symbol": "BTCUSDT", "interval": "1s", "startTime": first_open, "limit": count}
    async with httpx.AsyncClient(base_url=server.rest_url) as client:
        rows: list[list[Any]] = (await client.get("/api/v3/klines", params=params)).json()
    return rows


@pytest.mark.mockfeed(exchanges=["binance_spot"], start=START, speed=0)
async def test_a_jump_replays_every_close_then_only_the_last_day(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """advance(3 h) on a 1m stream: all 180 finals, in order; advance(2 days): the last 1440 only."""
    async with open_websocket_url(mockfeed_server.ws_url + "/ws/btcusdt@kline_1m") as ws:
        await _push(ws)
        mockfeed_server.advance(3 * 60 * MINUTE)
        finals = [await _until_final(ws) for _ in range(180)]
        assert [k["t"] for k in finals] == [START_MS + MINUTE * i for i in range(180)]
        mockfeed_server.advance(2 * 1440 * MINUTE)
        end = START_MS + (180 + 2 * 1440) * MINUTE
        finals = [await _until_final(ws) for _ in range(1440)]
        assert [k["t"] for k in finals] == [end - MINUTE * (1440 - i) for i in range(1440)]
        with trio.move_on_after(10) as quiet:  # nothing more: the market is frozen
            await _until_final(ws)
        assert quiet.cancelled_caught
