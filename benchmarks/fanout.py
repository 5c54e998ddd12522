"""Figure 4-6: WebSocket fan-out throughput and lag, isolation from a stuck subscriber, idle memory.

Servers run pinned to one core, subscriber pools (:mod:`benchmarks.wsclient`, a C program compiled
at bench time, else Python) to the other. N subscribers (1000 in ``--long``) of one Binance kline
stream, ``/ws/btcusdt@kline_1m``.

* Deliveries/s: the server pushes as fast as it can for a window and the pool counts the frames.
  mockfeed is driven through its hub (:mod:`benchmarks.fanout_server`); the ceiling is the floor
  (:mod:`benchmarks.fanout_floor` raw mode: frame once, one ``send`` per socket, nothing else).
* Lag at half rate: pushes at half mockfeed's measured rate; lag is receive time minus ``"E"``.
  The raw floor pushing at the same rate gives the part of the lag no server can avoid (a push
  reaches the last of N sockets N sends after the first).
* Isolation: the same, with one more subscriber that never reads (tiny receive buffer); the
  ceiling is the run without it. Whether the server dropped it is recorded.
* Idle connection: RSS growth of a fresh ``python -m mockfeed`` per connection after N
  connections that subscribe to nothing; the ceiling is bare trio-websocket doing the same.

Runs alternate which server goes first; rows hold the medians.
"""

from __future__ import annotations

import json
import time
from typing import Any

from benchmarks.common import (
    Child,
    Processes,
    Row,
    Settings,
    median,
    mockfeed_cmd,
    module_cmd,
    parse_ready,
    rss_kb,
)
from benchmarks.wsclient import pool_cmd

NAME = "fanout"
STREAM_PATH = "/ws/btcusdt@kline_1m"
IDLE_PATH = "/ws"
LEAD = 0.5  # seconds between sending a window's commands and its start
WARM = 0.3  # seconds the server pushes before and after the counted window
CONNECT_TIMEOUT = 90.0
SETTLE = 1.0  # seconds after the idle connections open before RSS is read


def _port(line: str) -> int:
    """The WS port from a ready line (mockfeed's or the floor's ``floor ws=ws://H:Q``)."""
    if " rest=" in line:
        ready = parse_ready(line)
        assert ready.ws_port is not None
        return ready.ws_port
    if not line.startswith("floor ws="):
        raise RuntimeError(f"not a ready line: {line!r}")
    return int(line.rsplit(":", 1)[1])


class _Target:
    """A server that takes ``burst``/``rate`` commands, and pools connected to it."""

    def __init__(self, procs: Processes, settings: Settings, cmd: list[str]) -> None:
        self.procs = procs
        self.settings = settings
        self.server = procs.start(cmd, cpu=settings.server_cpu, stdin=True)
        self.port = _port(self.server.readline(30))

    def pool(self, n: int, path: str, max_seconds: float) -> Child:
        """N subscribers on ``path``, connected."""
        pool = self.procs.start(
            pool_cmd(self.port, path, n, max_seconds), cpu=self.settings.load_cpu, stdin=True
        )
        line = pool.readline(CONNECT_TIMEOUT)
        if not line.startswith("ready"):
            raise RuntimeError(f"unexpected pool line {line!r}")
        return pool

    def window(self, pool: Child, seconds: float, rate: float | None) -> dict[str, Any]:
        """Drive pushes (as fast as possible, or ``rate`` a second) and count one window."""
        start = time.time() + LEAD
        end = start + seconds
        verb = "burst" if rate is None else f"rate {rate:.3f}"
        self.server.write_line(f"{verb} {start - WARM:.3f} {end + WARM:.3f}")
        pool.write_line(f"window {start:.3f} {end:.3f}")
        result: dict[str, Any] = json.loads(pool.readline(seconds + LEAD + 30))
        done = self.server.readline(seconds + LEAD + WARM + 30)
        if not done.startswith("done"):
            raise RuntimeError(f"unexpected server line {done!r}")
        result["pushes"] = int(done.split()[1])
        result["deliveries_per_s"] = result["count"] / seconds
        return result


def _stuck(procs: Processes, settings: Settings, port: int) -> Child:
    child = procs.start(
        module_cmd("wsclient", "--stuck", "--port", str(port), "--path", STREAM_PATH,
                   "--max-seconds", "600"),
        cpu=settings.load_cpu, stdin=True,
    )
    line = child.readline(30)
    if not line.startswith("ready"):
        raise RuntimeError(f"unexpected stuck-client line {line!r}")
    return child


def _idle_rss(procs: Processes, settings: Settings, cmd: list[str], n: int) -> float:
    """KB of RSS per idle connection of a fresh server process."""
    server = procs.start(cmd, cpu=settings.server_cpu)
    try:
        port = _port(server.readline(30))
        time.sleep(0.5)
        before = rss_kb(server.pid)
        pool = procs.start(pool_cmd(port, IDLE_PATH, n, 120), cpu=settings.load_cpu, stdin=True)
        try:
            line = pool.readline(CONNECT_TIMEOUT)
            if not line.startswith("ready"):
                raise RuntimeError(f"unexpected pool line {line!r}")
            time.sleep(SETTLE)
            after = rss_kb(server.pid)
        finally:
            procs.stop(pool)
    finally:
        procs.stop(server)
    return (after - before) / n


def one_run(procs: Processes, settings: Settings, index: int) -> dict[str, Any]:
    """Fresh servers and pools: floor and mockfeed bursts, lag windows, stuck subscriber, idle RSS."""
    n = settings.fanout_subscribers
    lag_window = max(2.0, settings.fanout_window * 0.6)
    burst_window = max(1.5, lag_window * 2 / 3)
    budget = 4 * (lag_window + LEAD + WARM) + 300
    result: dict[str, Any] = {}
    mock = _Target(procs, settings, module_cmd("fanout_server"))
    floor = _Target(procs, settings, module_cmd("fanout_floor", "--mode", "raw"))
    mock_pool = mock.pool(n, STREAM_PATH, budget)
    floor_pool = floor.pool(n, STREAM_PATH, budget)
    order = [("floor", floor, floor_pool), ("mock", mock, mock_pool)]
    if index % 2:
        order.reverse()
    for label, target, pool in order:
        result[f"{label}_burst"] = target.window(pool, burst_window, None)
    rate = max(1.0, 0.5 * result["mock_burst"]["deliveries_per_s"] / n)
    result["rate_pushes_per_s"] = rate
    for label, target, pool in order:
        result[f"{label}_half"] = target.window(pool, lag_window, rate)
    stuck = _stuck(procs, settings, mock.port)
    stuck_start = time.time()
    result["mock_stuck"] = mock.window(mock_pool, lag_window, rate)
    stuck.write_line("report")
    report = json.loads(stuck.readline(10))
    result["stuck_dropped_after_s"] = (
        report["dropped_at"] - stuck_start if report["dropped"] else None
    )
    for child in (stuck, mock_pool, floor_pool, mock.server, floor.server):
        procs.stop(child)
    order_rss = [("mock", mockfeed_cmd()), ("tws", module_cmd("fanout_floor", "--mode", "tws"))]
    if index % 2:
        order_rss.reverse()
    for label, cmd in order_rss:
        result[f"{label}_idle_kb"] = _idle_rss(procs, settings, cmd, n)
    return result


def _summary(result: dict[str, Any]) -> str:
    return (
        f"deliveries/s mockfeed {result['mock_burst']['deliveries_per_s']:,.0f} "
        f"floor {result['floor_burst']['deliveries_per_s']:,.0f}; "
        f"at {result['rate_pushes_per_s']:.0f} pushes/s lag p99 mockfeed "
        f"{result['mock_half']['lag_p99_ms']:.1f} ms floor {result['floor_half']['lag_p99_ms']:.1f} ms "
        f"stuck {result['mock_stuck']['lag_p99_ms']:.1f} ms; idle conn "
        f"{result['mock_idle_kb']:.1f} KB (trio-websocket {result['tws_idle_kb']:.1f} KB)"
    )


def run(settings: Settings) -> list[Row]:
    """Interleaved runs; rows of the medians."""
    runs: list[dict[str, Any]] = []
    with Processes() as procs:
        for index in range(settings.runs):
            result = one_run(procs, settings, index)
            runs.append(result)
            print(f"   run {index + 1} {_summary(result)}", flush=True)
    n = settings.fanout_subscribers
    extra = {
        "subscribers": n,
        "path": STREAM_PATH,
        "window_s": settings.fanout_window,
        "runs": runs,
        "stuck_dropped_after_s": [r["stuck_dropped_after_s"] for r in runs],
    }

    def values(path: str) -> list[float]:
        out = []
        for r in runs:
            value: Any = r
            for key in path.split("."):
                value = value[key]
            out.append(float(value))
        return out

    def row(name: str, figure: str, unit: str, better: str, value: str, ceiling: str | None,
            note: str, **target: Any) -> Row:
        got = values(value)
        top = values(ceiling) if ceiling else []
        return Row(
            name=f"fanout.n{n}.{name}", figure=figure, value=median(got), unit=unit, better=better,
            ceiling=median(top) if top else None, ceiling_note=note, runs=got, ceiling_runs=top,
            extra=extra, **target,
        )

    deliveries = row(
        "deliveries", f"WS fan-out N={n} deliveries", "msg/s", "higher", "mock_burst.deliveries_per_s",
        "floor_burst.deliveries_per_s", "raw floor: frame once, send per socket",
        target=0.8, target_op=">=", target_on="ratio",
    )
    rate = median(values("rate_pushes_per_s"))
    return [
        deliveries,
        row("lag_p50_half", f"WS fan-out N={n} lag p50 at {rate:.0f} pushes/s", "ms", "lower",
            "mock_half.lag_p50_ms", "floor_half.lag_p50_ms", "raw floor, same rate"),
        row("lag_p99_half", f"WS fan-out N={n} lag p99 at {rate:.0f} pushes/s", "ms", "lower",
            "mock_half.lag_p99_ms", "floor_half.lag_p99_ms", "raw floor, same rate",
            target=10.0, target_op="<="),
        row("lag_p99_stuck", f"WS fan-out N={n} lag p99, one stuck subscriber", "ms", "lower",
            "mock_stuck.lag_p99_ms", "mock_half.lag_p99_ms", "same run without it",
            target=2.0, target_op="<=", target_on="ratio"),
        row("idle_conn", f"WS idle connection RSS (N={n})", "KB", "lower",
            "mock_idle_kb", "tws_idle_kb", "bare trio-websocket",
            target=16.0, target_op="<="),
    ]
