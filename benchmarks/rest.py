"""Figure 1: REST klines throughput against a hypercorn-on-trio server of precomputed bytes.

Three cases (:data:`CASES`): Binance spot, 1,000 rows oldest first, and OKX spot, 300 rows newest
first (OKX's cap), each against its own ceiling; then Binance again with a different page on every
request (600 pages in turn, by ``endTime``, at 50 connections), so no answer is reused and every page is joined from
cached rows: that is what clients asking for different windows get (it reports; no target).

Both servers run as subprocesses pinned to one core, the load generator (``wrk``, or
:mod:`benchmarks.loadgen`) to the other. Runs are interleaved (mockfeed and ceiling alternate, in
alternating order) and the medians of the runs are reported. The ceiling serves the exact bytes
and headers of one real mockfeed response, so the ratio is what mockfeed's own work costs.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import (
    HOST,
    CpuSampler,
    MachineSampler,
    Processes,
    Row,
    Settings,
    median,
    mockfeed_cmd,
    module_cmd,
    start_server,
)

NAME = "rest"


@dataclass(frozen=True)
class Case:
    """One REST figure: which product, which request, which of its headers the ceiling repeats."""

    key: str  # row names: rest[.KEY].cN.requests (Binance keeps the original names)
    label: str
    exchange: str
    path: str
    headers: tuple[str, ...]
    pages: int = 1  # > 1: that many pages in turn, ending a minute apart (answers never reused)
    target: float | None = 0.9
    concurrency: tuple[int, ...] = (1, 50)

    def paths(self, now_ms: int) -> list[str]:
        """The request paths: :attr:`path`, or :attr:`pages` of them ending a day before ``now_ms``."""
        if self.pages == 1:
            return [self.path]
        last = (now_ms // MINUTE_MS - 1440) * MINUTE_MS
        return [f"{self.path}&endTime={last - i * MINUTE_MS}" for i in range(self.pages)]


CASES = (
    Case("", "Binance", "binance_spot", "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000",
         ("x-mbx-used-weight-1m",)),
    Case("okx", "OKX", "okx_spot", "/api/v5/market/candles?instId=BTC-USDT&bar=1m&limit=300", ()),
    Case("pages", "Binance, 600 pages in turn", "binance_spot",
         "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000", ("x-mbx-used-weight-1m",),
         pages=600, target=None, concurrency=(50,)),
)
MINUTE_MS = 60_000
PATH = CASES[0].path
CONCURRENCY = (1, 50)  # the full set (the many-pages case runs the highest only)
WARMUP_SECONDS = 1.0
SATURATED = 0.85  # ceiling server CPU use (cores) at top concurrency: the load generator keeps up
BUSY_ELSEWHERE = 0.25  # cores used by other processes during a run above which results are noisy

_WRK_TOTAL = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b")
_WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_WRK_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def fetch(port: int, path: str = PATH) -> tuple[int, list[tuple[str, str]], bytes]:
    """One GET: status, headers, body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def _wrk_script(paths: list[str]) -> str:
    """A wrk Lua script sending ``paths`` in turn (written once per set of paths)."""
    listed = ", ".join(json.dumps(p) for p in paths)
    text = (
        f"local paths = {{{listed}}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n  return wrk.format(\"GET\", paths[(i % #paths) + 1])\nend\n"
    )
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    script = Path(tempfile.gettempdir()) / f"mockfeed-bench-{digest}.lua"
    if not script.exists():
        script.write_text(text)
    return str(script)


def parse_wrk(text: str) -> dict[str, float]:
    """Requests, seconds, requests/s and error counts from wrk's report."""
    total = _WRK_TOTAL.search(text)
    if total is None:
        raise RuntimeError(f"cannot read wrk output: {text!r}")
    requests = int(total.group(1))
    seconds = float(total.group(2)) * _UNIT[total.group(3)]
    non_2xx = _WRK_NON2XX.search(text)
    errors = _WRK_ERRORS.search(text)
    return {
        "requests": requests,
        "seconds": seconds,
        "rps": requests / seconds if seconds else 0.0,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "errors": sum(int(g) for g in errors.groups()) if errors else 0,
    }


def load(
    procs: Processes, settings: Settings, port: int, connections: int, seconds: float,
    server_pid: int, path: str | list[str] = PATH,
) -> dict[str, Any]:
    """One load run against ``port`` (several paths: taken in turn); its counts and the server's
    CPU utilisation mid-run."""
    paths = [path] if isinstance(path, str) else path
    if settings.loadgen == "wrk":
        cmd = [
            "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
            *(["-s", _wrk_script(paths)] if len(paths) > 1 else []), f"http://{HOST}:{port}{paths[0]}",
        ]
        lead = 0.2
    else:
        cmd = module_cmd(
            "loadgen", "--port", str(port), *(a for p in paths for a in ("--path", p)),
            "--connections", str(connections), "--duration", str(seconds), "--warmup", "0.3",
        )
        lead = 0.6  # interpreter start and warm-up
    child = procs.start(cmd, cpu=settings.load_cpu)
    try:
        time.sleep(lead)
        server_sampler, client_sampler = CpuSampler(server_pid), CpuSampler(child.pid)
        machine = MachineSampler()
        time.sleep(max(0.2, seconds * 0.7))
        utilisation = server_sampler.utilisation()
        client_utilisation = client_sampler.utilisation()
        elsewhere = max(0.0, machine.busy() - utilisation - client_utilisation)
        child.wait(seconds + 30)
        assert child.popen.stdout is not None
        output = child.popen.stdout.read().decode()
        if child.popen.returncode != 0:
            raise RuntimeError(f"load generator failed: {child.describe()}")
    finally:
        procs.stop(child)
    result: dict[str, Any] = (
        parse_wrk(output) if settings.loadgen == "wrk" else json.loads(output.strip().splitlines()[-1])
    )
    result["server_cpu"] = utilisation
    result["loadgen_cpu"] = client_utilisation
    result["other_cpu"] = elsewhere
    if result["non_2xx"] or result["errors"]:
        raise RuntimeError(f"load run had failures: {result}")
    return result


def run(settings: Settings) -> list[Row]:
    """Every case of :data:`CASES`: rows for requests/s and candles/s beside their ceilings."""
    rows: list[Row] = []
    for case in CASES:
        print(f"   {case.label}: {case.path}", flush=True)
        rows.extend(run_case(settings, case))
    return rows


def run_case(settings: Settings, case: Case) -> list[Row]:
    """Measure mockfeed and the ceiling at each concurrency for one case."""
    with Processes() as procs, tempfile.TemporaryDirectory(prefix="mockfeed-bench-") as tmp:
        mockfeed, mf_ready = start_server(procs, mockfeed_cmd(case.exchange), settings.server_cpu)
        paths = case.paths(int(time.time() * 1000))
        status, headers, body = fetch(mf_ready.rest_port, paths[0])
        if status != 200:
            raise RuntimeError(f"mockfeed answered {status}: {body[:200]!r}")
        candles = _count_candles(body)
        body_file = Path(tmp) / "klines.json"
        body_file.write_bytes(body)
        # The ceiling sends the same headers, Content-Length included (else hypercorn would chunk).
        repeated = ("content-type", "content-length", *case.headers)
        kept = [(k, v) for k, v in headers if k.lower() in repeated]
        header_args = [arg for k, v in kept for arg in ("--header", f"{k}: {v}")]
        ceiling, ceil_ready = start_server(
            procs, module_cmd("ceiling_server", "--body", str(body_file), *header_args),
            settings.server_cpu,
        )
        c_status, _, c_body = fetch(ceil_ready.rest_port, paths[0])
        if c_status != 200 or c_body != body:
            raise RuntimeError("the ceiling server does not serve mockfeed's bytes")
        servers = {
            "mockfeed": (mf_ready.rest_port, mockfeed.pid),
            "ceiling": (ceil_ready.rest_port, ceiling.pid),
        }
        for port, pid in servers.values():  # warm up: model caches, allocator, connections
            load(procs, settings, port, max(CONCURRENCY), WARMUP_SECONDS * min(case.pages, 2), pid, paths)
        results: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for index in range(settings.runs):
            for connections in case.concurrency:
                order = ["mockfeed", "ceiling"] if index % 2 == 0 else ["ceiling", "mockfeed"]
                for label in order:
                    port, pid = servers[label]
                    result = load(procs, settings, port, connections, settings.rest_seconds, pid, paths)
                    results.setdefault((label, connections), []).append(result)
                    print(
                        f"   run {index + 1} c={connections:<3} {label:<8} "
                        f"{result['rps']:8.1f} req/s  cpu: server {result['server_cpu']:.2f} "
                        f"load {result['loadgen_cpu']:.2f} other {result['other_cpu']:.2f}",
                        flush=True,
                    )
    rows: list[Row] = []
    prefix = f"rest.{case.key}." if case.key else "rest."
    for connections in case.concurrency:
        mf_runs = [r["rps"] for r in results[("mockfeed", connections)]]
        ceil_runs = [r["rps"] for r in results[("ceiling", connections)]]
        ceil_cpu = median([r["server_cpu"] for r in results[("ceiling", connections)]])
        other = median([r["other_cpu"] for key, rs in results.items() for r in rs
                        if key[1] == connections])
        extra = {
            "connections": connections,
            "exchange": case.exchange,
            "path": case.path,
            "candles_per_response": candles,
            "response_bytes": len(body),
            "loadgen": settings.loadgen,
            "seconds_per_run": settings.rest_seconds,
            "mockfeed_server_cpu": median(
                [r["server_cpu"] for r in results[("mockfeed", connections)]]
            ),
            "ceiling_server_cpu": ceil_cpu,
            "ceiling_saturated": ceil_cpu >= SATURATED,
            "paired_ratios": [m / c for m, c in zip(mf_runs, ceil_runs, strict=True) if c],
            # Requests per second of server CPU: steadier than req/s when other work shares the core.
            "cpu_ratio": _per_cpu(results[("mockfeed", connections)])
            / max(_per_cpu(results[("ceiling", connections)]), 1e-9),
            "other_cpu": other,
            "mockfeed_runs": results[("mockfeed", connections)],
            "ceiling_runs": results[("ceiling", connections)],
        }
        if connections == max(CONCURRENCY) and ceil_cpu < SATURATED:
            print(
                f"   warning: at c={connections} the ceiling server used only {ceil_cpu:.2f} of a "
                "core: the load generator may be the limit",
                flush=True,
            )
        if other > BUSY_ELSEWHERE:
            print(
                f"   warning: other processes used {other:.2f} cores during the c={connections} "
                "runs: numbers are noisy",
                flush=True,
            )
        print(
            f"   c={connections}: median ratio {median(mf_runs) / max(median(ceil_runs), 1e-9):.2f}, "
            f"per server CPU-second {extra['cpu_ratio']:.2f}",
            flush=True,
        )
        figure = f"REST {case.label} klines c={connections}"
        rows.append(_row(f"{prefix}c{connections}.requests", figure, "req/s", mf_runs,
                         ceil_runs, extra, case.target))
        rows.append(_row(
            f"{prefix}c{connections}.candles", figure, "candles/s",
            [r * candles for r in mf_runs], [r * candles for r in ceil_runs],
            {"connections": connections, "candles_per_response": candles}, case.target,
        ))
    return rows


def _per_cpu(runs: list[dict[str, Any]]) -> float:
    """Median requests per server CPU-second over ``runs``."""
    return median([r["rps"] / r["server_cpu"] for r in runs if r["server_cpu"] > 0] or [0.0])


def _count_candles(body: bytes) -> int:
    """Rows in a klines answer: a bare JSON array, or an envelope's ``data`` array (OKX)."""
    parsed = json.loads(body)
    return len(parsed["data"] if isinstance(parsed, dict) else parsed)


def _row(
    name: str, figure: str, unit: str, runs: list[float], ceiling_runs: list[float],
    extra: dict[str, Any], target: float | None,
) -> Row:
    return Row(
        name=name, figure=figure, value=median(runs), unit=unit,
        better="higher", ceiling=median(ceiling_runs), target=target, target_op=">=",
        target_on="ratio", runs=runs, ceiling_runs=ceiling_runs, extra=extra,
    )


def loadgen_available() -> str:
    """``wrk`` when installed, else ``python``."""
    return "wrk" if shutil.which("wrk") else "python"
