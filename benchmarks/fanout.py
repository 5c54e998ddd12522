"""Figure 3: WebSocket fan-out of one stream to N subscribers, deliveries/s and push lag.

mockfeed runs pinned to one core; the subscribers (:mod:`benchmarks.wsclient`, raw sockets) run
in one or two processes pinned to the other. Every run opens fresh subscribers, starts a common
window at a half-second mark (pushes of a 1s stream go out at whole seconds, so the window holds
exactly ``window`` rounds) and counts deliveries inside it. Lag is receive time minus the push's
``"E"`` event time. No ceiling in this version.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from benchmarks.common import (
    Child,
    CpuSampler,
    Processes,
    Row,
    Settings,
    median,
    mockfeed_cmd,
    module_cmd,
    percentile,
    start_server,
)

NAME = "fanout"
STREAM = "btcusdt@kline_1s"
PER_PROCESS = 500  # subscribers per client process
LEAD = 1.0  # seconds at least between sending the start time and the window


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if k < total % parts else 0) for k in range(parts)]


def one_run(
    procs: Processes, settings: Settings, ws_port: int, server_pid: int
) -> dict[str, Any]:
    """One window with fresh subscribers: counts, lags and server CPU."""
    n, window = settings.fanout_subscribers, settings.fanout_window
    shares = _split(n, max(1, math.ceil(n / PER_PROCESS)))
    clients: list[Child] = []
    try:
        for share in shares:
            clients.append(procs.start(
                module_cmd(
                    "wsclient", "--port", str(ws_port), "--path", f"/ws/{STREAM}",
                    "--n", str(share), "--window", str(window),
                ),
                cpu=settings.load_cpu, stdin=True,
            ))
        for client in clients:
            line = client.readline(90)
            if not line.startswith("ready"):
                raise RuntimeError(f"unexpected client line {line!r}")
        start = math.floor(time.time() + LEAD) + 0.5
        for client in clients:
            client.write_line(repr(start))
        time.sleep(max(0.0, start - time.time()))
        sampler = CpuSampler(server_pid)
        time.sleep(max(0.0, start + window - time.time()))
        server_cpu = sampler.utilisation()
        results = [json.loads(client.readline(window + 30)) for client in clients]
    finally:
        for client in clients:
            procs.stop(client)
    lags = [lag for r in results for lag in r["lags_ms"]]
    count = sum(r["count"] for r in results)
    return {
        "deliveries": count,
        "expected": n * round(window),
        "deliveries_per_s": count / window,
        "lag_p50_ms": percentile(lags, 50),
        "lag_p99_ms": percentile(lags, 99),
        "lag_max_ms": max(lags) if lags else float("nan"),
        "closes": sum(r["closes"] for r in results),
        "server_cpu": server_cpu,
        "client_processes": len(clients),
    }


def run(settings: Settings) -> list[Row]:
    """Runs with fresh subscribers each time; rows of the medians."""
    runs: list[dict[str, Any]] = []
    with Processes() as procs:
        server, ready = start_server(procs, mockfeed_cmd(), settings.server_cpu)
        assert ready.ws_port is not None
        for index in range(settings.runs):
            result = one_run(procs, settings, ready.ws_port, server.pid)
            runs.append(result)
            print(
                f"   run {index + 1} {result['deliveries']}/{result['expected']} deliveries  "
                f"lag p50 {result['lag_p50_ms']:.1f} ms p99 {result['lag_p99_ms']:.1f} ms  "
                f"server cpu {result['server_cpu']:.0%}",
                flush=True,
            )
    n = settings.fanout_subscribers
    extra = {
        "subscribers": n,
        "stream": STREAM,
        "window_s": settings.fanout_window,
        "runs": runs,
        "server_cpu": median([r["server_cpu"] for r in runs]),
    }

    def row(key: str, name: str, figure: str, unit: str, better: str) -> Row:
        values = [float(r[key]) for r in runs]
        return Row(
            name=name, figure=figure, value=median(values), unit=unit, better=better,
            ceiling_note="none (v1)", runs=values, extra=extra,
        )

    return [
        row("deliveries_per_s", f"fanout.n{n}.deliveries", f"WS fan-out N={n} deliveries", "msg/s",
            "higher"),
        row("lag_p50_ms", f"fanout.n{n}.lag_p50", f"WS fan-out N={n} lag p50", "ms", "lower"),
        row("lag_p99_ms", f"fanout.n{n}.lag_p99", f"WS fan-out N={n} lag p99", "ms", "lower"),
    ]
