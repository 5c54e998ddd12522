"""``python -m benchmarks.stress [--quick]``: load, leak and shutdown checks, with a summary table.

Everything on 127.0.0.1, bounded in count and time. The server runs in its own process pinned to
one core (:mod:`benchmarks.stress_server`, which answers ``stats`` probes: trio tasks, fds, RSS,
allocated blocks); the clients (:mod:`benchmarks.stress_clients`) run here, pinned to the other.

1. **idle + active**: 2,000 idle WebSocket connections, then 200 subscribers of a 1 s stream
   beside them for a window; memory and tasks per idle connection, deliveries, push lag, errors.
2. **churn**: 10,000 connect/subscribe/disconnect cycles (polite closes, resets mid-push, resets
   before the ack and right after the handshake); growth of tasks, fds, RSS and allocated blocks
   after a warm-up, against documented bounds.
3. **shutdown**: the CLI under load (1,000 subscribers, REST loops of 1000-row pages, stuck
   clients) gets SIGTERM: close codes, REST outcome, time to exit, exit status.
4. **thread runner**: :class:`mockfeed.ThreadedServer` stopped under load: time, its thread gone.
5. **never reads**: a REST client that pipelines requests and never reads, then SIGTERM.
6. **big messages**: each product's worst ~1 MiB request; how long it stalls everyone else
   (:mod:`benchmarks.stress_big`).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import json
import os
import resource
import signal
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import trio

from benchmarks.common import (
    RESULTS_DIR,
    Child,
    Processes,
    Row,
    parse_ready,
    percentile,
    phase,
    pick_cpus,
    results_table,
)
from benchmarks.stress_big import big_messages
from benchmarks.stress_clients import HandshakeFailed, WsClient
from mockfeed.runtime import server as server_module

#: Growth allowed across 10,000 churn cycles after a warm-up (see docs/reliability.md).
TASK_GROWTH = 0
FD_GROWTH = 4
RSS_GROWTH_MB = 8.0
SHUTDOWN_BOUND = server_module.SHUTDOWN_GRACE + 3.0  # seconds from SIGTERM to exit
SPOT_STREAM = "btcusdt@kline_1s"  # a push every second
PERP_STREAM = "btcusdt@kline_1m"  # a push every 250 ms
KLINES = "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000"


@dataclass(frozen=True)
class Plan:
    """How big each phase is (``--quick`` shrinks everything for a smoke run)."""

    idle: int
    active: int
    window: float
    cycles: int
    warmup: int
    concurrency: int
    shutdown_subscribers: int
    rest_loops: int
    server_cpu: int | None
    load_cpu: int | None


def _server_cmd(module: str, *names: str) -> list[str]:
    if module == "mockfeed":
        args = [a for n in names for a in ("--exchange", n)]
        return [sys.executable, "-m", "mockfeed", *args, "--port", "0", "--ws-port", "0"]
    return [sys.executable, "-m", "benchmarks.stress_server", *names]


class Probe:
    """The stress server child: its ports and its ``stats`` answers."""

    def __init__(self, child: Child, names: Sequence[str]) -> None:
        self.child = child
        self.ports = {}
        for _ in names:
            ready = parse_ready(child.readline(30))
            assert ready.ws_port is not None
            self.ports[ready.name] = (ready.rest_port, ready.ws_port)

    def stats(self) -> dict[str, int]:
        """One stats probe (blocking briefly: the answer is a line away)."""
        self.child.write_line("stats")
        figures: dict[str, int] = json.loads(self.child.readline(30))
        return figures

    async def settled(self, limit: float = 30.0) -> dict[str, int]:
        """Stats once no connection or subscription is left (bounded), after a pause."""
        deadline = trio.current_time() + limit
        while True:
            figures = self.stats()
            if figures["connections"] == 0 and figures["subscriptions"] == 0:
                break
            if trio.current_time() > deadline:
                break
            await trio.sleep(0.5)
        await trio.sleep(1.0)
        return self.stats()


async def _gather(count: int, width: int, job: Callable[[int], Awaitable[None]]) -> None:
    """Run ``job(0..count-1)`` with at most ``width`` at a time."""
    limiter = trio.CapacityLimiter(width)

    async def one(index: int) -> None:
        async with limiter:
            await job(index)

    async with trio.open_nursery() as nursery:
        for index in range(count):
            nursery.start_soon(one, index)


def _lag_ms(message: str | bytes, received: float) -> float | None:
    text = message if isinstance(message, str) else message.decode(errors="replace")
    at = text.find('"E":')
    if at < 0:
        return None
    end = text.find(",", at)
    return received * 1000.0 - int(text[at + 4:end])


# -- 1. idle + active ---------------------------------------------------------------------------
async def idle_and_active(plan: Plan, probe: Probe) -> list[Row]:
    """2,000 idle connections, then 200 subscribers beside them for a window."""
    _, ws_port = probe.ports["binance_spot"]
    base = await probe.settled()
    idle: list[WsClient] = []
    failures: collections.Counter[str] = collections.Counter()

    async def open_idle(_: int) -> None:
        try:
            idle.append(await WsClient.open(ws_port, "/ws"))
        except (HandshakeFailed, OSError, trio.TooSlowError) as error:
            failures[type(error).__name__] += 1

    lags: list[float] = []
    counts = collections.Counter[int]()
    window = [float("inf"), float("inf")]

    async def subscriber(index: int, task_status: trio.TaskStatus[None]) -> None:
        try:
            client = await WsClient.open(ws_port, f"/ws/{SPOT_STREAM}")
        except (HandshakeFailed, OSError, trio.TooSlowError) as error:
            failures[type(error).__name__] += 1
            task_status.started()
            return
        task_status.started()
        try:
            while (message := await client.receive()) is not None:
                now = time.time()
                if window[0] <= now < window[1]:
                    counts[index] += 1
                    lag = _lag_ms(message, now)
                    if lag is not None:
                        lags.append(lag)
            failures[f"subscriber closed {client.close_code}"] += 1
        finally:
            with contextlib.suppress(Exception):
                await client.close(2)

    async with trio.open_nursery() as nursery:
        with trio.fail_after(300):
            await _gather(plan.idle, 100, open_idle)
        for client in idle:
            nursery.start_soon(client.drain)
        await trio.sleep(2)
        with_idle = probe.stats()
        for index in range(plan.active):
            await nursery.start(subscriber, index)
        await trio.sleep(2)
        window[0] = time.time() + 0.5
        window[1] = window[0] + plan.window
        await trio.sleep(plan.window + 1.0)
        with_active = probe.stats()
        dropped = sum(1 for c in idle if c.close_code is not None)
        nursery.cancel_scope.cancel()
    with trio.move_on_after(60):
        await _gather(len(idle), 200, lambda i: idle[i].close(5))
    after = await probe.settled()
    errors = sum(failures.values()) + dropped
    per_idle_kb = (with_idle["rss_kb"] - base["rss_kb"]) / max(1, len(idle))
    tasks_per_idle = (with_idle["tasks"] - base["tasks"]) / max(1, len(idle))
    expected = plan.active * plan.window
    delivered = sum(counts.values())
    extra = {"base": base, "with_idle": with_idle, "with_active": with_active, "after": after,
             "failures": dict(failures), "dropped_idle": dropped}
    n, m = plan.idle, plan.active
    return [
        Row(f"stress.idle{n}.open", f"idle WS connections open (of {n})", len(idle) - dropped,
            "conns", "higher", target=n, target_op=">=", extra=extra),
        Row(f"stress.idle{n}.rss_per_conn", "server memory per idle WS connection", per_idle_kb,
            "KB", "lower", target=64, target_op="<="),
        Row(f"stress.idle{n}.tasks_per_conn", "trio tasks per idle WS connection", tasks_per_idle,
            "tasks", "lower", target=4, target_op="<="),
        Row(f"stress.active{m}.deliveries", f"{m} subscribers beside {n} idle: deliveries",
            delivered / expected if expected else 0.0, "of expected", "higher", target=0.95,
            target_op=">=", extra={"delivered": delivered, "expected": expected}),
        Row(f"stress.active{m}.lag_p50", f"{m} subscribers beside {n} idle: push lag p50",
            percentile(lags, 50), "ms", "lower"),
        Row(f"stress.active{m}.lag_p99", f"{m} subscribers beside {n} idle: push lag p99",
            percentile(lags, 99), "ms", "lower", target=250, target_op="<="),
        Row(f"stress.idle{n}.errors", "errors (failed handshakes, unexpected closes)", errors,
            "", "lower", target=0, target_op="<=", extra=dict(failures)),
        Row(f"stress.idle{n}.tasks_after", "tasks left after closing them all (vs before)",
            after["tasks"] - base["tasks"], "tasks", "lower", target=TASK_GROWTH, target_op="<="),
    ]


# -- 2. churn -----------------------------------------------------------------------------------
async def _cycle(port: int, index: int, outcomes: collections.Counter[str]) -> None:
    """One connect/subscribe/disconnect cycle; the kind rotates with ``index``."""
    kind = index % 4
    path = "/market/ws" if kind in (0, 2) else f"/market/ws/{PERP_STREAM}"
    try:
        client = await WsClient.open(port, path)
    except (HandshakeFailed, OSError, trio.TooSlowError) as error:
        outcomes[f"handshake {type(error).__name__}"] += 1
        return
    with trio.move_on_after(10) as waited:
        if kind in (0, 2):
            await client.send_text(json.dumps({"method": "SUBSCRIBE", "params": [PERP_STREAM],
                                               "id": index}))
        if kind == 0:  # wait for the ack, then close politely
            await client.receive()
            await client.close(5)
        elif kind == 1:  # first push in, reset while the next are on their way
            await client.receive()
            await client.reset()
        else:  # reset before the ack (2) or right after the handshake (3)
            await client.reset()
    if waited.cancelled_caught:
        outcomes["cycle timed out"] += 1
        await client.reset()
    else:
        outcomes[("closed politely", "reset mid-push", "reset before the ack",
                  "reset after the handshake")[kind]] += 1


async def churn(plan: Plan, probe: Probe) -> list[Row]:
    """Warm up, take stats, run the cycles, let the server settle, take stats again."""
    _, port = probe.ports["binance_perpetual"]
    outcomes: collections.Counter[str] = collections.Counter()
    with trio.fail_after(600):
        await _gather(plan.warmup, plan.concurrency, lambda i: _cycle(port, i, outcomes))
    before = await probe.settled()
    outcomes.clear()
    started = time.monotonic()
    with trio.fail_after(1800):
        await _gather(plan.cycles, plan.concurrency, lambda i: _cycle(port, i, outcomes))
    took = time.monotonic() - started
    after = await probe.settled()
    bad = sum(v for k, v in outcomes.items() if k.startswith(("handshake", "cycle")))
    growth = {key: after[key] - before[key] for key in before}
    extra = {"before": before, "after": after, "outcomes": dict(outcomes), "seconds": took}
    c = plan.cycles
    return [
        Row(f"stress.churn{c}.rate", f"{c} connect/subscribe/disconnect cycles: rate", c / took,
            "cycles/s", "higher", extra=extra),
        Row(f"stress.churn{c}.failed", "cycles that failed or timed out", bad, "", "lower",
            target=0, target_op="<="),
        Row(f"stress.churn{c}.tasks", "task growth after the cycles", growth["tasks"], "tasks",
            "lower", target=TASK_GROWTH, target_op="<="),
        Row(f"stress.churn{c}.fds", "file descriptor growth", growth["fds"], "fds", "lower",
            target=FD_GROWTH, target_op="<="),
        Row(f"stress.churn{c}.rss", "RSS growth", growth["rss_kb"] / 1024, "MB", "lower",
            target=RSS_GROWTH_MB, target_op="<="),
        Row(f"stress.churn{c}.blocks", "Python allocated-blocks growth per cycle",
            growth["blocks"] / c, "blocks", "lower"),
        Row(f"stress.churn{c}.connections", "connections and subscriptions left",
            after["connections"] + after["subscriptions"], "", "lower", target=0, target_op="<="),
    ]


# -- 3. shutdown under load ---------------------------------------------------------------------
class ShutdownLoad:
    """Subscribers on two products, REST loops and stuck clients; what each saw after SIGTERM."""

    def __init__(self, ports: dict[str, tuple[int, int]]) -> None:
        self.ports = ports
        self.subscribed = 0
        self.codes: collections.Counter[int] = collections.Counter()
        self.last_close = 0.0
        self.rest_done = 0
        self.rest_after_signal = 0
        self.rest_aborted = 0
        self.rest_errors: collections.Counter[str] = collections.Counter()
        self.last_rest_end = 0.0
        self.stuck_closed = 0
        self.signalled = float("inf")

    async def subscriber(self, index: int) -> None:
        name, stream = (("binance_spot", SPOT_STREAM) if index % 2 == 0
                        else ("binance_perpetual", PERP_STREAM))
        prefix = "" if name == "binance_spot" else "/market"
        client = await WsClient.open(self.ports[name][1], f"{prefix}/ws/{stream}")
        await client.receive()
        self.subscribed += 1
        await client.drain()
        self.codes[client.close_code or 0] += 1
        self.last_close = max(self.last_close, time.monotonic())
        await client.stream.aclose()

    async def subscribe(self, nursery: trio.Nursery, indices: range, limit: float) -> None:
        """Start subscribers for ``indices`` and wait until each has its first push."""
        for index in indices:
            nursery.start_soon(self.subscriber, index)
        with trio.fail_after(limit):
            while self.subscribed < len(indices):
                await trio.sleep(0.05)

    async def rest_loop(self, index: int) -> None:
        name = "binance_spot" if index % 2 == 0 else "binance_perpetual"
        path = KLINES if name == "binance_spot" else KLINES.replace("/api/v3", "/fapi/v1")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.ports[name][0]}",
                                     timeout=30) as client:
            while True:
                try:
                    response = await client.get(path)
                except httpx.TransportError as error:
                    self.rest_aborted += 1
                    self.rest_errors[type(error).__name__] += 1
                    break
                self.rest_done += 1
                if response.status_code != 200:
                    self.rest_errors[f"status {response.status_code}"] += 1
                if time.monotonic() > self.signalled:
                    self.rest_after_signal += 1
        self.last_rest_end = max(self.last_rest_end, time.monotonic())

    async def stuck(self, port: int, data: bytes) -> None:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            await stream.send_all(data)
            with trio.move_on_after(120):
                with contextlib.suppress(trio.BrokenResourceError):
                    while await stream.receive_some():
                        pass
                self.stuck_closed += 1


async def shutdown(plan: Plan, procs: Processes) -> list[Row]:
    """SIGTERM to the CLI in the middle of the load."""
    names = ["binance_spot", "binance_perpetual"]
    child = procs.start(_server_cmd("mockfeed", *names), cpu=plan.server_cpu)
    ports = {}
    for _ in names:
        ready = parse_ready(child.readline(30))
        assert ready.ws_port is not None
        ports[ready.name] = (ready.rest_port, ready.ws_port)
    load = ShutdownLoad(ports)
    stuck = [
        (ports["binance_spot"][0],
         b"POST /api/v3/ping HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\nab"),
        (ports["binance_spot"][1], b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgr"),
        (ports["binance_perpetual"][0], b""),
    ] * 5
    exit_code: int | None = None
    async with trio.open_nursery() as nursery:
        await load.subscribe(nursery, range(plan.shutdown_subscribers), 120)
        for index in range(plan.rest_loops):
            nursery.start_soon(load.rest_loop, index)
        for port, data in stuck:
            nursery.start_soon(load.stuck, port, data)
        await trio.sleep(1.5)
        load.signalled = time.monotonic()
        child.popen.send_signal(signal.SIGTERM)
        with trio.move_on_after(60):
            while child.popen.poll() is None:
                await trio.sleep(0.02)
        exited = time.monotonic() - load.signalled
        exit_code = child.popen.poll()
        with trio.move_on_after(10):
            while (sum(load.codes.values()) < load.subscribed
                   or load.stuck_closed < len(stuck)):
                await trio.sleep(0.05)
        nursery.cancel_scope.cancel()
    procs.stop(child)
    closed_1001 = load.codes.get(1001, 0)
    s = plan.shutdown_subscribers
    extra = {"close_codes": dict(load.codes), "rest_done": load.rest_done,
             "rest_after_signal": load.rest_after_signal, "rest_errors": dict(load.rest_errors),
             "stuck_closed": load.stuck_closed, "stuck": len(stuck), "exit_code": exit_code}
    return [
        Row(f"stress.shutdown{s}.exit_s", f"SIGTERM with {s} subscribers, {plan.rest_loops} REST loops: "
            "time to exit", exited, "s", "lower", target=SHUTDOWN_BOUND, target_op="<=",
            extra=extra),
        Row(f"stress.shutdown{s}.exit_code", "exit status", float(exit_code if exit_code is not None
            else -1), "", "lower", target=0, target_op="<="),
        Row(f"stress.shutdown{s}.ws_1001", "WebSockets closed with 1001", closed_1001 / max(1, s),
            "of all", "higher", target=1.0, target_op=">="),
        Row(f"stress.shutdown{s}.ws_close_s", "last WebSocket close after SIGTERM",
            max(0.0, load.last_close - load.signalled), "s", "lower", target=SHUTDOWN_BOUND,
            target_op="<="),
        Row(f"stress.shutdown{s}.rest_end_s", "last in-flight REST request ended after SIGTERM",
            max(0.0, load.last_rest_end - load.signalled), "s", "lower", target=SHUTDOWN_BOUND,
            target_op="<="),
        Row(f"stress.shutdown{s}.stuck", "stuck clients (partial body, partial upgrade, silent) "
            "disconnected", load.stuck_closed / len(stuck), "of all", "higher", target=1.0,
            target_op=">="),
    ]


# -- 4. thread runner ---------------------------------------------------------------------------
async def thread_runner(plan: Plan) -> list[Row]:
    """ThreadedServer.stop() while 200 subscribers read and REST loops run."""
    from mockfeed import ThreadedServer

    before = {t.ident for t in threading.enumerate()}
    server = ThreadedServer(exchanges=["binance_spot"], port=0, ws_port=0).start()
    runner = next(t for t in threading.enumerate() if t.name == "mockfeed" and t.ident not in before)
    exchange = server["binance_spot"]
    load = ShutdownLoad({"binance_spot": (exchange.rest_port, exchange.ws_port),
                         "binance_perpetual": (exchange.rest_port, exchange.ws_port)})
    async with trio.open_nursery() as nursery:
        await load.subscribe(nursery, range(0, 2 * plan.active, 2), 60)
        for index in range(0, 2 * max(1, plan.rest_loops // 2), 2):
            nursery.start_soon(load.rest_loop, index)
        await trio.sleep(1.0)
        load.signalled = time.monotonic()
        await trio.to_thread.run_sync(server.stop)
        stopped = time.monotonic() - load.signalled
        with trio.move_on_after(10):
            while sum(load.codes.values()) < load.subscribed:
                await trio.sleep(0.05)
        nursery.cancel_scope.cancel()
    left = [t.name for t in threading.enumerate()
            if t.ident not in before and not t.name.startswith("Trio thread")]
    return [
        Row("stress.threaded.stop_s", f"ThreadedServer.stop() with {plan.active} subscribers",
            stopped, "s", "lower", target=SHUTDOWN_BOUND, target_op="<=",
            extra={"close_codes": dict(load.codes), "threads_left": left}),
        Row("stress.threaded.ws_1001", "WebSockets closed with 1001",
            load.codes.get(1001, 0) / max(1, load.subscribed), "of all", "higher", target=1.0,
            target_op=">="),
        Row("stress.threaded.threads_left", "runner threads left (trio's idle worker cache aside)",
            len(left) + int(runner.is_alive()), "threads", "lower", target=0, target_op="<="),
    ]


# -- 5. a client that never reads -----------------------------------------------------------------
async def never_reads(plan: Plan, procs: Processes) -> list[Row]:
    """Pipelined 1000-row requests, responses never read; then SIGTERM: does the CLI exit?"""
    child = procs.start(_server_cmd("mockfeed", "binance_spot"), cpu=plan.server_cpu)
    rest_port = parse_ready(child.readline(30)).rest_port
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", rest_port))
    sock.setblocking(False)
    request = f"GET {KLINES} HTTP/1.1\r\nHost: x\r\n\r\n".encode() * 10
    with trio.move_on_after(15):
        while True:
            try:
                sock.send(request)
            except BlockingIOError:
                break
            await trio.sleep(0)
    await trio.sleep(1.0)
    signalled = time.monotonic()
    child.popen.send_signal(signal.SIGTERM)
    limit = 30.0
    with trio.move_on_after(limit):
        while child.popen.poll() is None:
            await trio.sleep(0.05)
    exited = time.monotonic() - signalled
    code = child.popen.poll()
    sock.close()
    procs.stop(child)
    return [
        Row("stress.never_reads.exit_s", "SIGTERM with a REST client that never reads: time to exit",
            exited, "s", "lower", target=SHUTDOWN_BOUND, target_op="<=",
            extra={"exit_code": code, "gave_up_after_s": limit if code is None else None}),
    ]


# -- driver ---------------------------------------------------------------------------------------
PHASES = ("idle", "churn", "shutdown", "threaded", "never_reads", "big")


async def big(plan: Plan, procs: Processes) -> list[Row]:
    """Every available product in one stress server; each one's worst messages."""
    from mockfeed.exchanges import available

    names = [str(e) for e in available()]
    probe = Probe(procs.start(_server_cmd("stress_server", *names), cpu=plan.server_cpu, stdin=True),
                  names)
    rows, worst = await big_messages(probe.ports, procs, plan.load_cpu)
    for name, stall in sorted(worst.items(), key=lambda kv: -kv[1]):
        print(f"   {name:<24} worst bystander ping {stall:7.1f} ms", flush=True)
    procs.stop(probe.child)
    return rows


async def run(plan: Plan, phases: Sequence[str]) -> tuple[list[Row], dict[str, str]]:
    """Run the chosen phases; rows and the failures of phases that could not run."""
    rows: list[Row] = []
    failures: dict[str, str] = {}
    with Processes() as procs:
        probe: Probe | None = None
        if "idle" in phases or "churn" in phases:
            names = ["binance_spot", "binance_perpetual"]
            probe = Probe(procs.start(_server_cmd("stress_server", *names), cpu=plan.server_cpu,
                                      stdin=True), names)
        steps: dict[str, Callable[[], Awaitable[list[Row]]]] = {
            "idle": lambda: idle_and_active(plan, probe),  # type: ignore[arg-type]
            "churn": lambda: churn(plan, probe),  # type: ignore[arg-type]
            "shutdown": lambda: shutdown(plan, procs),
            "threaded": lambda: thread_runner(plan),
            "never_reads": lambda: never_reads(plan, procs),
            "big": lambda: big(plan, procs),
        }
        for name in phases:
            try:
                with phase(name):
                    rows.extend(await steps[name]())
            except Exception as error:  # report and go on with the next phase
                failures[name] = f"{type(error).__name__}: {error}"
                print(f"   {name} failed: {failures[name]}", flush=True)
    return rows, failures


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # so every ``finally`` runs and children are stopped


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stress", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller numbers, for a smoke run (about two minutes)")
    parser.add_argument("--only", action="append", choices=PHASES, help="run only this phase")
    parser.add_argument("--idle", type=int, help="idle WS connections (2000)")
    parser.add_argument("--active", type=int, help="active subscribers (200)")
    parser.add_argument("--cycles", type=int, help="churn cycles (10000)")
    parser.add_argument("--output", type=Path, help="JSON path (default benchmarks/results/...)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print the table, save JSON; 1 if a check failed or a phase could not run."""
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    _raise_fd_limit()
    server_cpu, load_cpu = pick_cpus()
    if load_cpu is not None:
        os.sched_setaffinity(0, {load_cpu})
    quick = args.quick
    plan = Plan(
        idle=args.idle or (200 if quick else 2000),
        active=args.active or (50 if quick else 200),
        window=5.0 if quick else 10.0,
        cycles=args.cycles or (1000 if quick else 10_000),
        warmup=200 if quick else 1000,
        concurrency=50,
        shutdown_subscribers=100 if quick else 1000,
        rest_loops=20,
        server_cpu=server_cpu,
        load_cpu=load_cpu,
    )
    phases = args.only or list(PHASES)
    print(f"mockfeed stress ({'quick' if quick else 'full'}): {', '.join(phases)}; server on cpu "
          f"{server_cpu}, clients on cpu {load_cpu}", flush=True)
    started = dt.datetime.now(dt.UTC)
    rows, failures = trio.run(run, plan, phases)
    print()
    print(results_table(rows) if rows else "no results")
    for name, text in failures.items():
        print(f"phase {name} did not run to the end: {text}")
    output = args.output or RESULTS_DIR / f"{started.strftime('%Y%m%dT%H%M%SZ')}-stress.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "started": started.isoformat(), "plan": plan.__dict__, "failures": failures,
        "results": [row.as_dict() for row in rows],
    }, indent=2, default=_json_default))
    print(f"results: {output}")
    failed = [row.figure for row in rows if row.passed is False]
    return 1 if failed or failures else 0


def _json_default(value: Any) -> Any:
    return None if isinstance(value, float) and value != value else str(value)


if __name__ == "__main__":
    sys.exit(main())
