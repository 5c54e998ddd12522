"""KuCoin spot and Futures candle streams over real sockets (bullet-public, then trio-websocket)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import attrs
import httpx
import pytest
import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    WebSocketConnection,
    open_websocket_url,
)

import mockfeed
from mockfeed import Server

pytestmark = pytest.mark.mockfeed(exchanges=["kucoin_spot", "kucoin_perpetual"], seed=12)

EXCHANGE = {"spot": "kucoin_spot", "perp": "kucoin_perpetual"}
TOPIC = {"spot": "/market/candles:BTC-USDT_1min", "perp": "/contractMarket/limitCandle:XBTUSDTM_1min"}
SUBJECT = {"spot": "trade.candles.update", "perp": "candle.stick"}
SYMBOL = {"spot": "BTC-USDT", "perp": "XBTUSDTM"}
KLINES = {"spot": "/api/v1/market/candles", "perp": "/api/v1/kline/query"}
MINUTE = 60_000


@pytest.fixture(params=["spot", "perp"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each KuCoin product in turn."""
    return str(request.param)


async def bullet(server: Server, kind: str) -> dict[str, Any]:
    """POST /api/v1/bullet-public on one product's REST listener."""
    async with httpx.AsyncClient(base_url=server[EXCHANGE[kind]].rest_url, timeout=5) as client:
        response = await client.post("/api/v1/bullet-public")
    data: dict[str, Any] = response.json()["data"]
    return data


@asynccontextmanager
async def connect(
    server: Server, kind: str, connect_id: str = "test", token: str | None = None
) -> AsyncIterator[WebSocketConnection]:
    """Negotiate like a KuCoin client: bullet-public, then the endpoint with token and connectId."""
    with trio.fail_after(15):
        granted = await bullet(server, kind)
        endpoint = granted["instanceServers"][0]["endpoint"]
        query = urlencode({"token": granted["token"] if token is None else token, "connectId": connect_id})
        async with open_websocket_url(f"{endpoint}?{query}") as ws:
            yield ws


async def receive(ws: WebSocketConnection, timeout: float = 3.0) -> Any:
    """The next message, decoded."""
    with trio.fail_after(timeout):
        return json.loads(await ws.get_message())


async def reply(ws: WebSocketConnection, timeout: float = 3.0) -> Any:
    """The next non-push message."""
    with trio.fail_after(timeout):
        while True:
            message = json.loads(await ws.get_message())
            if message.get("type") != "message":
                return message


async def push(ws: WebSocketConnection, timeout: float = 3.0) -> Any:
    """The next push (failing on anything else)."""
    message = await receive(ws, timeout)
    assert message["type"] == "message", message
    return message


async def send(ws: WebSocketConnection, **message: Any) -> None:
    """Send one JSON message."""
    await ws.send_message(json.dumps(message))


def check_push(message: Any, kind: str) -> None:
    """A candle push in the product's shape."""
    assert set(message) == {"type", "topic", "subject", "data"}
    assert message["topic"] == TOPIC[kind] and message["subject"] == SUBJECT[kind]
    data = message["data"]
    assert data["symbol"] == SYMBOL[kind]
    candles = data["candles"]
    assert len(candles) == 7 and all(isinstance(x, str) for x in candles)
    assert int(candles[0]) % 60 == 0
    open_, close, high, low = (float(x) for x in candles[1:5])
    assert low <= min(open_, close) <= max(open_, close) <= high
    digits = 19 if kind == "spot" else 13  # ns on spot, ms on futures
    assert len(str(data["time"])) == digits


async def test_subscribe_ack_push_unsubscribe(mockfeed_server: Server, kind: str) -> None:
    """welcome, subscribe -> ack, pushes about once a second, unsubscribe -> ack and silence."""
    async with connect(mockfeed_server, kind, "abc") as ws:
        assert await receive(ws) == {"id": "abc", "type": "welcome"}
        await send(ws, id="1", type="subscribe", topic=TOPIC[kind], privateChannel=False, response=True)
        assert await receive(ws) == {"id": "1", "type": "ack"}
        started = time.monotonic()
        for _ in range(3):
            check_push(await push(ws), kind)
        elapsed = time.monotonic() - started
        assert 0.9 <= elapsed <= 4.5
        await send(ws, id="2", type="unsubscribe", topic=TOPIC[kind], response=True)
        assert await reply(ws) == {"id": "2", "type": "ack"}
        with trio.move_on_after(1.3):
            message = await ws.get_message()
            raise AssertionError(f"unexpected message after unsubscribe: {message!r}")


async def test_ping_pong_and_errors(mockfeed_server: Server, kind: str) -> None:
    """JSON pings get pongs; bad topics and types get error frames; the connection stays open."""
    async with connect(mockfeed_server, kind) as ws:
        await receive(ws)
        await send(ws, id="p1", type="ping")
        assert await receive(ws) == {"id": "p1", "type": "pong"}
        bad = TOPIC[kind].replace("_1min", "_2min")
        await send(ws, id="3", type="subscribe", topic=bad, response=True)
        assert await receive(ws) == {"id": "3", "type": "error", "code": 404, "data": f"topic {bad} is not found"}
        await send(ws, id="4", type="hello")
        assert await receive(ws) == {"id": "4", "type": "error", "code": 415, "data": "type is not supported"}
        await ws.send_message("not json")
        assert (await receive(ws))["code"] == 400
        await send(ws, id="p2", type="ping")
        assert await receive(ws) == {"id": "p2", "type": "pong"}


async def test_forged_token_is_closed(mockfeed_server: Server, kind: str) -> None:
    """A token this product did not issue gets a 401 error frame and the socket closes (1008)."""
    other = "perp" if kind == "spot" else "spot"
    foreign = (await bullet(mockfeed_server, other))["token"]
    async with connect(mockfeed_server, kind, token=foreign) as ws:
        assert await receive(ws) == {"type": "error", "code": 401, "data": "token is invalid"}
        with pytest.raises(ConnectionClosed), trio.fail_after(3):
            await ws.get_message()
        assert ws.closed is not None and ws.closed.code == 1008


async def test_unknown_path_rejected(mockfeed_server: Server, kind: str) -> None:
    """A handshake away from the endpoint path is refused with HTTP 404."""
    url = mockfeed_server[EXCHANGE[kind]].ws_url + "/market/ws"
    with trio.fail_after(5), pytest.raises(ConnectionRejected) as rejected:
        async with open_websocket_url(url):
            pass
    assert rejected.value.status_code == 404


async def test_idle_connection_is_cut_pinging_one_stays(mockfeed_server: Server, kind: str) -> None:
    """Silence beyond pingInterval + pingTimeout closes the socket; a client that pings stays."""
    plugin: Any = mockfeed_server[EXCHANGE[kind]].plugin
    plugin.ping_interval_ms, plugin.ping_timeout_ms, plugin.idle_check_s = 400, 200, 0.1
    assert (await bullet(mockfeed_server, kind))["instanceServers"][0]["pingInterval"] == 400
    async with connect(mockfeed_server, kind, "quiet") as quiet, connect(mockfeed_server, kind) as busy:
        await receive(quiet)
        await receive(busy)
        started = time.monotonic()
        with trio.fail_after(4):
            for i in range(6):  # 1.5 s of pings every 0.25 s
                await send(busy, id=str(i), type="ping")
                assert await receive(busy) == {"id": str(i), "type": "pong"}
                await trio.sleep(0.25)
        with pytest.raises(ConnectionClosed), trio.fail_after(3):
            await quiet.get_message()
        assert quiet.closed is not None and quiet.closed.code == 1000
        assert time.monotonic() - started < 4
        await send(busy, id="last", type="ping")
        assert await receive(busy) == {"id": "last", "type": "pong"}


@attrs.define
class NudgedClock:
    """Real time plus an offset the test sets (to bring a minute boundary close)."""

    offset_ms: int = 0

    def now_ms(self) -> int:
        """Shifted wall-clock time."""
        return time.time_ns() // 1_000_000 + self.offset_ms


def rest_candles(kind: str, row: list[Any]) -> list[str]:
    """A REST row in the push's ``candles`` layout (KuCoin has no close flag: compare values)."""
    if kind == "spot":
        return list(row)
    open_ms, open_, high, low, close, lots = row
    return [str(open_ms // 1000), *(repr(float(x)) for x in (open_, close, high, low)),
            f"{lots}.0", str(lots)]


def push_candles(kind: str, candles: list[str]) -> list[str]:
    """Push candles normalised the way :func:`rest_candles` renders futures numbers."""
    if kind == "spot":
        return candles
    return [candles[0], *(repr(float(x)) for x in candles[1:5]), *candles[5:]]


async def test_final_push_equals_rest_row(kind: str) -> None:
    """The last push of a minute (before the next minute's) equals that minute's REST row later."""
    clock = NudgedClock()
    config = mockfeed.ServerConfig(exchanges=[EXCHANGE[kind]], port=0, ws_port=0, seed=13)
    async with mockfeed.serve(config, clock=clock) as server:
        async with connect(server, kind) as ws:
            await receive(ws)
            await send(ws, id="1", type="subscribe", topic=TOPIC[kind], response=True)
            assert await receive(ws) == {"id": "1", "type": "ack"}
            first = await push(ws)
            left = MINUTE - clock.now_ms() % MINUTE
            if left > 2_000:  # jump ahead within the same minute: the boundary is 1 s away
                clock.offset_ms += left - 1_000
            pushes = [first]
            with trio.fail_after(8):
                while pushes[-1]["data"]["candles"][0] == first["data"]["candles"][0]:
                    pushes.append(await push(ws))
            final, after = pushes[-2]["data"]["candles"], pushes[-1]["data"]["candles"]
            assert int(after[0]) == int(final[0]) + 60
            # the closed minute is not pushed again
            assert (await push(ws))["data"]["candles"][0] == after[0]
        open_ms = int(final[0]) * 1000
        params: dict[str, Any] = (
            {"symbol": "BTC-USDT", "type": "1min", "startAt": open_ms // 1000, "endAt": open_ms // 1000}
            if kind == "spot"
            else {"symbol": "XBTUSDTM", "granularity": 1, "from": open_ms, "to": open_ms}
        )
        async with httpx.AsyncClient(base_url=server.rest_url, timeout=5) as client:
            rows = (await client.get(KLINES[kind], params=params)).json()["data"]
        assert len(rows) == 1
        assert rest_candles(kind, rows[0]) == push_candles(kind, final)
