"""Shared helpers: server-side error records, where each product's WebSocket is, raw sockets."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import attrs
import httpx
import trio

from mockfeed.exchanges import ExchangeType, create_plugin
from mockfeed.exchanges.base import WsReject
from mockfeed.market import DEFAULT_PAIRS, MarketModel, pair_spec
from tests.reliability.products import WS_PATH_CANDIDATES, WS_SEEDS

#: What a Python traceback or repr of an exception looks like on the wire.
TRACEBACK = re.compile(rb'Traceback \(most recent call last\)|File "[^"]+", line \d+|\bError\(\'')


class ErrorLog(logging.Handler):
    """Every record at ERROR or above that mockfeed's loggers emit (a handler that raised logs one)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        """The messages recorded since the last call (with their exception types), then forget them."""
        taken = [
            f"{r.name}: {r.getMessage()}"
            + (f" ({r.exc_info[0].__name__}: {r.exc_info[1]})" if r.exc_info and r.exc_info[0] else "")
            for r in self.records
        ]
        self.records.clear()
        return taken


@contextmanager
def recording_errors() -> Iterator[ErrorLog]:
    """Record mockfeed's ERROR records (hypercorn logs through the ``mockfeed`` logger too)."""
    handler = ErrorLog()
    logger = logging.getLogger("mockfeed")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def assert_no_traceback(body: bytes) -> None:
    """No Python traceback or exception repr in what the server sent."""
    match = TRACEBACK.search(body)
    assert match is None, f"traceback text on the wire: {body[:300]!r}"


def ws_path(product: ExchangeType) -> str:
    """The seed's path, or the first candidate path the product's plugin accepts (asked sans-IO)."""
    seed = WS_SEEDS.get(product.value)
    if seed is not None:
        return seed.path
    pairs = [pair_spec(p) for p in DEFAULT_PAIRS]
    plugin = create_plugin(product, MarketModel(pairs, seed=0), pairs)
    plugin.set_endpoints("http://127.0.0.1:1", "ws://127.0.0.1:2")
    for path in WS_PATH_CANDIDATES:
        if not isinstance(plugin.open_session(path, ""), WsReject):
            return path
    raise AssertionError(f"{product}: no WebSocket path among {WS_PATH_CANDIDATES}; add a WsSeed")


def ws_resource(product: ExchangeType, rest_url: str) -> str:
    """The resource (path and query) a client connects to, fetching a bullet token if needed."""
    seed = WS_SEEDS.get(product.value)
    if seed is None or seed.bullet is None:
        return ws_path(product)
    answer = httpx.post(rest_url + seed.bullet, timeout=10).json()["data"]
    endpoint = urlsplit(answer["instanceServers"][0]["endpoint"])
    return f"{endpoint.path or '/'}?token={answer['token']}&connectId=fuzz"


@attrs.define
class RawOutcome:
    """What a raw TCP client saw: the bytes, whether the server closed, and after how long."""

    data: bytes = b""
    closed: bool = False
    seconds: float = 0.0


async def raw_exchange(
    port: int, chunks: list[bytes], *, wait: float, pause: float = 0.0, stop_at: bytes | None = None
) -> RawOutcome:
    """Send ``chunks`` (``pause`` s apart) on a fresh connection and read until close or ``wait`` s.

    Reading stops early when ``stop_at`` shows up. Sending stops quietly if the server has closed.
    """
    outcome = RawOutcome()
    start = trio.current_time()
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream, trio.open_nursery() as nursery:

        async def send() -> None:
            for chunk in chunks:
                try:
                    await stream.send_all(chunk)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    return
                await trio.sleep(pause)

        nursery.start_soon(send)
        with trio.move_on_after(wait):
            while True:
                try:
                    data = await stream.receive_some(65536)
                except trio.BrokenResourceError:
                    data = b""
                if not data:
                    outcome.closed = True
                    break
                outcome.data += data
                if stop_at is not None and stop_at in outcome.data:
                    break
        outcome.seconds = trio.current_time() - start
        nursery.cancel_scope.cancel()
    return outcome


async def raw_ws_exchange(port: int, path: str, frame: bytes, *, wait: float) -> RawOutcome:
    """Open a WebSocket by hand, send ``frame`` once the 101 is in, read until close or ``wait`` s.

    (trio-websocket handles bytes that arrive with the upgrade request only when more data comes,
    so the frame must follow the 101 to be read at once.)
    """
    outcome = RawOutcome()
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(handshake(path))
        with trio.fail_after(wait):
            while b"\r\n\r\n" not in outcome.data:
                outcome.data += await stream.receive_some(65536)
        start = trio.current_time()
        await stream.send_all(frame)
        with trio.move_on_after(wait):
            while True:
                try:
                    data = await stream.receive_some(65536)
                except trio.BrokenResourceError:
                    data = b""
                if not data:
                    outcome.closed = True
                    break
                outcome.data += data
        outcome.seconds = trio.current_time() - start
    return outcome


def handshake(path: str = "/ws", extra: bytes = b"") -> bytes:
    """A complete WebSocket upgrade request for ``path`` (``extra``: more header lines)."""
    return (
        b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
        % (path.encode(), extra)
    )


READY = re.compile(r"^(\w+) rest=http://127\.0\.0\.1:(\d+) ws=ws://127\.0\.0\.1:(\d+)$")


@attrs.frozen
class Ports:
    """One ready line: the product and its REST and WS ports."""

    name: str
    rest: int
    ws: int


async def start_cli(*exchanges: str) -> tuple[trio.Process, list[Ports]]:
    """``python -m mockfeed`` on ephemeral ports (stderr piped); returns once it printed its ready lines."""
    args = [a for name in exchanges for a in ("--exchange", name)]
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "mockfeed", *args, "--port", "0", "--ws-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    buffer = b""
    with trio.fail_after(30):
        while buffer.count(b"\n") < len(exchanges):
            chunk = await process.stdout.receive_some()
            assert chunk, "mockfeed exited before its ready lines"
            buffer += chunk
    ports = []
    for line in buffer.decode().splitlines()[: len(exchanges)]:
        match = READY.match(line)
        assert match, line
        ports.append(Ports(match.group(1), int(match.group(2)), int(match.group(3))))
    return process, ports


async def stderr_of(process: trio.Process) -> bytes:
    """Whatever the (exited) process wrote on stderr."""
    assert process.stderr is not None
    out = b""
    with trio.move_on_after(5):
        while chunk := await process.stderr.receive_some():
            out += chunk
    return out
