"""Figure 4: startup time (process start to ready line) and RSS right after, for binance_spot, and
for all 17 products in one process (``--exchange all``, to the last ready line; target 1 s).

The ceiling is :mod:`benchmarks.ceiling_server` with ``--ws``: the same interpreter importing
trio, hypercorn and trio-websocket and opening both listeners, with nothing of mockfeed's own.
Ratios are value / ceiling (so above 1 means slower or larger than the bare stack).
"""

from __future__ import annotations

import time

from benchmarks.common import (
    READY_TIMEOUT,
    Processes,
    Row,
    Settings,
    median,
    mockfeed_cmd,
    module_cmd,
    parse_ready,
    rss_kb,
)

NAME = "startup"
EXCHANGE = "binance_spot"
TARGET_SECONDS = 0.3
TARGET_MB = 50.0
TARGET_ALL_SECONDS = 1.0


def launch_all(procs: Processes) -> tuple[float, float]:
    """``--exchange all``: (seconds to the last ready line, RSS in MB right then)."""
    from mockfeed.exchanges import available

    cmd = [*mockfeed_cmd(EXCHANGE)[:3], "--exchange", "all", "--port", "0", "--ws-port", "0"]
    started = time.perf_counter()
    child = procs.start(cmd)
    try:
        for _ in available():
            parse_ready(child.readline(READY_TIMEOUT))
        elapsed = time.perf_counter() - started
        rss = rss_kb(child.pid) / 1024
    finally:
        procs.stop(child)
    return elapsed, rss


def launch(procs: Processes, cmd: list[str]) -> tuple[float, float]:
    """Start ``cmd``; (seconds to its ready line, RSS in MB right then). It is stopped after."""
    started = time.perf_counter()
    child = procs.start(cmd)
    try:
        parse_ready(child.readline(READY_TIMEOUT))
        elapsed = time.perf_counter() - started
        rss = rss_kb(child.pid) / 1024
    finally:
        procs.stop(child)
    return elapsed, rss


def run(settings: Settings) -> list[Row]:
    """Interleaved launches of mockfeed and the ceiling; rows for time and RSS."""
    commands = {
        "mockfeed": mockfeed_cmd(EXCHANGE),
        "ceiling": module_cmd("ceiling_server", "--ws"),
    }
    times: dict[str, list[float]] = {"mockfeed": [], "ceiling": [], "all": []}
    rss: dict[str, list[float]] = {"mockfeed": [], "ceiling": [], "all": []}
    with Processes() as procs:
        launch(procs, commands["ceiling"])  # warm the page cache for both import sets
        launch(procs, commands["mockfeed"])
        for index in range(settings.runs):
            order = ["mockfeed", "ceiling"] if index % 2 == 0 else ["ceiling", "mockfeed"]
            for label in order:
                seconds, mb = launch(procs, commands[label])
                times[label].append(seconds)
                rss[label].append(mb)
            seconds, mb = launch_all(procs)
            times["all"].append(seconds)
            rss["all"].append(mb)
            print(
                f"   run {index + 1} mockfeed {times['mockfeed'][-1] * 1000:6.0f} ms "
                f"{rss['mockfeed'][-1]:5.1f} MB   ceiling {times['ceiling'][-1] * 1000:6.0f} ms "
                f"{rss['ceiling'][-1]:5.1f} MB",
                flush=True,
            )
    extra = {"exchange": EXCHANGE, "rss_read": "VmRSS right after the ready line"}
    return [
        Row(
            name="startup.ready", figure=f"startup {EXCHANGE} to ready",
            value=median(times["mockfeed"]), unit="s", better="lower",
            ceiling=median(times["ceiling"]),
            target=TARGET_SECONDS, target_op="<=", runs=times["mockfeed"],
            ceiling_runs=times["ceiling"], extra=extra,
        ),
        Row(
            name="startup.rss", figure=f"startup {EXCHANGE} RSS", value=median(rss["mockfeed"]),
            unit="MB", better="lower", ceiling=median(rss["ceiling"]), target=TARGET_MB,
            target_op="<=", runs=rss["mockfeed"], ceiling_runs=rss["ceiling"], extra=extra,
        ),
        Row(
            name="startup.all_ready", figure="startup --exchange all (17) to the last ready line",
            value=median(times["all"]), unit="s", better="lower", target=TARGET_ALL_SECONDS,
            target_op="<=", runs=times["all"], extra={"rss_mb": median(rss["all"])},
        ),
    ]
