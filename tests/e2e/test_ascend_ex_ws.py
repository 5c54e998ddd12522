"""AscendEX spot streams over real sockets (trio-websocket clients against the trio fixture)."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import attrs
import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed, ConnectionRejected, WebSocketConnection, open_websocket_url

import mockfeed
from mockfeed import Server
from mockfeed.exchanges.ascend_ex import AscendExSpot

pytestmark = pytest.mark.mockfeed(exchanges=["ascend_ex_spot"], seed=11)

MINUTE = 60_000
STREAM = "/api/pro/v1/stream"
CHANNEL = "bar:1:BTC/USDT"


def plugin_of(server: Server) -> AscendExSpot:
    """The AscendEX plugin instance a server runs."""
    plugin = server["ascend_ex_spot"].plugin
    assert isinstance(plugin, AscendExSpot)
    return plugin


async def receive(ws: WebSocketConnection, timeout: float = 4.0) -> Any:
    """The next message, decoded."""
    with trio.fail_after(timeout):
        return json.loads(await ws.get_message())


async def control(ws: WebSocketConnection, timeout: float = 4.0) -> Any:
    """The next message that is not a bar push."""
    with trio.fail_after(timeout):
        while True:
            message = json.loads(await ws.get_message())
            if message.get("m") != "bar":
                return message


async def bar(ws: WebSocketConnection, timeout: float = 4.0) -> Any:
    """The next bar push, skipping anything else."""
    with trio.fail_after(timeout):
        while True:
            message = json.loads(await ws.get_message())
            if message.get("m") == "bar":
                return message


async def send(ws: WebSocketConnection, **message: Any) -> None:
    """Send one JSON message."""
    await ws.send_message(json.dumps(message))


async def subscribe(ws: WebSocketConnection, ch: str = CHANNEL, id: str = "1") -> None:
    """Subscribe and check the ack."""
    await send(ws, op="sub", id=id, ch=ch)
    assert await control(ws) == {"m": "sub", "id": id, "ch": ch, "code": 0}


async def test_connected_sub_ack_and_pushes(mockfeed_server: Server) -> None:
    """connected on open, a code-0 ack, then bar pushes about every second with s and data.i."""
    left = MINUTE - time.time_ns() // 1_000_000 % MINUTE
    if left < 5_000:  # a minute boundary adds a final push out of cadence: measure away from it
        await trio.sleep(left / 1000 + 0.2)
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws:
        assert await receive(ws) == {"m": "connected", "type": "unauth"}
        await subscribe(ws)
        arrivals = []
        for _ in range(3):
            push = await bar(ws)
            arrivals.append(trio.current_time())
            assert push["s"] == "BTC/USDT" and push["data"]["i"] == "1"
            assert type(push["data"]["ts"]) is int and push["data"]["ts"] % MINUTE == 0
            assert all(isinstance(push["data"][k], str) for k in "ochlv")
        gaps = [b - a for a, b in itertools.pairwise(arrivals)]
        assert all(0.5 < gap < 2.0 for gap in gaps), gaps


@pytest.mark.parametrize(
    "path", ["/api/pro/v2/stream", "/0/api/pro/v1/stream", "/api/pro/v1/websocket-for-hummingbot-liq-mining/stream"]
)
async def test_other_stream_paths(mockfeed_server: Server, path: str) -> None:
    """ccxt's v2 path, an account-group path and hummingbot's path all stream."""
    async with open_websocket_url(mockfeed_server.ws_url + path) as ws:
        assert (await receive(ws))["m"] == "connected"
        await subscribe(ws, "bar:5:SOL/USDT")
        push = await bar(ws)
        assert push["s"] == "SOL/USDT" and push["data"]["i"] == "5"


async def test_unknown_path_rejected(mockfeed_server: Server) -> None:
    """Other paths are refused at the handshake."""
    with pytest.raises(ConnectionRejected) as rejected:
        async with open_websocket_url(mockfeed_server.ws_url + "/ws/btcusdt@kline_1m"):
            pass  # pragma: no cover
    assert rejected.value.status_code == 404


async def test_unsub_stops_pushes(mockfeed_server: Server) -> None:
    """After the unsub ack no more bars arrive for that channel; the other keeps streaming."""
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws:
        await receive(ws)
        await subscribe(ws, "bar:1:BTC/USDT,ETH/USDT")
        await bar(ws)
        await send(ws, op="unsub", id="2", ch="bar:*:BTC/USDT")
        assert await control(ws) == {"m": "unsub", "id": "2", "ch": "bar:*:BTC/USDT"}
        symbols = set()
        with trio.move_on_after(2.5):
            while True:
                symbols.add((await bar(ws))["s"])
        assert symbols == {"ETH/USDT"}


async def test_refusals_and_errors(mockfeed_server: Server) -> None:
    """Bad channels get a refusing ack, malformed messages an error message; nothing streams."""
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws:
        await receive(ws)
        await send(ws, op="sub", id="3", ch="bar:1:DOGE/USDT")
        refused = await receive(ws)
        assert refused["m"] == "sub" and refused["code"] == 100008 and refused["reason"] == "SYMBOL_ERROR"
        await send(ws, op="sub", id="4", ch="bar:2:BTC/USDT")
        assert (await receive(ws))["code"] == 100006
        await ws.send_message("not json")
        assert (await receive(ws))["code"] == 150001
        await send(ws, op="subscribe", id="5")
        error = await receive(ws)
        assert error["m"] == "error" and error["id"] == "5" and error["code"] == 100005
        with trio.move_on_after(1.5):
            message = await ws.get_message()
            raise AssertionError(f"unexpected message {message}")


async def test_client_ping_gets_pong(mockfeed_server: Server) -> None:
    """{"op":"ping"} is answered with a pong carrying the server time and hp."""
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws:
        await receive(ws)
        await send(ws, op="ping")
        pong = await receive(ws)
        assert pong["m"] == "pong" and pong["code"] == 0 and pong["hp"] == 3
        assert abs(pong["ts"] - time.time_ns() // 1_000_000) < 5_000


async def test_server_pings_quiet_client_and_drops_it(mockfeed_server: Server) -> None:
    """A quiet client is pinged; pongs keep it; two unanswered pings disconnect it (rules shortened)."""
    plugin = plugin_of(mockfeed_server)
    plugin.stream_rules = attrs.evolve(plugin.stream_rules, idle_s=0.4, tick_s=0.05)
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws:
        await receive(ws)
        for _ in range(2):
            ping = await receive(ws, 3)
            assert ping == {"m": "ping", "hp": 3}
            await send(ws, op="pong", hp=ping["hp"])  # what ccxt answers
        assert await receive(ws, 3) == {"m": "ping", "hp": 3}
        assert await receive(ws, 3) == {"m": "ping", "hp": 2}
        gone = await receive(ws, 3)
        assert gone["m"] == "disconnected" and gone["code"] == 100005
        with pytest.raises(ConnectionClosed), trio.fail_after(3):
            await ws.get_message()
        assert ws.closed is not None and ws.closed.code == 1000


@attrs.define
class NudgedClock:
    """Real time plus an offset the test sets (to bring a minute boundary close)."""

    offset_ms: int = 0

    def now_ms(self) -> int:
        """Shifted wall-clock time."""
        return time.time_ns() // 1_000_000 + self.offset_ms


async def test_final_push_equals_rest_row_after_close() -> None:
    """The last push of a 1-minute bar (followed by the next bar's) equals the REST row afterwards."""
    clock = NudgedClock()
    config = mockfeed.ServerConfig(exchanges=["ascend_ex_spot"], port=0, ws_port=0, seed=4)
    async with mockfeed.serve(config, clock=clock) as server:
        async with open_websocket_url(server.ws_url + STREAM) as ws:
            await receive(ws)
            await subscribe(ws)
            first = await bar(ws)
            left = MINUTE - clock.now_ms() % MINUTE
            if left > 2_000:  # jump ahead within the same minute: the boundary is 1.5 s away
                clock.offset_ms += left - 1_500
            pushes = [first]
            with trio.fail_after(6):
                while pushes[-1]["data"]["ts"] == first["data"]["ts"]:
                    pushes.append(await bar(ws))
            final, after = pushes[-2], pushes[-1]
            assert after["data"]["ts"] == final["data"]["ts"] + MINUTE
            for _ in range(2):  # the closed bar is never pushed again
                assert (await bar(ws))["data"]["ts"] == after["data"]["ts"]
        async with httpx.AsyncClient(base_url=server.rest_url) as client:
            response = await client.get(
                "/api/pro/v1/barhist",
                params={"symbol": "BTC/USDT", "interval": "1", "to": final["data"]["ts"], "n": 1},
            )
        assert response.json() == {"code": 0, "data": [final]}
