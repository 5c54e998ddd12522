"""Hyperliquid ``/ws`` over real sockets (trio-websocket clients against ``mockfeed_server``)."""

from __future__ import annotations

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
from mockfeed.exchanges.hyperliquid.plugin import _Hyperliquid

MINUTE = 60_000
WELCOME = "Websocket connection established."
PRODUCTS = [
    pytest.param("@0", "hyperliquid_spot", marks=pytest.mark.mockfeed(exchanges=["hyperliquid_spot"]),
                 id="hyperliquid_spot"),
    pytest.param("BTC", "hyperliquid_perpetual",
                 marks=pytest.mark.mockfeed(exchanges=["hyperliquid_perpetual"]), id="hyperliquid_perpetual"),
]


def candle(coin: str, interval: str = "1m") -> dict[str, str]:
    """A candle subscription object."""
    return {"type": "candle", "coin": coin, "interval": interval}


async def receive(ws: WebSocketConnection, timeout: float = 3.0) -> Any:
    """The next message, decoded."""
    with trio.fail_after(timeout):
        return json.loads(await ws.get_message())


async def control(ws: WebSocketConnection, timeout: float = 3.0) -> Any:
    """The next message that is not a candle push."""
    with trio.fail_after(timeout):
        while True:
            message = json.loads(await ws.get_message())
            if message.get("channel") != "candle":
                return message


async def push(ws: WebSocketConnection, timeout: float = 3.0) -> Any:
    """The next message, which must be a candle push."""
    message = await receive(ws, timeout)
    assert message["channel"] == "candle", message
    return message["data"]


async def connect_and_welcome(ws: WebSocketConnection) -> None:
    """The plain-text greeting comes first."""
    with trio.fail_after(3):
        assert await ws.get_message() == WELCOME


async def send(ws: WebSocketConnection, message: Any) -> None:
    """Send one JSON request."""
    await ws.send_message(json.dumps(message))


@pytest.mark.parametrize(("coin", "exchange"), PRODUCTS)
async def test_subscribe_ack_pushes_unsubscribe(mockfeed_server: Server, coin: str, exchange: str) -> None:
    """Ack echoing the subscription, forming-candle pushes about once a second, unsubscribe ack, silence."""
    async with open_websocket_url(mockfeed_server.ws_url + "/ws") as ws:
        await connect_and_welcome(ws)
        await send(ws, {"method": "subscribe", "subscription": candle(coin)})
        assert await receive(ws) == {"channel": "subscriptionResponse",
                                     "data": {"method": "subscribe", "subscription": candle(coin)}}
        first = await push(ws)
        started = trio.current_time()
        second = await push(ws)
        if second["t"] == first["t"]:  # (a minute boundary sends the final push at once)
            assert trio.current_time() - started > 0.5
        for data in (first, second):
            assert list(data) == ["t", "T", "s", "i", "o", "c", "h", "l", "v", "n"]
            assert (data["s"], data["i"], data["T"] - data["t"]) == (coin, "1m", MINUTE - 1)
            assert all(isinstance(data[k], str) for k in "ochlv") and type(data["n"]) is int
        assert second["t"] >= first["t"]
        assert abs(second["t"] - time.time() * 1000) < 2 * MINUTE
        await send(ws, {"method": "unsubscribe", "subscription": candle(coin)})
        assert await control(ws) == {"channel": "subscriptionResponse",
                                     "data": {"method": "unsubscribe", "subscription": candle(coin)}}
        with trio.move_on_after(1.2):
            message = await ws.get_message()
            raise AssertionError(f"push after unsubscribe: {message}")


@pytest.mark.mockfeed(exchanges=["hyperliquid_perpetual"])
async def test_errors_ping_and_the_connection_survives(mockfeed_server: Server) -> None:
    """Errors arrive on the ``error`` channel and leave the connection usable; ping gets pong."""
    async with open_websocket_url(mockfeed_server.ws_url + "/ws") as ws:
        await connect_and_welcome(ws)
        await send(ws, {"method": "subscribe", "subscription": candle("@0")})
        assert await receive(ws) == {
            "channel": "error", "data": 'Invalid subscription {"type":"candle","coin":"@0","interval":"1m"}'}
        await ws.send_message("{oops")
        assert await receive(ws) == {
            "channel": "error", "data": "Error parsing JSON into valid websocket request: {oops"}
        await send(ws, {"method": "subscribe", "subscription": candle("BTC", "2m")})
        assert (await receive(ws))["data"].startswith("Error parsing JSON into valid websocket request: ")
        await send(ws, {"method": "subscribe", "subscription": candle("ETH", "5m")})
        assert (await receive(ws))["channel"] == "subscriptionResponse"
        await send(ws, {"method": "subscribe", "subscription": candle("ETH", "5m")})
        assert (await control(ws))["data"] == (
            'Already subscribed: {"type":"candle","coin":"ETH","interval":"5m"}')
        await send(ws, {"method": "ping"})
        assert await control(ws) == {"channel": "pong"}
        await send(ws, {"method": "post", "id": 3, "request": {"type": "info",
                                                              "payload": {"type": "perpDexs"}}})
        assert await control(ws) == {"channel": "post", "data": {"id": 3, "response": {
            "type": "info", "payload": {"type": "perpDexs", "data": [None]}}}}


@pytest.mark.mockfeed(exchanges=["hyperliquid_spot"])
async def test_pings_keep_an_idle_connection_and_silence_cuts_it(mockfeed_server: Server) -> None:
    """With the 60 s limit shortened to 1 s: pongs keep the connection; then silence closes it (1000)."""
    plugin = mockfeed_server["hyperliquid_spot"].plugin
    assert isinstance(plugin, _Hyperliquid)
    plugin.idle_timeout_s, plugin.idle_check_s = 1.0, 0.1
    with trio.fail_after(10):
        async with open_websocket_url(mockfeed_server.ws_url + "/ws") as ws:
            await connect_and_welcome(ws)
            for _ in range(6):  # 1.8 s in all, longer than the limit
                await trio.sleep(0.3)
                await send(ws, {"method": "ping"})
                assert await receive(ws) == {"channel": "pong"}
            with pytest.raises(ConnectionClosed) as closed:
                await ws.get_message()
    reason = closed.value.reason
    assert reason is not None and reason.code == 1000


@pytest.mark.mockfeed(exchanges=["hyperliquid_spot"])
async def test_only_the_ws_path_is_served(mockfeed_server: Server) -> None:
    """Another path is refused at the handshake with 404."""
    with trio.fail_after(10), pytest.raises(ConnectionRejected) as rejected:
        async with open_websocket_url(mockfeed_server.ws_url + "/info"):
            pass
    assert rejected.value.status_code == 404


@attrs.define
class NudgedClock:
    """Real time plus an offset the test sets (to bring a minute boundary close)."""

    offset_ms: int = 0

    def now_ms(self) -> int:
        """Shifted wall-clock time."""
        return time.time_ns() // 1_000_000 + self.offset_ms


@pytest.mark.parametrize(("coin", "exchange"), [("@1", "hyperliquid_spot"), ("ETH", "hyperliquid_perpetual")])
async def test_final_push_equals_rest_row_after_close(coin: str, exchange: str) -> None:
    """The last push of a 1m candle (the one before the next candle's first) equals its REST row after."""
    clock = NudgedClock()
    config = mockfeed.ServerConfig(exchanges=[exchange], port=0, ws_port=0, seed=5)
    async with mockfeed.serve(config, clock=clock) as server:
        async with open_websocket_url(server.ws_url + "/ws") as ws:
            await connect_and_welcome(ws)
            await send(ws, {"method": "subscribe", "subscription": candle(coin)})
            await control(ws)
            first = await push(ws)
            left = MINUTE - clock.now_ms() % MINUTE
            if left > 2_000:  # jump ahead within the same minute: the boundary is 1.5 s away
                clock.offset_ms += left - 1_500
            pushes = [first]
            with trio.fail_after(6):
                while pushes[-1]["t"] == first["t"]:
                    pushes.append(await push(ws))
            final, after = pushes[-2], pushes[-1]
            assert after["t"] == final["t"] + MINUTE
            assert (await push(ws))["t"] == after["t"]  # the closed candle is not pushed again
        with trio.fail_after(10):
            async with httpx.AsyncClient(base_url=server.rest_url) as client:
                response = await client.post("/info", json={"type": "candleSnapshot", "req": {
                    "coin": coin, "interval": "1m", "startTime": final["t"], "endTime": final["t"]}})
        assert response.json() == [final]
