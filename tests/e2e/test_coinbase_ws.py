"""The Coinbase Advanced Trade market-data feed over real sockets: trio-websocket and the official SDK."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import attrs
import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed, ConnectionRejected, WebSocketConnection, open_websocket_url

import mockfeed
from mockfeed import Server, ThreadedServer

EXCHANGE = "coinbase_advanced_trade"
FIVE_MINUTES_MS = 300_000
RFC3339_NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
GO_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,9})? \+0000 UTC m=\+\d+\.\d{9}$")

pytestmark = pytest.mark.mockfeed(exchanges=[EXCHANGE], seed=5)


def feed(server: Server) -> str:
    """The feed's URL: the WS origin itself, as ``wss://advanced-trade-ws.coinbase.com``."""
    return server[EXCHANGE].ws_url


async def receive(ws: WebSocketConnection, timeout: float = 3.0) -> Any:
    """The next message, decoded."""
    with trio.fail_after(timeout):
        return json.loads(await ws.get_message())


async def next_on(ws: WebSocketConnection, channel: str, timeout: float = 3.0) -> Any:
    """The next message of one channel, skipping others."""
    with trio.fail_after(timeout):
        while True:
            message = json.loads(await ws.get_message())
            if message.get("channel") == channel or message.get("type") == channel:
                return message


async def send(ws: WebSocketConnection, kind: str, channel: str, *products: str) -> None:
    """A subscribe or unsubscribe message, one channel as the feed requires."""
    message: dict[str, Any] = {"type": kind, "channel": channel}
    if products:
        message["product_ids"] = list(products)
    await ws.send_message(json.dumps(message))


def check_envelope(message: Any, channel: str) -> None:
    """The common envelope, with its Go-style timestamp."""
    assert list(message) == ["channel", "client_id", "timestamp", "sequence_num", "events"]
    assert message["channel"] == channel and message["client_id"] == ""
    assert RFC3339_NANO.match(message["timestamp"]), message["timestamp"]
    assert type(message["sequence_num"]) is int


def the_candle(message: Any, kind: str, product: str = "BTC-USDT") -> dict[str, str]:
    """The single candle of a candles message of ``kind`` (snapshot or update)."""
    check_envelope(message, "candles")
    [event] = message["events"]
    assert event["type"] == kind
    [candle] = event["candles"]
    assert set(candle) == {"start", "high", "low", "open", "close", "volume", "product_id"}
    assert all(isinstance(v, str) for v in candle.values())
    assert candle["product_id"] == product and int(candle["start"]) % 300 == 0
    return dict(candle)


async def test_subscribe_acks_then_snapshot_then_updates(mockfeed_server: Server) -> None:
    """subscribe → subscriptions ack, a snapshot of the forming 5m bucket, then an update every second."""
    async with open_websocket_url(feed(mockfeed_server)) as ws:
        before = time.time_ns() // 1_000_000 // FIVE_MINUTES_MS * FIVE_MINUTES_MS
        await send(ws, "subscribe", "candles", "BTC-USDT")
        ack = await receive(ws)
        check_envelope(ack, "subscriptions")
        assert ack["sequence_num"] == 0
        assert ack["events"] == [{"subscriptions": {"candles": ["BTC-USDT"]}}]
        snapshot = the_candle(await receive(ws), "snapshot")
        after = time.time_ns() // 1_000_000 // FIVE_MINUTES_MS * FIVE_MINUTES_MS
        assert before <= int(snapshot["start"]) * 1000 <= after  # the forming bucket
        stamps = []
        for expected in (2, 3, 4):
            update = await receive(ws)
            assert update["sequence_num"] == expected
            the_candle(update, "update")
            stamps.append(trio.current_time())
        # One a second (a bucket's final update at a 5m boundary may come in between).
        assert 0.9 <= stamps[-1] - stamps[0] <= 3.0, "updates come about once a second"


async def test_sequence_numbers_count_per_connection(mockfeed_server: Server) -> None:
    """Two connections on the same stream each see their own gapless sequence from 0."""
    async with open_websocket_url(feed(mockfeed_server)) as one, open_websocket_url(feed(mockfeed_server)) as two:
        await send(one, "subscribe", "heartbeats")
        await send(one, "subscribe", "candles", "ETH-USDT", "SOL-USDT")
        await send(two, "subscribe", "candles", "SOL-USDT")
        for ws, count in ((one, 9), (two, 5)):
            sequence = [(await receive(ws))["sequence_num"] for _ in range(count)]
            assert sequence == list(range(count))


async def test_heartbeats_every_second(mockfeed_server: Server) -> None:
    """heartbeats: one message a second with Go's current_time and a counting string counter."""
    async with open_websocket_url(feed(mockfeed_server)) as ws:
        await send(ws, "subscribe", "heartbeats")
        assert (await receive(ws))["events"] == [{"subscriptions": {"heartbeats": []}}]
        beats = [await receive(ws, 2.5) for _ in range(2)]
        for n, beat in enumerate(beats, start=1):
            check_envelope(beat, "heartbeats")
            [event] = beat["events"]
            assert event["heartbeat_counter"] == str(n)
            assert GO_TIME.match(event["current_time"]), event["current_time"]


async def test_unsubscribe_acks_and_silences(mockfeed_server: Server) -> None:
    """unsubscribe acks the remaining set ({} when empty); no candle arrives afterwards."""
    async with open_websocket_url(feed(mockfeed_server)) as ws:
        await send(ws, "subscribe", "candles", "BTC-USDT", "ETH-USDT")
        await next_on(ws, "candles")
        await send(ws, "unsubscribe", "candles", "BTC-USDT")
        assert (await next_on(ws, "subscriptions"))["events"] == [{"subscriptions": {"candles": ["ETH-USDT"]}}]
        await send(ws, "unsubscribe", "candles", "ETH-USDT")
        assert (await next_on(ws, "subscriptions"))["events"] == [{"subscriptions": {}}]
        with trio.move_on_after(1.6):
            message = await ws.get_message()
            raise AssertionError(f"unexpected message after unsubscribing: {message}")


async def test_errors_keep_the_connection_usable(mockfeed_server: Server) -> None:
    """Bad messages get {"type":"error","message":...}; the connection then subscribes normally."""
    bad = [
        "{",
        json.dumps({"type": "subscribe", "channel": "candles", "product_ids": ["NOPE-USD"]}),
        json.dumps({"type": "subscribe", "channel": "user", "product_ids": ["BTC-USDT"]}),
        json.dumps({"type": "subscribe", "channels": ["candles"], "product_ids": ["BTC-USDT"]}),
        json.dumps({"type": "ping"}),
    ]
    async with open_websocket_url(feed(mockfeed_server)) as ws:
        for text in bad:
            await ws.send_message(text)
            error = await receive(ws)
            assert set(error) == {"type", "message"} and error["type"] == "error", error
        await ws.send_message(b'{"type":"subscribe","channel":"candles","product_ids":["BTC-USDT"]}')
        ack = await receive(ws)
        assert ack["sequence_num"] == 0 and ack["channel"] == "subscriptions"
        the_candle(await receive(ws), "snapshot")


async def test_no_subscribe_within_5_seconds_is_disconnected(mockfeed_server: Server) -> None:
    """A connection that subscribes to nothing is closed 5–6 s after it opened."""
    async with open_websocket_url(feed(mockfeed_server)) as ws:
        opened = trio.current_time()
        with trio.fail_after(8), pytest.raises(ConnectionClosed) as closed:
            await ws.get_message()
        assert 4.9 <= trio.current_time() - opened <= 7.0
        assert closed.value.reason.code == 1000


@pytest.mark.parametrize("path", ["/ws", "/market", "/v2/time"])
async def test_other_paths_are_rejected(mockfeed_server: Server, path: str) -> None:
    """Only the root path is the feed; anything else is refused with HTTP 404."""
    with trio.fail_after(5), pytest.raises(ConnectionRejected) as rejected:
        async with open_websocket_url(feed(mockfeed_server) + path):
            pass
    assert rejected.value.status_code == 404


@attrs.frozen
class ShiftedClock:
    """Wall-clock time moved by a fixed offset, so a 5-minute boundary comes within seconds."""

    offset_ms: int

    def now_ms(self) -> int:
        """The shifted time."""
        return time.time_ns() // 1_000_000 + self.offset_ms


async def test_bucket_change_is_the_close_signal_and_matches_rest() -> None:
    """At a 5m boundary the old bucket's last update is final: it equals the REST candle afterwards."""
    real = time.time_ns() // 1_000_000
    offset = FIVE_MINUTES_MS - real % FIVE_MINUTES_MS - 3_500  # mock time starts 3.5 s before a boundary
    updates: list[dict[str, str]] = []
    async with mockfeed.serve(exchanges=[EXCHANGE], port=0, ws_port=0, clock=ShiftedClock(offset)) as server:
        async with open_websocket_url(feed(server)) as ws:
            await send(ws, "subscribe", "candles", "BTC-USDT")
            await next_on(ws, "subscriptions")
            first = the_candle(await receive(ws), "snapshot")
            with trio.fail_after(10):
                while len({u["start"] for u in updates}) < 2 or updates[-1]["start"] == first["start"]:
                    updates.append(the_candle(await receive(ws), "update"))
        starts = [u["start"] for u in updates]
        old, new = first["start"], str(int(first["start"]) + 300)
        assert set(starts) == {old, new}
        assert starts == sorted(starts), "an update of the old bucket came after the new one started"
        final = [u for u in updates if u["start"] == old][-1]
        async with httpx.AsyncClient(base_url=server.rest_url, timeout=10) as client:
            with trio.fail_after(10):
                response = await client.get(
                    "/api/v3/brokerage/market/products/BTC-USDT/candles",
                    params={"start": old, "end": new, "granularity": "FIVE_MINUTE"},
                )
        [row] = response.json()["candles"]
        assert {k: final[k] for k in row} == row


# -- the official SDK (coinbase-advanced-py), not a project dependency ---------------------------------


@pytest.mark.mockfeed(exchanges=[EXCHANGE])
def test_official_sdk_ws_client(mockfeed_threaded: ThreadedServer) -> None:
    """coinbase.websocket.WSClient, given only base_url, receives candles and heartbeats it can parse."""
    pytest.importorskip("coinbase.websocket")
    from coinbase.websocket import WebsocketResponse, WSClient

    messages: list[str] = []
    enough = threading.Event()

    def on_message(text: str) -> None:
        messages.append(text)
        channels = [json.loads(m)["channel"] for m in messages]
        if channels.count("candles") >= 3 and "heartbeats" in channels:
            enough.set()

    client = WSClient(base_url=mockfeed_threaded[EXCHANGE].ws_url, on_message=on_message, retry=False, timeout=10)
    client.open()
    try:
        client.candles(["BTC-USDT"])
        client.heartbeats()
        assert enough.wait(10), messages
        client.raise_background_exception()
    finally:
        client.close()
    parsed = [WebsocketResponse(json.loads(m)) for m in messages]
    candles = [r for r in parsed if r.channel == "candles"]
    assert candles[0].events[0].type == "snapshot"
    assert {e.type for r in candles[1:] for e in r.events} == {"update"}
    assert all(c.product_id == "BTC-USDT" for r in candles for e in r.events for c in e.candles)
    assert [r.sequence_num for r in parsed] == list(range(len(parsed)))
