"""Moving market time: the Python API (Server, ThreadedServer) and the HTTP control endpoint.

Real sockets on 127.0.0.1: httpx against the exchanges' server-time endpoints and the control port,
trio-websocket for pushes.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import open_websocket_url

import mockfeed
from mockfeed import Server, ThreadedServer
from mockfeed.market.clock import LATEST_MS, RealClock, parse_time

MINUTE = 60_000
HOUR = 60 * MINUTE
START_MS = parse_time("2024-01-01T00:00:00Z")
SLACK_MS = 30_000  # real time a loaded machine may take between two steps of a test, generously


async def binance_time(client: httpx.AsyncClient) -> int:
    """Binance's server time."""
    server_time: int = (await client.get("/api/v3/time")).json()["serverTime"]
    return server_time


# -- Python API ----------------------------------------------------------------------------------------


async def test_set_time_advance_and_speed_move_what_rest_serves(mockfeed_server: Server) -> None:
    """set_time, advance (ms or timedelta), set_speed(0): the server-time endpoint follows each."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        assert mockfeed_server.set_time("2024-01-01T00:00:00Z") == START_MS
        assert START_MS <= await binance_time(client) < START_MS + SLACK_MS
        after = mockfeed_server.advance(dt.timedelta(hours=1))
        assert after >= START_MS + HOUR
        assert after <= await binance_time(client) < after + SLACK_MS
        assert mockfeed_server.advance(MINUTE) >= after + MINUTE
        mockfeed_server.set_time(dt.datetime(2023, 6, 1, tzinfo=dt.UTC))  # backwards, on request
        earlier = parse_time("2023-06-01")
        assert earlier <= await binance_time(client) < earlier + SLACK_MS
        frozen = mockfeed_server.set_speed(0)
        assert mockfeed_server.speed == 0
        await trio.sleep(0.05)
        assert await binance_time(client) == frozen == mockfeed_server.now_ms()
        rows = (await client.get("/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1m",
                                                            "limit": 2})).json()
        assert rows[-1][0] == frozen // MINUTE * MINUTE  # the forming candle, aligned in market time
        assert rows[-2][6] == rows[-1][0] - 1


async def test_pushes_carry_market_time(mockfeed_server: Server) -> None:
    """With the clock frozen at a set time, a push's event time is exactly that time."""
    mockfeed_server.set_speed(0)
    moment = mockfeed_server.set_time(START_MS + 90_000)
    async with open_websocket_url(mockfeed_server.ws_url + "/ws/btcusdt@kline_1m") as ws:
        with trio.fail_after(10):
            push = json.loads(await ws.get_message())
    assert push["E"] == moment
    assert (push["k"]["t"], push["k"]["x"]) == (START_MS + MINUTE, False)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda s: s.advance(-1), "never runs backwards"),
        (lambda s: s.advance(1.5), "whole number"),
        (lambda s: s.advance(LATEST_MS), "outside the market's time span"),
        (lambda s: s.set_time("yesterday"), "ISO 8601"),
        (lambda s: s.set_time(0), "outside the market's time span"),
        (lambda s: s.set_speed(-2), "outside the speed range"),
        (lambda s: s.set_speed(float("nan")), "outside the speed range"),
    ],
)
async def test_bad_moves_raise_and_change_nothing(mockfeed_server: Server, call: Any, fragment: str) -> None:
    """A refused move raises ValueError with a message and leaves the clock as it was."""
    mockfeed_server.set_speed(0)
    before = mockfeed_server.now_ms()
    with pytest.raises(ValueError, match=fragment):
        call(mockfeed_server)
    assert (mockfeed_server.now_ms(), mockfeed_server.speed) == (before, 0)


async def test_a_fixed_clock_cannot_be_moved() -> None:
    """A server given a RealClock serves wall time and refuses to move it."""
    async with mockfeed.serve(exchanges=["binance_spot"], port=0, ws_port=0, clock=RealClock()) as server:
        with pytest.raises(TypeError, match="cannot be moved"):
            server.advance(1)
        assert server.speed == 1.0


def test_a_clock_and_a_config_speed_conflict() -> None:
    """Passing a clock and a speed/start in the config is refused rather than half-honoured."""
    with pytest.raises(ValueError, match="either a clock"):
        Server(mockfeed.ServerConfig(port=0, ws_port=0, speed=2), clock=RealClock())


# -- the HTTP control endpoint ---------------------------------------------------------------------------


@pytest.mark.mockfeed(exchanges=["binance_spot"], control_port=0, start="2024-01-01T00:00:00Z")
async def test_control_endpoint_moves_time(mockfeed_server: Server) -> None:
    """GET /time; POST/PUT with advance_ms, set_ms and speed; the exchanges serve the result."""
    assert mockfeed_server.control_url.startswith("http://127.0.0.1:")
    async with httpx.AsyncClient(base_url=mockfeed_server.control_url) as control, \
            httpx.AsyncClient(base_url=mockfeed_server.rest_url) as rest:
        state = (await control.get("/time")).json()
        assert set(state) == {"now_ms", "now", "speed", "adjustable"}
        assert START_MS <= state["now_ms"] < START_MS + SLACK_MS
        assert state["now"].startswith("2024-01-01T00:") and state["now"].endswith("Z")
        assert (state["speed"], state["adjustable"]) == (1.0, True)

        frozen = (await control.put("/time", json={"set_ms": START_MS + HOUR, "speed": 0})).json()
        assert (frozen["now_ms"], frozen["now"], frozen["speed"]) == (
            START_MS + HOUR, "2024-01-01T01:00:00.000Z", 0.0
        )
        assert await binance_time(rest) == START_MS + HOUR
        moved = await control.post("/time", json={"advance_ms": 1500})
        assert moved.status_code == 200 and moved.json()["now_ms"] == START_MS + HOUR + 1500
        assert await binance_time(rest) == START_MS + HOUR + 1500
        fast = (await control.post("/time", json={"speed": 60})).json()
        assert fast["speed"] == 60.0 and fast["now_ms"] == START_MS + HOUR + 1500
        assert mockfeed_server.speed == 60.0
        index = (await control.get("/")).json()
        assert index["endpoints"]["/time"] == ["GET", "POST", "PUT"]


BAD_CHANGES = [
    (b"{", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b"{}", "expected at least one of advance_ms, set_ms, speed"),
    (b'{"advance": 5}', "unknown key 'advance'"),
    (b'{"advance_ms": 5, "set_ms": 1704067200000}', "cannot be combined"),
    (b'{"advance_ms": -5}', "advance_ms: cannot advance by -5 ms"),
    (b'{"advance_ms": 1.5}', "advance_ms: expected a whole number of milliseconds"),
    (b'{"advance_ms": true}', "advance_ms: expected a whole number of milliseconds"),
    (b'{"advance_ms": "60000"}', "advance_ms: expected a whole number of milliseconds"),
    (b'{"set_ms": "2024-01-01"}', "set_ms: expected a whole number of milliseconds"),
    (b'{"set_ms": 5}', "set_ms: 5 is outside the market's time span"),
    (b'{"set_ms": 99999999999999999}', "set_ms: 99999999999999999 is outside"),
    (b'{"speed": -1}', "speed: -1 is outside the speed range"),
    (b'{"speed": 1e9}', "speed: 1000000000.0 is outside the speed range"),
    (b'{"speed": "fast"}', "speed: expected a number"),
    (b'{"set_ms": 1704067200000, "speed": -1}', "speed: -1 is outside"),  # all or nothing
]


@pytest.mark.mockfeed(exchanges=["binance_spot"], control_port=0, speed=0, start="2024-03-01")
@pytest.mark.parametrize(("body", "fragment"), BAD_CHANGES)
async def test_control_refuses_bad_changes_with_400(mockfeed_server: Server, body: bytes, fragment: str) -> None:
    """Bad input gets 400 and a JSON message naming the problem; the clock does not move."""
    before = mockfeed_server.now_ms()
    async with httpx.AsyncClient(base_url=mockfeed_server.control_url) as control:
        for method in ("POST", "PUT"):
            response = await control.request(method, "/time", content=body)
            assert response.status_code == 400
            assert response.headers["content-type"] == "application/json"
            message = response.json()["error"]
            assert fragment in message and "Traceback" not in message
    assert (mockfeed_server.now_ms(), mockfeed_server.speed) == (before, 0)


@pytest.mark.mockfeed(exchanges=["binance_spot"], control_port=0)
async def test_control_unknown_paths_methods_and_big_bodies(mockfeed_server: Server) -> None:
    """404 lists the endpoints, 405 the allowed methods, 413 refuses an oversized body; all JSON."""
    async with httpx.AsyncClient(base_url=mockfeed_server.control_url) as control:
        missing = await control.get("/clock")
        assert missing.status_code == 404
        assert {"/", "/time", "/conditions"} <= set(missing.json()["endpoints"])
        wrong = await control.delete("/time")
        assert wrong.status_code == 405 and wrong.json()["allowed"] == ["GET", "POST", "PUT"]
        huge = await control.post("/time", content=b" " * 100_000)
        assert huge.status_code == 413 and "error" in huge.json()
        assert (await control.get("/time")).status_code == 200  # still serving


async def test_control_on_a_fixed_clock_answers_409() -> None:
    """A RealClock is shown by GET /time but cannot be moved: 409 with a message."""
    serving = mockfeed.serve(exchanges=["binance_spot"], port=0, ws_port=0, control_port=0, clock=RealClock())
    async with serving as server, httpx.AsyncClient(base_url=server.control_url) as control:
        assert (await control.get("/time")).json()["adjustable"] is False
        refused = await control.post("/time", json={"advance_ms": 1})
    assert refused.status_code == 409 and "cannot be moved" in refused.json()["error"]


async def test_no_control_endpoint_unless_asked(mockfeed_server: Server) -> None:
    """The fixture's default opens no control port; asking for its URL says how to get one."""
    assert mockfeed_server.control_line is None
    with pytest.raises(RuntimeError, match="control_port"):
        _ = mockfeed_server.control_url


# -- ThreadedServer -------------------------------------------------------------------------------------


def test_threaded_server_moves_time_from_another_thread() -> None:
    """ThreadedServer's advance/set_time/set_speed run in the server's thread; REST and control agree."""
    with ThreadedServer(exchanges=["binance_spot"], port=0, ws_port=0, control_port=0) as server:
        assert server.set_time("2024-01-01") == START_MS
        assert server.set_speed(0) >= START_MS
        frozen = server.advance(dt.timedelta(minutes=5))
        assert frozen == server.now_ms() and server.speed == 0
        with httpx.Client() as client:
            assert client.get(server.rest_url + "/api/v3/time").json() == {"serverTime": frozen}
            assert client.get(server.control_url + "/time").json()["now_ms"] == frozen
        with pytest.raises(ValueError, match="never runs backwards"):
            server.advance(-1)
