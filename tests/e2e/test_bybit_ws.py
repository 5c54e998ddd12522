"""Bybit v5 public kline streams over real sockets (trio-websocket clients)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    WebSocketConnection,
    connect_websocket_url,
    open_websocket_url,
)

import mockfeed
from mockfeed import Server

pytestmark = pytest.mark.mockfeed(exchanges=["bybit_spot", "bybit_perpetual"], seed=11)

EXCHANGE = {"spot": "bybit_spot", "perp": "bybit_perpetual"}
PATH = {"spot": "/v5/public/spot", "perp": "/v5/public/linear"}
CATEGORY = {"spot": "spot", "perp": "linear"}
MINUTE = 60_000
PUSH_PERIOD = 1.0


@pytest.fixture(params=["spot", "perp"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each Bybit product in turn."""
    return str(request.param)


@asynccontextmanager
async def stream(server: Server, kind: str) -> AsyncIterator[WebSocketConnection]:
    """A connection to one product's public stream path."""
    with trio.fail_after(30):
        async with open_websocket_url(server[EXCHANGE[kind]].ws_url + PATH[kind]) as ws:
            yield ws


async def receive(ws: WebSocketConnection, timeout: float = 3.0) -> Any:
    """The next message, decoded."""
    with trio.fail_after(timeout):
        return json.loads(await ws.get_message())


async def request(ws: WebSocketConnection, message: dict[str, Any]) -> Any:
    """Send a request and return the next reply, skipping pushes."""
    await ws.send_message(json.dumps(message))
    with trio.fail_after(3):
        while True:
            answer = json.loads(await ws.get_message())
            if "topic" not in answer:
                return answer


async def push(ws: WebSocketConnection, timeout: float = 3.0) -> Any:
    """The next push, failing on any reply in between."""
    message = await receive(ws, timeout)
    assert "topic" in message, message
    return message


def check_push(message: Any, topic: str, code: str) -> dict[str, Any]:
    """A kline push with Bybit's field names and types; returns its one candle."""
    assert message["topic"] == topic and message["type"] == "snapshot"
    assert type(message["ts"]) is int
    [data] = message["data"]
    for key in ("start", "end", "timestamp"):
        assert type(data[key]) is int, key
    for key in ("open", "close", "high", "low", "volume", "turnover"):
        assert isinstance(data[key], str), key
    assert type(data["confirm"]) is bool and data["interval"] == code
    assert data["start"] < data["end"] and data["timestamp"] <= data["end"]
    assert float(data["low"]) <= min(float(data["open"]), float(data["close"])) <= float(data["high"])
    return dict(data)


async def test_subscribe_ack_then_pushes_every_second(mockfeed_server: Server, kind: str) -> None:
    """subscribe is acknowledged first, then the forming candle arrives about once a second."""
    async with stream(mockfeed_server, kind) as ws:
        ack = await request(ws, {"req_id": "sub-1", "op": "subscribe", "args": ["kline.1.BTCUSDT"]})
        assert ack["success"] is True and ack["op"] == "subscribe" and ack["req_id"] == "sub-1"
        assert ack["ret_msg"] == ("subscribe" if kind == "spot" else "")
        assert isinstance(ack["conn_id"], str) and ack["conn_id"]
        first = check_push(await push(ws), "kline.1.BTCUSDT", "1")
        assert first["start"] % MINUTE == 0
        started = trio.current_time()
        count = 0
        with trio.move_on_after(2.3):
            while True:
                check_push(await push(ws), "kline.1.BTCUSDT", "1")
                count += 1
        assert trio.current_time() - started >= 2.2
        assert 2 <= count <= 3, count


async def test_unsubscribe_silences_the_topic(mockfeed_server: Server, kind: str) -> None:
    """unsubscribe acks with ret_msg "" and no push of that topic follows."""
    async with stream(mockfeed_server, kind) as ws:
        await request(ws, {"op": "subscribe", "args": ["kline.1.ETHUSDT", "kline.D.SOLUSDT"]})
        await push(ws)
        ack = await request(ws, {"req_id": "u", "op": "unsubscribe", "args": ["kline.1.ETHUSDT"]})
        assert (ack["success"], ack["ret_msg"], ack["op"], ack["req_id"]) == (True, "", "unsubscribe", "u")
        with trio.move_on_after(PUSH_PERIOD + 0.4):
            while True:
                assert (await push(ws))["topic"] == "kline.D.SOLUSDT"


async def test_refusals_keep_the_socket_open(mockfeed_server: Server, kind: str) -> None:
    """Bad topics, duplicates, unknown ops and garbage are refused with success:false; pings still pong."""
    async with stream(mockfeed_server, kind) as ws:
        unknown = await request(ws, {"req_id": "e1", "op": "subscribe", "args": ["kline.1.NOPEUSDT"]})
        assert unknown["success"] is False and unknown["req_id"] == "e1"
        assert "kline.1.NOPEUSDT" in unknown["ret_msg"]
        bad = await request(ws, {"op": "subscribe", "args": ["kline.1m.BTCUSDT"]})
        assert bad["ret_msg"] == "error:handler not found,topic:kline.1m.BTCUSDT"
        await request(ws, {"op": "subscribe", "args": ["kline.5.BTCUSDT"]})
        again = await request(ws, {"op": "subscribe", "args": ["kline.5.BTCUSDT"]})
        assert again["ret_msg"] == "error:already subscribed,topic:kline.5.BTCUSDT"
        assert (await request(ws, {"op": "hello"}))["ret_msg"] == "error:invalid op"
        await ws.send_message("hello")
        reply = await receive(ws)
        while "topic" in reply:
            reply = await receive(ws)
        assert reply["success"] is False and reply["ret_msg"].startswith("Failed to decode incoming data")
        pong = await request(ws, {"req_id": "p", "op": "ping"})
        assert pong["ret_msg"] == "pong"


async def test_ping_pong_shape(mockfeed_server: Server, kind: str) -> None:
    """{"op":"ping"} answers ret_msg "pong" (ccxt's check); linear echoes req_id, spot does not."""
    async with stream(mockfeed_server, kind) as ws:
        pong = await request(ws, {"req_id": "100001", "op": "ping"})
    assert pong["success"] is True and pong["ret_msg"] == "pong" and pong["op"] == "ping"
    assert pong.get("req_id") == ("100001" if kind == "perp" else None)


async def test_other_paths_are_refused(mockfeed_server: Server, kind: str) -> None:
    """Each product serves only its own /v5/public/<category> path (ccxt detects spot by it)."""
    other = PATH["perp" if kind == "spot" else "spot"]
    for path in (other, "/v5/public/inverse", "/ws"):
        with trio.fail_after(5), pytest.raises(ConnectionRejected) as rejected:
            async with open_websocket_url(mockfeed_server[EXCHANGE[kind]].ws_url + path):
                pass
        assert rejected.value.status_code == 404


async def test_idle_connection_is_cut_subscribed_one_kept(mockfeed_server: Server, kind: str) -> None:
    """With nothing subscribed and nothing sent the server closes; a subscribed socket stays."""
    plugin: Any = mockfeed_server[EXCHANGE[kind]].plugin
    plugin.idle_timeout_s, plugin.idle_check_s = 0.6, 0.1
    async with stream(mockfeed_server, kind) as quiet, stream(mockfeed_server, kind) as busy:
        await request(busy, {"op": "subscribe", "args": ["kline.1.BTCUSDT"]})
        with trio.fail_after(3), pytest.raises(ConnectionClosed) as closed:
            await quiet.get_message()
        assert closed.value.reason.code == 1001
        await push(busy)
        await push(busy)
        assert not busy.closed


class _NearBoundaryClock:
    """Wall-clock time shifted so that a minute boundary falls ``lead_ms`` after construction."""

    def __init__(self, lead_ms: int) -> None:
        real = time.time_ns() // 1_000_000
        self.offset = (real // MINUTE + 1) * MINUTE - lead_ms - real

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset


@pytest.mark.parametrize("kind", ["spot", "perp"])
async def test_close_signal_once_and_equal_to_rest(kind: str) -> None:
    """At the minute boundary confirm:true goes out once, equal to the REST row for that candle."""
    clock = _NearBoundaryClock(lead_ms=1500)
    config = mockfeed.ServerConfig(exchanges=[EXCHANGE[kind]], port=0, ws_port=0, seed=4)
    async with mockfeed.serve(config, clock=clock) as server, stream(server, kind) as ws:
        await request(ws, {"op": "subscribe", "args": ["kline.1.SOLUSDT"]})
        pushes: list[dict[str, Any]] = []
        with trio.fail_after(8):
            while not pushes or not pushes[-1]["confirm"]:
                pushes.append(check_push(await push(ws), "kline.1.SOLUSDT", "1"))
            pushes.append(check_push(await push(ws), "kline.1.SOLUSDT", "1"))
        final, after = pushes[-2], pushes[-1]
        assert [p["confirm"] for p in pushes[:-2]] == [False] * (len(pushes) - 2)
        assert {p["start"] for p in pushes[:-1]} == {final["start"]}
        assert final["end"] == final["start"] + MINUTE - 1 and final["timestamp"] == final["end"]
        assert after["start"] == final["start"] + MINUTE and after["confirm"] is False
        params = {"category": CATEGORY[kind], "symbol": "SOLUSDT", "interval": "1",
                  "start": final["start"], "end": final["start"]}
        async with httpx.AsyncClient(base_url=server.rest_url, timeout=5) as client:
            with trio.fail_after(10):
                [row] = (await client.get("/v5/market/kline", params=params)).json()["result"]["list"]
    keys = ("open", "high", "low", "close", "volume", "turnover")
    assert row == [str(final["start"]), *(final[k] for k in keys)]


async def test_shutdown_closes_with_1001() -> None:
    """Leaving mockfeed.serve closes every stream with 1001 (Bybit has no farewell message)."""
    config = mockfeed.ServerConfig(exchanges=["bybit_perpetual"], port=0, ws_port=0)
    async with trio.open_nursery() as nursery:
        async with mockfeed.serve(config) as server:
            ws = await connect_websocket_url(nursery, server.ws_url + PATH["perp"])
            await request(ws, {"op": "subscribe", "args": ["kline.1.BTCUSDT"]})
            await push(ws)
        with trio.fail_after(5), pytest.raises(ConnectionClosed) as closed:
            while True:
                assert "topic" in json.loads(await ws.get_message())
        assert closed.value.reason.code == 1001
