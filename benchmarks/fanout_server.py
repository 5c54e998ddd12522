"""mockfeed serving one exchange, with its hub driven from stdin faster than any exchange's cadence.

``python -m benchmarks.fanout_server [--exchange binance_spot]`` runs :func:`mockfeed.serve` exactly
as the CLI does (the ticker keeps its own cadence too), prints the CLI's ready line, then takes the
same commands as the raw floor (:mod:`benchmarks.fanout_floor`), answering ``done PUSHES``:

* ``burst T0 T1``: from epoch time ``T0`` to ``T1``, push the forming candle of every subscribed
  stream (:meth:`~mockfeed.runtime.hub.Hub.push_now`), yielding to trio between pushes so
  connections are read and backlogs flushed;
* ``rate R T0 T1``: the same ``R`` times a second.

This is a benchmark harness, not a product feature: it only calls the hub's public
``push_now()``, which encodes and fans out exactly like the ticker's own passes.
"""

from __future__ import annotations

import argparse
import os
import time

import trio

import mockfeed
from mockfeed.runtime.hub import Hub


async def _push(hub: Hub, start: float, end: float, period: float) -> int:
    push_now = hub.push_now
    await trio.sleep(max(0.0, start - time.time()))
    pushes = 0
    due = trio.current_time()
    while time.time() < end:
        if period:
            await trio.sleep_until(due)
            due += period
        else:
            await trio.sleep(0)
        push_now()
        pushes += 1
    return pushes


async def _commands(server: mockfeed.Server, exchange: str) -> None:
    hub = server[exchange].hub
    stdin = trio.lowlevel.FdStream(os.dup(0))
    buffer = b""
    while True:
        chunk = await stdin.receive_some(4096)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, _, buffer = buffer.partition(b"\n")
            words = line.decode().split()
            if words[:1] == ["quit"]:
                return
            if words[:1] == ["burst"]:
                pushes = await _push(hub, float(words[1]), float(words[2]), 0.0)
            elif words[:1] == ["rate"]:
                pushes = await _push(hub, float(words[2]), float(words[3]), 1.0 / float(words[1]))
            else:
                print(f"error unknown command {words!r}", flush=True)
                continue
            print(f"done {pushes}", flush=True)


async def _main(exchange: str) -> None:
    async with mockfeed.serve(exchanges=[exchange], port=0, ws_port=0) as server:
        for line in server.ready_lines():
            print(line, flush=True)
        await _commands(server, exchange)


def main() -> None:
    """Serve until end of input or ``quit``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fanout_server")
    parser.add_argument("--exchange", default="binance_spot")
    args = parser.parse_args()
    trio.run(_main, args.exchange)


if __name__ == "__main__":
    main()
