"""Figure 6: ``--workers N`` — REST klines (Binance, 1,000 rows) from 2 worker processes on the same
port against 1, at 50 connections, in one run (variants interleaved, medians).

Neither variant is pinned to a CPU (the workers must be free to spread); the load generator is
pinned as for the REST figure. On a machine with fewer cores than workers + load generator, the
workers share cores with the load generator and the ratio says so (see the CPU count in the header).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from benchmarks.common import Processes, Row, Settings, median, start_server
from benchmarks.rest import CONCURRENCY, WARMUP_SECONDS, fetch, load

NAME = "workers"
WORKERS = 2


def _cmd(workers: int) -> list[str]:
    return [sys.executable, "-m", "mockfeed", "--exchange", "binance_spot", "--port", "0",
            "--ws-port", "0", "--workers", str(workers)]


def run(settings: Settings) -> list[Row]:
    """Interleaved runs of 1 and 2 workers at the highest REST concurrency; one row."""
    connections = max(CONCURRENCY)
    results: dict[int, list[dict[str, Any]]] = {1: [], WORKERS: []}
    with Processes() as procs:
        servers = {}
        for workers in (1, WORKERS):
            child, ready = start_server(procs, _cmd(workers), None)
            status, _, body = fetch(ready.rest_port)
            if status != 200:
                raise RuntimeError(f"{workers} worker(s) answered {status}: {body[:200]!r}")
            servers[workers] = (ready.rest_port, child.pid)
            load(procs, settings, ready.rest_port, connections, WARMUP_SECONDS, child.pid)
        for index in range(settings.runs):
            order = [1, WORKERS] if index % 2 == 0 else [WORKERS, 1]
            for workers in order:
                port, pid = servers[workers]
                result = load(procs, settings, port, connections, settings.rest_seconds, pid)
                results[workers].append(result)
                print(f"   run {index + 1} workers={workers} {result['rps']:8.1f} req/s", flush=True)
    many = [r["rps"] for r in results[WORKERS]]
    one = [r["rps"] for r in results[1]]
    return [Row(
        name=f"workers.{WORKERS}.c{connections}", figure=f"REST klines c={connections}, {WORKERS} workers",
        value=median(many), unit="req/s", better="higher", ceiling=median(one),
        ceiling_note=f"1 worker, same run; {os.cpu_count()} CPUs", target=1.8, target_op=">=",
        target_on="ratio", runs=many, ceiling_runs=one,
        extra={"connections": connections, "cpus": os.cpu_count(), "runs": results},
    )]
