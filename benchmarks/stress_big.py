"""Stress phase: the most expensive message a client can send, for each product.

Each product's valid WebSocket requests (the fuzzing seeds in :mod:`tests.reliability.products`)
are blown up to just under the 1 MiB message limit in three ways: every string repeated, every
list filled with copies of its first item, every list of strings filled with distinct names. One
client sends each; meanwhile a bystander (its own process) pings without pause. The figure is the
bystander's longest ping round trip: how long one message can stall the server's single event loop
(the issue's reference mock stalled 36 s on a 2 MB stream name).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import httpx
import trio
from tests.reliability.bigmessages import MODES, big_text
from tests.reliability.products import WS_SEEDS
from trio_websocket import ConnectionClosed, open_websocket

from benchmarks.common import Processes, Row


def _connect(port: int, path: str) -> Any:
    return open_websocket("127.0.0.1", port, path, use_ssl=False, message_queue_size=200_000,
                          connect_timeout=15, disconnect_timeout=5)


def _resource(seed_path: str, bullet: str | None, rest_port: int) -> str:
    if bullet is None:
        return seed_path
    answer = httpx.post(f"http://127.0.0.1:{rest_port}{bullet}", timeout=10).json()["data"]
    return f"{seed_path}?token={answer['token']}"


async def _one(port: int, path: str, text: str) -> None:
    """Send one big message, then a ping: its pong means the server has handled the message.

    (The server reads a connection's frames in order, and replies queue ahead of the pong, so the
    client keeps a deep message queue to let them in unread.)
    """
    async with _connect(port, path) as ws:
        with trio.move_on_after(10):
            try:
                await ws.send_message(text)
                await ws.ping()
            except ConnectionClosed:
                pass


async def big_messages(
    ports: dict[str, tuple[int, int]], procs: Processes, cpu: int | None
) -> tuple[list[Row], dict[str, float]]:
    """The bystander's worst ping round trip while each product handles its worst messages.

    The bystander is a separate process (``python -m benchmarks.stress_big PORT PATH``), so the
    work this process does to build and send the messages cannot show up as a stall.
    """
    names = [name for name in ports if name in WS_SEEDS]
    by_rest, by_ws = ports[names[0]]
    by_seed = WS_SEEDS[names[0]]
    pinger = procs.start(
        [sys.executable, "-m", "benchmarks.stress_big", str(by_ws),
         _resource(by_seed.path, by_seed.bullet, by_rest)],
        cpu=cpu, stdin=True,
    )
    if pinger.readline(30) != "ready":
        raise RuntimeError("the bystander did not connect")
    windows: dict[str, tuple[float, float]] = {}
    for name in names:
        seed = WS_SEEDS[name]
        rest_port, ws_port = ports[name]
        path = _resource(seed.path, seed.bullet, rest_port)
        texts = [big_text(message, mode) for message in seed.messages for mode in MODES]
        started = time.time()
        with trio.fail_after(120):
            for text in texts:
                await _one(ws_port, path, text)
        windows[name] = (started, time.time())
    pinger.write_line("stop")
    samples: list[list[float]] = json.loads(pinger.readline(30))
    procs.stop(pinger)
    worst = {
        name: max((rtt for at, rtt in samples if start <= at <= end + 0.05), default=float("nan"))
        for name, (start, end) in windows.items()
    }
    slowest = max(worst, key=lambda n: worst[n])
    return [
        Row("stress.big.stall", f"worst stall from one ~1 MiB message (any product: {slowest})",
            worst[slowest], "ms", "lower", target=250, target_op="<=", extra={"per_product": worst}),
    ], worst


async def _ping_until_stopped(port: int, path: str) -> None:
    """Ping without pause until a line arrives on stdin; print ``[[time, rtt_ms], ...]``."""
    samples: list[tuple[float, float]] = []
    stdin = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    async with _connect(port, path) as ws, stdin, trio.open_nursery() as nursery:
        print("ready", flush=True)

        async def ping() -> None:
            while True:
                started = time.time()
                await ws.ping()
                samples.append((started, (time.time() - started) * 1000))
                await trio.sleep(0.002)

        nursery.start_soon(ping)
        with trio.move_on_after(600):
            await stdin.receive_some()
        nursery.cancel_scope.cancel()
    print(json.dumps(samples), flush=True)


def main() -> None:
    """The bystander process: ``python -m benchmarks.stress_big PORT PATH``."""
    trio.run(_ping_until_stopped, int(sys.argv[1]), sys.argv[2])


if __name__ == "__main__":
    main()
