"""WebSocket fan-out over real sockets: frames built once, one writer per connection, slow consumers.

Market time runs fast here (``speed``), so 1s candles close several times per ticker pass and
pushes come by the hundreds per second, without any test-only path in the server.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st
from trio_websocket import WebSocketConnection, open_websocket_url
from wsproto.frame_protocol import FrameProtocol

import mockfeed
from mockfeed import Server
from mockfeed.exchanges.base import Heartbeat
from mockfeed.runtime.chores import COMPACT_AT, Chores
from mockfeed.runtime.frames import Push, encode_frame
from mockfeed.runtime.outbox import Outbox

EXCHANGE = "binance_spot"
SYMBOLS = ("btcusdt", "ethusdt", "solusdt")


@asynccontextmanager
async def fast_server(speed: float) -> AsyncIterator[Server]:
    """A Binance spot mock whose market time runs ``speed`` times faster than real time."""
    async with mockfeed.serve(exchanges=[EXCHANGE], port=0, ws_port=0, speed=speed) as server:
        yield server


def stream_path(*symbols: str) -> str:
    """A raw stream path subscribing to the 1s klines of ``symbols``."""
    return "/ws/" + "/".join(f"{s}@kline_1s" for s in symbols)


def handshake_request(port: int, path: str, extra: str = "") -> bytes:
    """A client's opening handshake."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Version: 13\r\n{extra}\r\n"
    ).encode()


async def raw_connect(port: int, path: str, rcvbuf: int | None = None) -> tuple[trio.socket.SocketType, bytes]:
    """A plain socket past the handshake (read byte by byte: nothing after it); the response head."""
    sock = trio.socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: a small window
    await sock.connect(("127.0.0.1", port))
    await sock.send(handshake_request(port, path))
    head = b""
    with trio.fail_after(10):
        while not head.endswith(b"\r\n\r\n"):
            byte = await sock.recv(1)
            assert byte, "closed during the handshake"
            head += byte
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock, head


def ws_port(server: Server) -> int:
    """The WebSocket port of the exchange."""
    return server[EXCHANGE].ws_port


async def collect(ws: WebSocketConnection, seconds: float, out: list[tuple[float, str]]) -> None:
    """Append (arrival, text) of every message received for ``seconds``."""
    with trio.move_on_after(seconds):
        while True:
            message = await ws.get_message()
            assert isinstance(message, str)
            out.append((trio.current_time(), message))


def check_stream(messages: list[dict[str, Any]]) -> None:
    """Per symbol: event times never go back, and closed candles come once each, none missing."""
    last_event = 0
    last_final: dict[str, int] = {}
    for m in messages:
        assert m["e"] == "kline"
        assert m["E"] >= last_event
        last_event = m["E"]
        k = m["k"]
        if k["x"]:
            previous = last_final.get(m["s"])
            assert previous is None or k["t"] == previous + 1000, (m["s"], previous, k["t"])
            last_final[m["s"]] = k["t"]
        else:
            assert k["t"] > last_final.get(m["s"], 0)
    assert last_final, "no candle closed"


def window(received: list[list[str]]) -> list[list[str]]:
    """Each subscriber's messages strictly between the latest first and the earliest last event time.

    Every subscriber was subscribed for all of those ticker passes, so the lists must be equal.
    """
    events = [[json.loads(text)["E"] for text in texts] for texts in received]
    low = max(e[0] for e in events)
    high = min(e[-1] for e in events)
    assert high - low > 10_000, "too little overlap to compare"
    return [
        [text for text, event in zip(texts, e, strict=True) if low < event < high]
        for texts, e in zip(received, events, strict=True)
    ]


# -- frames ---------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, database=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.binary(max_size=300),
        st.integers(120, 70_000).map(lambda n: "k" * n),
        st.integers(120, 70_000).map(lambda n: b"\x00" * n),
    )
)
def test_frames_are_what_wsproto_would_send(message: str | bytes) -> None:
    """The frame built once for every subscriber is byte for byte wsproto's server frame."""
    assert encode_frame(message) == FrameProtocol(client=False, extensions=[]).send_data(message, fin=True)


@pytest.mark.mockfeed(exchanges=[EXCHANGE])
async def test_permessage_deflate_is_not_negotiated(mockfeed_server: Server) -> None:
    """A client offering permessage-deflate gets plain frames: the server accepts no extension."""
    port = ws_port(mockfeed_server)
    sock = trio.socket.socket()
    with sock:
        await sock.connect(("127.0.0.1", port))
        offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        await sock.send(handshake_request(port, stream_path("btcusdt"), offer))
        data = b""
        with trio.fail_after(10):
            while b"\r\n\r\n" not in data:
                data += await sock.recv(4096)
            head, _, rest = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 101")
            assert b"sec-websocket-extensions" not in head.lower()
            while len(rest) < 2:
                rest += await sock.recv(4096)
    assert rest[0] == 0x81  # FIN, text, RSV1 (compressed) clear


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("push"), st.integers(50, 6000)),
        st.tuples(st.just("pong"), st.integers(0, 125)),
        st.tuples(st.just("read"), st.integers(1, 20_000)),
        st.tuples(st.just("yield"), st.just(0)),
    ),
    min_size=30,
    max_size=150,
)


@settings(max_examples=60, deadline=None, database=None)
@given(OPS)
def test_outbox_writes_whole_frames_in_order(ops: list[tuple[str, int]]) -> None:
    """Whatever mix of pushes, control frames, partial reads by the peer and task switches, the
    peer receives exactly the frames given to the outbox, whole and in order (real TCP sockets with
    small buffers, so writes are split and backlogs form)."""
    trio.run(_outbox_scenario, ops)


async def _outbox_scenario(ops: list[tuple[str, int]]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        peer = socket.socket()
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        peer.connect(listener.getsockname())
        server_side, _ = listener.accept()
    with peer, server_side:
        server_side.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        server_side.setblocking(False)
        peer.setblocking(False)
        expected: list[bytes] = []
        received = bytearray()
        async with trio.open_nursery() as nursery:
            outbox = Outbox(server_side, lambda fn: nursery.start_soon(fn))
            for op, arg in ops:
                if op == "push":
                    message = json.dumps({"n": len(expected), "pad": "x" * arg})
                    expected.append(encode_frame(message))
                    outbox.deliver(Push.of([message]))
                elif op == "pong":
                    frame = bytes((0x8A, arg)) + bytes(arg)
                    expected.append(frame)
                    outbox.write_control(frame)
                elif op == "read":
                    with contextlib.suppress(BlockingIOError):
                        received += peer.recv(arg)
                else:
                    await trio.sleep(0)
            total = sum(map(len, expected))
            with trio.fail_after(10):
                while len(received) < total:
                    with contextlib.suppress(BlockingIOError):
                        received += peer.recv(65536)
                    await trio.sleep(0)
            assert outbox.backlog == 0
    assert bytes(received) == b"".join(expected)


async def test_timers_fire_in_order_and_cancelled_ones_do_not_pile_up() -> None:
    """The shared timer heap: due order, a failing callback harms no other, and a storm of
    cancellations (connections that closed before their next ping) is dropped, not kept."""
    chores = Chores()
    fired: list[int] = []

    def boom() -> None:
        raise RuntimeError("a broken timer")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(chores.run)
        for n in (3, 1, 2):
            chores.call_later(n / 100, lambda n=n: fired.append(n))
        chores.call_later(0.015, boom)
        storm = [chores.call_later(60, lambda: fired.append(0)) for _ in range(5000)]
        for timer in storm:
            timer.cancel()
        assert len(chores) < 2 * COMPACT_AT
        await trio.sleep(0.1)
        nursery.cancel_scope.cancel()
    assert fired == [1, 2, 3]


# -- delivery -------------------------------------------------------------------------------------


async def test_every_subscriber_gets_identical_complete_ordered_pushes() -> None:
    """Subscribers of the same streams receive the same messages, byte for byte, none missing.

    At 100x, five 1s candles close per ticker pass; one group also follows a second symbol, so
    passes hand out different shares to different connections.
    """
    async with fast_server(100) as server:
        url = server[EXCHANGE].ws_url
        one: list[list[tuple[float, str]]] = [[] for _ in range(6)]
        two: list[list[tuple[float, str]]] = [[] for _ in range(6)]

        async def subscriber(path: str, out: list[tuple[float, str]]) -> None:
            async with open_websocket_url(url + path) as ws:
                await collect(ws, 3.0, out)

        async with trio.open_nursery() as nursery:
            for out in one:
                nursery.start_soon(subscriber, stream_path("btcusdt"), out)
            for out in two:
                nursery.start_soon(subscriber, stream_path("btcusdt", "ethusdt"), out)

    for out in one + two:
        check_stream([json.loads(text) for _, text in out])
    for symbol, groups in (("BTCUSDT", one + two), ("ETHUSDT", two)):
        texts = [[t for _, t in out if json.loads(t)["s"] == symbol] for out in groups]
        compared = window(texts)
        assert all(c == compared[0] for c in compared), symbol
        assert len(compared[0]) > 50


async def test_replies_pongs_and_pushes_never_share_a_frame() -> None:
    """A raw client that reads in bursts (the server's backlog fills and drains, frames get split
    across writes) while it subscribes, unsubscribes and pings: every frame is whole and well formed,
    every reply comes once and in order, every ping gets its own pong."""
    async with fast_server(100) as server:
        exchange = server[EXCHANGE]
        sock, _ = await raw_connect(ws_port(server), stream_path(*SYMBOLS), rcvbuf=4096)
        backlog_seen = 0
        replies: list[int] = []
        pongs: list[bytes] = []
        pushes = 0
        requests_sent = trio.Event()

        async def watch_backlog() -> None:
            nonlocal backlog_seen
            while True:
                for connection in list(exchange.connections):
                    backlog_seen = max(backlog_seen, connection.outbox.backlog)
                await trio.sleep(0.005)

        async def talk() -> None:
            for n in range(1, 61):
                method = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS")[n % 3]
                params = [] if method == "LIST_SUBSCRIPTIONS" else ["btcusdt@kline_1m", "ethusdt@kline_5m"]
                request = json.dumps({"method": method, "params": params, "id": n}).encode()
                await sock.send(client_frame(0x1, request))
                await sock.send(client_frame(0x9, b"p%d" % n))
                await trio.sleep(0.03)
            requests_sent.set()

        async def read() -> None:
            nonlocal pushes
            buffer = b""
            while True:
                data = await sock.recv(65536)
                assert data, "the server closed the connection"
                buffer += data
                while (frame := next_frame(buffer)) is not None:
                    opcode, payload, buffer = frame
                    if opcode == 0xA:
                        pongs.append(payload)
                        continue
                    assert opcode == 0x1, opcode
                    message = json.loads(payload)  # a torn or mixed frame would not parse
                    if "id" in message:
                        replies.append(message["id"])
                    else:
                        assert message["e"] == "kline"
                        pushes += 1
                        if pushes % 100 == 0:
                            await trio.sleep(0.3)  # stop reading: the server's backlog grows

        with trio.fail_after(60):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(watch_backlog)
                nursery.start_soon(read)
                nursery.start_soon(talk)
                await requests_sent.wait()
                with trio.move_on_after(15):
                    while len(replies) < 60 or len(pongs) < 60:
                        await trio.sleep(0.05)
                nursery.cancel_scope.cancel()
        sock.close()
    assert replies == list(range(1, 61))
    assert pongs == [b"p%d" % n for n in range(1, 61)]
    assert pushes > 300
    assert backlog_seen > 0, "the backlog path was never taken"


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (payload under 64 KiB)."""
    mask = b"\x37\xfa\x21\x3d"
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    size = len(payload)
    head = bytes((0x80 | opcode, 0x80 | size)) if size < 126 else bytes((0x80 | opcode, 0xFE)) + size.to_bytes(2, "big")
    return head + mask + masked


def next_frame(buffer: bytes) -> tuple[int, bytes, bytes] | None:
    """(opcode, payload, rest) of the first whole server frame in ``buffer``, checked strictly."""
    if len(buffer) < 2:
        return None
    first, second = buffer[0], buffer[1]
    assert first & 0xF0 == 0x80, f"not a final frame without RSV bits: {first:#x}"
    assert second & 0x80 == 0, "a server frame must not be masked"
    size, head = second & 0x7F, 2
    if size == 126:
        if len(buffer) < 4:
            return None
        size, head = int.from_bytes(buffer[2:4], "big"), 4
    assert size != 127, "no push is that large"
    if len(buffer) < head + size:
        return None
    return first & 0x0F, buffer[head:head + size], buffer[head + size:]


async def test_a_stuck_subscriber_is_dropped_and_the_others_keep_pace() -> None:
    """A subscriber that never reads (tiny receive buffer) fills its backlog and is reset; the
    others get every candle meanwhile, without a stall."""
    async with fast_server(200) as server:
        exchange = server[EXCHANGE]
        port = ws_port(server)
        path = stream_path(*SYMBOLS)
        stuck, _ = await raw_connect(port, path, rcvbuf=4096)
        host, local_port = stuck.getsockname()[:2]
        stuck_address = f"{host}:{local_port}"
        received: list[list[tuple[float, str]]] = [[] for _ in range(4)]
        dropped_after: float | None = None

        async def subscriber(out: list[tuple[float, str]]) -> None:
            async with open_websocket_url(exchange.ws_url + path) as ws:
                await collect(ws, 30.0, out)

        async def watch_stuck(cancel: trio.CancelScope) -> None:
            nonlocal dropped_after
            start = trio.current_time()
            with trio.move_on_after(30):
                while any(c.outbox.peer == stuck_address for c in exchange.connections):
                    await trio.sleep(0.02)
                dropped_after = trio.current_time() - start
                await trio.sleep(1.0)  # the others go on for a while after the drop
            cancel.cancel()

        async with trio.open_nursery() as nursery:
            for out in received:
                nursery.start_soon(subscriber, out)
            nursery.start_soon(watch_stuck, nursery.cancel_scope)

        assert dropped_after is not None, "the stuck subscriber was never dropped"
        with trio.fail_after(10):
            try:
                while await stuck.recv(65536):
                    pass  # whatever the small buffer held, then the end
            except ConnectionResetError:
                pass
        stuck.close()
    for out in received:
        check_stream([json.loads(text) for _, text in out])
        arrivals = [at for at, _ in out]
        assert max(b - a for a, b in itertools.pairwise(arrivals)) < 2.0  # generous: passes are 50 ms apart


# -- heartbeat ------------------------------------------------------------------------------------


@pytest.mark.mockfeed(exchanges=[EXCHANGE])
async def test_a_peer_that_never_pongs_is_closed_and_its_late_ping_harms_nobody(mockfeed_server: Server) -> None:
    """A protocol ping unanswered within the heartbeat's timeout closes with 1008; a ping the peer
    sends after that close frame is ignored (trio-websocket alone would crash on it, #184), and a
    peer that answers pings stays connected."""
    exchange = mockfeed_server[EXCHANGE]
    exchange.plugin.heartbeat = Heartbeat(interval=0.2, timeout=0.6)
    port = ws_port(mockfeed_server)
    silent, _ = await raw_connect(port, "/ws")
    async with open_websocket_url(exchange.ws_url + stream_path("btcusdt")) as answering:
        frames: list[tuple[int, bytes]] = []
        buffer = b""
        with trio.fail_after(10):
            while not any(opcode == 8 for opcode, _ in frames):
                data = await silent.recv(4096)
                assert data, "closed without a close frame"
                buffer += data
                while len(buffer) >= 2 and len(buffer) >= 2 + (buffer[1] & 0x7F):
                    size = buffer[1] & 0x7F
                    frames.append((buffer[0] & 0x0F, buffer[2:2 + size]))
                    buffer = buffer[2 + size:]
        assert frames[0][0] == 9  # a ping first
        payload = frames[-1][1]
        assert int.from_bytes(payload[:2], "big") == 1008 and payload[2:] == b"pong timeout"
        await silent.send(bytes([0x89, 0x80, 0, 0, 0, 0]))  # a masked, empty ping after the close
        await trio.sleep(1.0)
        silent.close()
        assert (await answering.get_message()).startswith('{"e":"kline"')  # still open after 5 pings
    async with open_websocket_url(exchange.ws_url + stream_path("ethusdt")) as late:
        with trio.fail_after(5):
            assert (await late.get_message()).startswith('{"e":"kline"')  # the listener lives on
