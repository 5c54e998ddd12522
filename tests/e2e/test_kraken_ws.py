"""Kraken spot WebSocket v2 (and v1) over real sockets, with trio_websocket."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
import trio
from trio_websocket import ConnectionRejected, WebSocketConnection, open_websocket_url

from mockfeed import Server, serve

pytestmark = pytest.mark.mockfeed(exchanges=["kraken_spot"], pairs=["BTC-USDT", "ETH-USDT"])

SUBSCRIBE = {"method": "subscribe", "params": {"channel": "ohlc", "symbol": ["BTC/USDT"], "interval": 1},
             "req_id": 1}


async def send(ws: WebSocketConnection, message: Any) -> None:
    """Send one JSON message."""
    await ws.send_message(orjson.dumps(message).decode())


async def receive(ws: WebSocketConnection, wanted: Callable[[Any], bool], timeout: float = 5) -> Any:
    """The next message satisfying ``wanted`` (others skipped), within ``timeout`` seconds."""
    with trio.fail_after(timeout):
        while True:
            message = orjson.loads(await ws.get_message())
            if wanted(message):
                return message


def is_ohlc(kind: str) -> Callable[[Any], bool]:
    """Matches ``ohlc`` channel messages of one type (snapshot or update)."""
    return lambda m: isinstance(m, dict) and m.get("channel") == "ohlc" and m.get("type") == kind


def answers(method: str) -> Callable[[Any], bool]:
    """Matches method responses (acks, errors, pongs)."""
    return lambda m: isinstance(m, dict) and m.get("method") == method


async def test_v2_subscribe_snapshot_updates_ping_unsubscribe(mockfeed_server: Server) -> None:
    """status, ack, snapshot, updates of the forming candle, heartbeat, pong, then silence after leaving."""
    async with open_websocket_url(mockfeed_server.ws_url + "/v2") as ws:
        status = await receive(ws, lambda m: True)
        assert status["channel"] == "status"
        await send(ws, SUBSCRIBE)
        ack = await receive(ws, answers("subscribe"))
        assert (ack["success"], ack["req_id"], ack["result"]["symbol"]) == (True, 1, "BTC/USDT")
        snapshot = await receive(ws, is_ohlc("snapshot"))
        forming = snapshot["data"][-1]["interval_begin"]
        updates = [await receive(ws, is_ohlc("update")) for _ in range(2)]
        assert all(u["data"][0]["symbol"] == "BTC/USDT" for u in updates)
        assert updates[-1]["data"][0]["interval_begin"] >= forming
        heartbeat = await receive(ws, lambda m: m == {"channel": "heartbeat"}, timeout=3)
        assert heartbeat == {"channel": "heartbeat"}
        await send(ws, {"method": "ping", "req_id": 5})
        pong = await receive(ws, answers("pong"))
        assert pong["req_id"] == 5
        await send(ws, {"method": "unsubscribe", "params": {"channel": "ohlc", "symbol": ["BTC/USDT"]}})
        gone = await receive(ws, answers("unsubscribe"))
        assert gone["success"] is True
        with trio.move_on_after(1.6) as quiet:
            extra = await ws.get_message()
            pytest.fail(f"message after unsubscribing: {extra}")
        assert quiet.cancelled_caught


async def test_v2_errors_keep_the_connection(mockfeed_server: Server) -> None:
    """A refused subscribe is an error answer; the connection still answers pings."""
    async with open_websocket_url(mockfeed_server.ws_url + "/v2") as ws:
        await send(ws, {**SUBSCRIBE, "params": {**SUBSCRIBE["params"], "symbol": ["XBT/USDT"]}})
        refused = await receive(ws, answers("subscribe"))
        assert refused["success"] is False
        assert refused["error"] == "Currency pair not supported XBT/USDT"
        await ws.send_message("{not json")
        malformed = await receive(ws, lambda m: m.get("error") == "Malformed request")
        assert malformed["success"] is False
        await send(ws, {"method": "ping"})
        assert (await receive(ws, answers("pong")))["method"] == "pong"


async def test_unknown_path_is_rejected(mockfeed_server: Server) -> None:
    """Only ``/v2`` and the bare v1 path accept a handshake."""
    with trio.fail_after(5), pytest.raises(ConnectionRejected):
        async with open_websocket_url(mockfeed_server.ws_url + "/v3"):
            pass


async def test_v1_subscribe_and_push(mockfeed_server: Server) -> None:
    """v1: systemStatus, subscriptionStatus, array pushes on ``ohlc-1``, pong."""
    async with open_websocket_url(mockfeed_server.ws_url + "/") as ws:
        status = await receive(ws, lambda m: True)
        assert status["event"] == "systemStatus"
        await send(ws, {"event": "subscribe", "pair": ["XBT/USDT"], "subscription": {"name": "ohlc"},
                        "reqid": 4})
        ack = await receive(ws, lambda m: isinstance(m, dict) and m.get("event") == "subscriptionStatus")
        assert (ack["status"], ack["channelName"], ack["reqid"]) == ("subscribed", "ohlc-1", 4)
        pushes = [await receive(ws, lambda m: isinstance(m, list)) for _ in range(2)]
        assert all(p[0] == ack["channelID"] and p[2:] == ["ohlc-1", "XBT/USDT"] for p in pushes)
        await send(ws, {"event": "ping", "reqid": 8})
        assert await receive(ws, lambda m: isinstance(m, dict) and m.get("event") == "pong") == {
            "event": "pong", "reqid": 8,
        }


class ShiftedClock:
    """Wall-clock time moved so that a minute boundary is ``lead`` seconds away from now."""

    def __init__(self, lead: float) -> None:
        real = time.time_ns() // 1_000_000
        target = (real // 60_000 + 1) * 60_000 - int(lead * 1000)
        self.offset = target - real

    def now_ms(self) -> int:
        """The shifted market time."""
        return time.time_ns() // 1_000_000 + self.offset


async def test_final_update_of_a_candle_equals_the_rest_row() -> None:
    """Across a minute boundary the last update of the old candle equals its REST row afterwards."""
    clock = ShiftedClock(lead=2.5)
    async with serve(exchanges=["kraken_spot"], pairs=["BTC-USDT"], port=0, ws_port=0, clock=clock) as server:
        async with open_websocket_url(server.ws_url + "/v2") as ws:
            await send(ws, SUBSCRIBE)
            snapshot = await receive(ws, is_ohlc("snapshot"))
            first = snapshot["data"][-1]["interval_begin"]
            last_of_first: dict[str, Any] = snapshot["data"][-1]
            with trio.fail_after(10):
                while True:
                    row = (await receive(ws, is_ohlc("update")))["data"][0]
                    if row["interval_begin"] != first:
                        break
                    last_of_first = row
        open_s = clock.now_ms() // 60_000 * 60 - 60
        assert last_of_first["interval_begin"].startswith(
            time.strftime("%Y-%m-%dT%H:%M:00", time.gmtime(open_s))
        )
        async with httpx.AsyncClient(base_url=server.rest_url) as client:
            rows = (await client.get("/0/public/OHLC", params={"pair": "XBTUSDT"})).json()["result"]["XBTUSDT"]
    rest = next(r for r in rows if r[0] == open_s)
    pushed = [last_of_first[k] for k in ("open", "high", "low", "close", "vwap", "volume")]
    assert [Decimal(str(v)) for v in pushed] == [Decimal(v) for v in rest[1:7]]
    assert last_of_first["trades"] == rest[7]
