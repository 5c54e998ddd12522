"""Graceful shutdown under load: SIGTERM (CLI) and ThreadedServer.stop() while clients are busy.

Expected: every WebSocket closed with 1001, in-flight REST requests finished or aborted, the CLI
exits 0 within ``SHUTDOWN_GRACE`` plus a margin, and nothing is left running (no task: ``trio.run``
returned; no thread of the runner's own).
"""

from __future__ import annotations

import signal
import socket
import threading
import time

import httpx
import trio
from trio_websocket import ConnectionClosed

from mockfeed import ThreadedServer
from mockfeed.runtime import server as server_module
from mockfeed.runtime.http_config import SEND_TIMEOUT
from tests.reliability.support import handshake, start_cli, stderr_of
from tests.reliability.wsclient import connect

SUBSCRIBERS = 40
REST_LOOPS = 6
MARGIN = 6.0  # seconds on top of the server's own grace period (two shared cores)
KLINES = "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000"


class Load:
    """Subscribers that read until closed, REST loops, and a few stuck clients; what each saw."""

    def __init__(self, rest_port: int, ws_port: int) -> None:
        self.rest_port = rest_port
        self.ws_port = ws_port
        self.first_push = 0
        self.close_codes: list[int] = []
        self.rest_done = 0
        self.rest_aborted = 0
        self.all_subscribed = trio.Event()

    async def subscriber(self, index: int) -> None:
        async with connect(self.ws_port, f"/ws/btcusdt@kline_1s/ethusdt@kline_{index % 3 + 1}m") as ws:
            await ws.get_message()
            self.first_push += 1
            if self.first_push == SUBSCRIBERS:
                self.all_subscribed.set()
            try:
                while True:
                    await ws.get_message()
            except ConnectionClosed as closed:
                self.close_codes.append(closed.reason.code)

    async def rest_loop(self) -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.rest_port}") as client:
            while True:
                try:
                    response = await client.get(KLINES)
                except httpx.TransportError:
                    self.rest_aborted += 1
                    return
                assert response.status_code == 200
                self.rest_done += 1

    async def stuck(self) -> None:
        """A body that never arrives (REST) and an upgrade request that never ends (WS)."""
        async with trio.open_nursery() as nursery:
            for port, data in (
                (self.rest_port, b"POST /api/v3/ping HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\na"),
                (self.ws_port, handshake("/ws")[:30]),
            ):
                nursery.start_soon(_hold, port, data)

    def start(self, nursery: trio.Nursery) -> None:
        for index in range(SUBSCRIBERS):
            nursery.start_soon(self.subscriber, index)
        for _ in range(REST_LOOPS):
            nursery.start_soon(self.rest_loop)
        nursery.start_soon(self.stuck)


async def _hold(port: int, data: bytes) -> None:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(data)
        with trio.move_on_after(60):
            while await stream.receive_some():
                pass


async def test_sigterm_under_load_closes_1001_and_exits_0() -> None:
    """40 subscribers, 6 REST loops of 1000-row pages, stuck clients; SIGTERM: 1001s, exit 0, in time."""
    process, [ports] = await start_cli("binance_spot")
    load = Load(ports.rest, ports.ws)
    try:
        async with trio.open_nursery() as nursery:
            load.start(nursery)
            with trio.fail_after(30):
                await load.all_subscribed.wait()
            await trio.sleep(0.5)
            done_before = load.rest_done
            started = trio.current_time()
            process.send_signal(signal.SIGTERM)
            with trio.fail_after(server_module.SHUTDOWN_GRACE + MARGIN):
                status = await process.wait()
            took = trio.current_time() - started
            nursery.cancel_scope.cancel()
        assert status == 0, await stderr_of(process)
        assert took < server_module.SHUTDOWN_GRACE + MARGIN
        assert load.close_codes == [1001] * SUBSCRIBERS
        assert load.rest_done > done_before or load.rest_aborted == REST_LOOPS
        assert b"Traceback" not in await stderr_of(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_thread_runner_stops_under_load_and_leaves_no_thread() -> None:
    """ThreadedServer.stop() with subscribers and REST loops running: 1001s, its thread gone."""
    before = {t.ident for t in threading.enumerate()}
    server = ThreadedServer(exchanges=["binance_spot"], port=0, ws_port=0).start()
    runner = next(t for t in threading.enumerate() if t.name == "mockfeed" and t.ident not in before)
    load = Load(server["binance_spot"].rest_port, server["binance_spot"].ws_port)

    async def scenario() -> float:
        async with trio.open_nursery() as nursery:
            load.start(nursery)
            with trio.fail_after(30):
                await load.all_subscribed.wait()
            started = time.monotonic()
            await trio.to_thread.run_sync(server.stop)
            took = time.monotonic() - started
            with trio.fail_after(10):
                while len(load.close_codes) < SUBSCRIBERS:
                    await trio.sleep(0.05)
            nursery.cancel_scope.cancel()
        return took

    took = trio.run(scenario)
    assert took < server_module.SHUTDOWN_GRACE + MARGIN
    assert not runner.is_alive()
    assert load.close_codes == [1001] * SUBSCRIBERS
    # trio keeps idle worker threads ("Trio thread N") in a process-wide cache for a few seconds;
    # they belong to trio, not to the runner.
    left = [t.name for t in threading.enumerate()
            if t.ident not in before and not t.name.startswith("Trio thread")]
    assert left == []


async def test_a_client_that_never_reads_cannot_wedge_shutdown() -> None:
    """Pipelined 1000-row requests, responses never read: SIGTERM still ends the process in time.

    hypercorn writes responses in a shielded scope, so only a socket-level bound can end such a
    write; the server needs ``SEND_TIMEOUT`` (TCP_USER_TIMEOUT on its listening sockets) for that.
    """
    send_timeout = SEND_TIMEOUT
    process, [ports] = await start_cli("binance_spot")
    try:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", ports.rest))
        sock.setblocking(False)
        request = f"GET {KLINES} HTTP/1.1\r\nHost: x\r\n\r\n".encode() * 10
        with trio.move_on_after(15):
            while True:
                try:
                    sock.send(request)
                except BlockingIOError:
                    break
                await trio.sleep(0)
        await trio.sleep(1)
        process.send_signal(signal.SIGTERM)
        with trio.fail_after(server_module.SHUTDOWN_GRACE + send_timeout + MARGIN):
            assert await process.wait() == 0
        sock.close()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
