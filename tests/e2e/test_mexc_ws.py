"""MEXC spot (protobuf) and contract (JSON) kline streams over real sockets (trio-websocket clients)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs
import ccxt.pro as ccxtpro
import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed, ConnectionRejected, WebSocketConnection, open_websocket_url

import mockfeed
from mockfeed import Server
from mockfeed.exchanges.mexc.plugin import _Mexc
from mockfeed.exchanges.mexc.proto import mexc_push_pb2 as pb

pytestmark = pytest.mark.mockfeed(exchanges=["mexc_spot", "mexc_perpetual"], seed=3)

MINUTE = 60_000
CHANNEL = "spot@public.kline.v3.api.pb@BTCUSDT@Min1"
SUB_KLINE = {"method": "sub.kline", "param": {"symbol": "BTC_USDT", "interval": "Min1"}}


def ws_url(server: Server, exchange: str, path: str) -> str:
    """The WebSocket URL of ``path`` on one product's listener."""
    return server[exchange].ws_url + path


async def send(ws: WebSocketConnection, message: dict[str, Any]) -> None:
    """Send one JSON text frame."""
    await ws.send_message(json.dumps(message))


async def text(ws: WebSocketConnection, timeout: float = 3.0) -> Any:
    """The next text frame, decoded, skipping binary pushes."""
    with trio.fail_after(timeout):
        while isinstance(message := await ws.get_message(), bytes):
            pass
    return json.loads(message)


async def spot_push(ws: WebSocketConnection, timeout: float = 3.0) -> pb.PushDataV3ApiWrapper:
    """The next frame, which must be a binary protobuf push."""
    with trio.fail_after(timeout):
        message = await ws.get_message()
    assert isinstance(message, bytes), message
    return pb.PushDataV3ApiWrapper.FromString(message)


async def contract_push(ws: WebSocketConnection, timeout: float = 3.0) -> Any:
    """The next frame, which must be a push.kline."""
    with trio.fail_after(timeout):
        message = json.loads(await ws.get_message())
    assert message["channel"] == "push.kline", message
    return message


async def assert_silent(ws: WebSocketConnection, seconds: float = 1.5) -> None:
    """Nothing arrives for ``seconds``."""
    with trio.move_on_after(seconds) as quiet:
        message = await ws.get_message()
    assert quiet.cancelled_caught, f"unexpected message {message!r}"


def plugin(server: Server, exchange: str) -> _Mexc:
    """The running plugin of one product."""
    found = server[exchange].plugin
    assert isinstance(found, _Mexc)
    return found


# -- spot ---------------------------------------------------------------------------------------


async def test_spot_subscribe_binary_pushes_and_unsubscribe(mockfeed_server: Server) -> None:
    """JSON ack, then protobuf pushes once a second that ccxt's own decoder reads; silence after unsub."""
    async with open_websocket_url(ws_url(mockfeed_server, "mexc_spot", "/ws")) as ws:
        await send(ws, {"method": "SUBSCRIPTION", "params": [CHANNEL], "id": 1})
        assert await text(ws) == {"id": 1, "code": 0, "msg": CHANNEL}
        started = trio.current_time()
        pushes = [await spot_push(ws) for _ in range(3)]
        assert trio.current_time() - started >= 1.5  # one push a second
        now = mockfeed_server.first.clock.now_ms()
        for push in pushes:
            assert (push.channel, push.symbol, push.publicSpotKline.interval) == (CHANNEL, "BTCUSDT", "Min1")
            assert abs(push.createTime - now) < 5_000 and push.sendTime == push.createTime
            kline = push.publicSpotKline
            assert kline.windowStart % 60 == 0 and kline.windowEnd == kline.windowStart + 60
        decoded = ccxtpro.mexc().decode_proto_msg(pushes[-1].SerializeToString())
        assert decoded["symbol"] == "BTCUSDT" and decoded["publicSpotKline"]["interval"] == "Min1"
        await send(ws, {"method": "UNSUBSCRIPTION", "params": [CHANNEL], "id": 2})
        assert await text(ws) == {"id": 2, "code": 0, "msg": CHANNEL}
        await assert_silent(ws)


async def test_spot_ping_and_refusal(mockfeed_server: Server) -> None:
    """PING in either case gets PONG; a legacy JSON channel is refused with code 0 and MEXC's text."""
    legacy = "spot@public.kline.v3.api@BTCUSDT@Min1"
    async with open_websocket_url(ws_url(mockfeed_server, "mexc_spot", "/ws")) as ws:
        for method in ("PING", "ping"):
            await send(ws, {"method": method})
            assert await text(ws) == {"id": 0, "code": 0, "msg": "PONG"}
        await send(ws, {"method": "SUBSCRIPTION", "params": [legacy]})
        assert await text(ws) == {
            "id": 0, "code": 0, "msg": f"Not Subscribed successfully! [{legacy}].  Reason： Blocked! ",
        }
        await assert_silent(ws, 1.2)


async def test_unknown_paths_are_rejected(mockfeed_server: Server) -> None:
    """Only /ws (spot) and /edge (contract) accept a handshake."""
    for exchange, path in (("mexc_spot", "/edge"), ("mexc_perpetual", "/ws")):
        with trio.fail_after(5), pytest.raises(ConnectionRejected) as rejected:
            async with open_websocket_url(ws_url(mockfeed_server, exchange, path)):
                pass
        assert rejected.value.status_code == 404


async def test_spot_connection_without_subscription_is_cut(mockfeed_server: Server) -> None:
    """With the 30 s limit shortened to 1 s: a subscription keeps the connection, its absence cuts it."""
    spot = plugin(mockfeed_server, "mexc_spot")
    spot.limits = attrs.evolve(spot.limits, idle_s=1.0)
    with trio.fail_after(10):
        async with open_websocket_url(ws_url(mockfeed_server, "mexc_spot", "/ws")) as ws:
            await send(ws, {"method": "SUBSCRIPTION", "params": [CHANNEL]})
            assert (await text(ws))["msg"] == CHANNEL
            for _ in range(3):  # over 2 s subscribed: pushes keep coming
                await spot_push(ws)
            await send(ws, {"method": "UNSUBSCRIPTION", "params": [CHANNEL]})
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await ws.get_message()
            assert closed.value.reason.code == 1000


# -- contract -----------------------------------------------------------------------------------


async def test_contract_subscribe_pushes_and_unsubscribe(mockfeed_server: Server) -> None:
    """rs.sub.kline ack, push.kline once a second with numbers, rs.unsub.kline, then silence."""
    async with open_websocket_url(ws_url(mockfeed_server, "mexc_perpetual", "/edge")) as ws:
        await send(ws, SUB_KLINE)
        ack = await text(ws)
        assert (ack["channel"], ack["data"]) == ("rs.sub.kline", "success")
        started = trio.current_time()
        pushes = [await contract_push(ws) for _ in range(3)]
        assert trio.current_time() - started >= 1.5
        for push in pushes:
            data = push["data"]
            assert (push["symbol"], data["symbol"], data["interval"]) == ("BTC_USDT", "BTC_USDT", "Min1")
            assert data["t"] % 60 == 0 and isinstance(data["q"], int) and isinstance(data["o"], (int, float))
        await send(ws, {"method": "unsub.kline", "param": {"symbol": "BTC_USDT", "interval": "Min1"}})
        while (reply := await text(ws))["channel"] == "push.kline":
            pass
        assert (reply["channel"], reply["data"]) == ("rs.unsub.kline", "success")
        await assert_silent(ws)


async def test_contract_pings_keep_the_connection_and_silence_cuts_it(mockfeed_server: Server) -> None:
    """With the 60 s ping limit shortened to 1 s: pings answered with pong keep it open, then it closes."""
    perp = plugin(mockfeed_server, "mexc_perpetual")
    perp.limits = attrs.evolve(perp.limits, idle_s=1.0)
    with trio.fail_after(10):
        async with open_websocket_url(ws_url(mockfeed_server, "mexc_perpetual", "/edge")) as ws:
            for _ in range(6):  # 1.8 s in all, longer than the limit
                await trio.sleep(0.3)
                await send(ws, {"method": "ping"})
                pong = await text(ws)
                assert pong["channel"] == "pong" and isinstance(pong["data"], int)
            await send(ws, {"method": "sub.deal", "param": {"symbol": "BTC_USDT"}})
            assert (await text(ws))["channel"] == "rs.error"
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await ws.get_message()
            assert closed.value.reason.code == 1000


# -- the close signal: a candle's last push is its REST row -------------------------------------


@attrs.frozen
class ShiftedClock:
    """Wall-clock time moved by a fixed offset (so a minute boundary can be a second away)."""

    offset_ms: int

    def now_ms(self) -> int:
        """The shifted time in epoch ms."""
        return time.time_ns() // 1_000_000 + self.offset_ms


@asynccontextmanager
async def near_minute_end(exchange: str) -> AsyncIterator[Server]:
    """A server whose market time is 2 s before a minute boundary when it starts."""
    real = time.time_ns() // 1_000_000
    offset = (real // MINUTE + 2) * MINUTE - 2_000 - real
    config = mockfeed.ServerConfig(exchanges=[exchange], port=0, ws_port=0, seed=5)
    async with mockfeed.serve(config, clock=ShiftedClock(offset)) as server:
        yield server


async def test_spot_final_push_equals_the_rest_row() -> None:
    """The last push of a minute (sent at its close) is, value for value, the REST row served after."""
    with trio.fail_after(15):
        async with near_minute_end("mexc_spot") as server:
            async with open_websocket_url(server.ws_url + "/ws") as ws:
                await send(ws, {"method": "SUBSCRIPTION", "params": [CHANNEL]})
                assert (await text(ws))["msg"] == CHANNEL
                first = (await spot_push(ws)).publicSpotKline
                last = first
                while (kline := (await spot_push(ws)).publicSpotKline).windowStart == first.windowStart:
                    last = kline
                assert kline.windowStart == first.windowStart + 60
            async with httpx.AsyncClient(base_url=server.rest_url, timeout=5) as client:
                params = {"symbol": "BTCUSDT", "interval": "1m", "startTime": last.windowStart * 1000, "limit": 1}
                [row] = (await client.get("/api/v3/klines", params=params)).json()
    assert row == [
        last.windowStart * 1000, last.openingPrice, last.highestPrice, last.lowestPrice, last.closingPrice,
        last.volume, last.windowEnd * 1000, last.amount,
    ]


async def test_contract_final_push_equals_the_rest_row() -> None:
    """The same for the contract stream against the columnar REST klines."""
    with trio.fail_after(15):
        async with near_minute_end("mexc_perpetual") as server:
            async with open_websocket_url(server.ws_url + "/edge") as ws:
                await send(ws, SUB_KLINE)
                assert (await text(ws))["data"] == "success"
                first = (await contract_push(ws))["data"]
                last = first
                while (data := (await contract_push(ws))["data"])["t"] == first["t"]:
                    last = data
                assert data["t"] == first["t"] + 60
            async with httpx.AsyncClient(base_url=server.rest_url, timeout=5) as client:
                params = {"interval": "Min1", "start": last["t"], "end": last["t"]}
                columns = (await client.get("/api/v1/contract/kline/BTC_USDT", params=params)).json()["data"]
    assert columns["time"] == [last["t"]]
    assert [columns[k][0] for k in ("open", "high", "low", "close", "vol", "amount")] == [
        last[k] for k in ("o", "h", "l", "c", "q", "a")
    ]
