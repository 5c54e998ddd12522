"""``python -m benchmarks.stress_server NAME...``: mockfeed as the CLI runs it, plus a stats probe.

Serves the named products on ephemeral ports of 127.0.0.1 through :class:`mockfeed.runtime.Server`
(exactly what ``python -m mockfeed`` runs), prints the usual ready lines, and answers each ``stats``
line on stdin with one JSON line: trio tasks, open file descriptors, RSS, Python's allocated
blocks, threads, WebSocket connections and hub subscriptions. SIGINT/SIGTERM stop it as the CLI.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import trio

from mockfeed.config import ServerConfig
from mockfeed.runtime.server import Server


def count_tasks() -> int:
    """Every task of this trio run, found by walking the task tree from the root."""
    count = 0
    root = trio.lowlevel.current_root_task()
    stack = [root] if root is not None else []
    while stack:
        task = stack.pop()
        count += 1
        for nursery in task.child_nurseries:
            stack.extend(nursery.child_tasks)
    return count


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def _subscriptions(server: Server) -> int:
    """Subscriber entries across the hubs (0 when the hub keeps them differently)."""
    total = 0
    for exchange in server.exchanges.values():
        table = getattr(exchange.hub, "subscribers", None)
        if isinstance(table, dict):
            total += sum(len(members) for members in table.values())
    return total


def stats(server: Server) -> dict[str, Any]:
    """The figures a leak would move (after a full garbage collection)."""
    gc.collect()
    return {
        "tasks": count_tasks(),
        "fds": len(os.listdir("/proc/self/fd")),
        "rss_kb": _rss_kb(),
        "blocks": sys.getallocatedblocks(),
        "threads": threading.active_count(),
        "connections": sum(len(e.connections) for e in server.exchanges.values()),
        "subscriptions": _subscriptions(server),
    }


async def _answer_stats(server: Server) -> None:
    stdin = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    buffer = b""
    async with stdin:
        while chunk := await stdin.receive_some():
            buffer += chunk
            while b"\n" in buffer:
                line, _, buffer = buffer.partition(b"\n")
                if line.strip() == b"stats":
                    print(json.dumps(stats(server)), flush=True)


async def serve(names: list[str]) -> None:
    """Serve until SIGINT or SIGTERM, answering ``stats`` lines meanwhile."""
    server = Server(ServerConfig(exchanges=names, port=0, ws_port=0))
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            await server.start(nursery)
            for line in server.ready_lines():
                print(line, flush=True)
            nursery.start_soon(_answer_stats, server)
            async for _ in signals:
                break
            await server.aclose()
            nursery.cancel_scope.cancel()


def main() -> None:
    """Entry point."""
    trio.run(serve, sys.argv[1:] or ["binance_spot"])


if __name__ == "__main__":
    main()
