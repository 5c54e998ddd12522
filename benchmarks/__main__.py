"""``python -m benchmarks [--long] [--only NAME] [--compare OLD.json]``: run, print, save."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from benchmarks import fanout, faults, model, rest, startup, workers
from benchmarks.common import (
    RESULTS_DIR,
    ROOT,
    MachineSampler,
    Row,
    Settings,
    fmt,
    phase,
    pick_cpus,
    results_table,
    table,
)

FIGURES: dict[str, Callable[[Settings], list[Row]]] = {
    model.NAME: model.run,
    startup.NAME: startup.run,
    rest.NAME: rest.run,
    fanout.NAME: fanout.run,
    faults.NAME: faults.run,
    workers.NAME: workers.run,
}


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="mockfeed benchmarks, each beside a ceiling measured in the same run.",
    )
    parser.add_argument("--long", action="store_true", help="longer runs, 1000 WS subscribers")
    parser.add_argument(
        "--only", action="append", choices=list(FIGURES), metavar="NAME",
        help=f"run only this figure (repeatable): {', '.join(FIGURES)}",
    )
    parser.add_argument("--compare", type=Path, metavar="OLD.json", help="print the change vs OLD")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs per figure (3)")
    parser.add_argument(
        "--loadgen", choices=["auto", "wrk", "python"], default="auto",
        help="REST load generator (auto: wrk when installed)",
    )
    parser.add_argument("--subscribers", type=int, help="WS fan-out subscribers (default 1000, as the targets are stated)")
    parser.add_argument("--output", type=Path, help="JSON path (default benchmarks/results/...)")
    return parser


def make_settings(args: argparse.Namespace) -> Settings:
    """Settings from the arguments and the machine."""
    server_cpu, load_cpu = pick_cpus()
    loadgen = rest.loadgen_available() if args.loadgen == "auto" else args.loadgen
    return Settings(
        long=args.long,
        runs=max(1, args.runs),
        server_cpu=server_cpu,
        load_cpu=load_cpu,
        loadgen=loadgen,
        rest_seconds=10.0 if args.long else 2.0,
        fanout_subscribers=args.subscribers or 1000,
        fanout_window=20.0 if args.long else 4.0,
        model_random_samples=100 if args.long else 15,
        model_newest_samples=200 if args.long else 30,
    )


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _meta(settings: Settings, started: str, figures: Sequence[str]) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        mockfeed_version = version("mockfeed")
    except PackageNotFoundError:
        mockfeed_version = None
    return {
        "started": started,
        "mode": "long" if settings.long else "default",
        "figures": list(figures),
        "git_commit": _git_commit(),
        "mockfeed_version": mockfeed_version,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "server_cpu": settings.server_cpu,
        "load_cpu": settings.load_cpu,
        "loadgen": settings.loadgen,
        "settings": settings.__dict__,
    }


def compare(rows: Sequence[dict[str, Any]], old_path: Path) -> str:
    """A table of each figure's change against an earlier results file.

    Values move with the machine; ratios to a ceiling measured in the same run move much less,
    so both are shown. Changes within 5% are called "~same".
    """
    old = {row["name"]: row for row in json.loads(old_path.read_text())["results"]}
    cells = []
    for row in rows:
        before = old.get(row["name"])
        if before is None:
            cells.append([row["figure"], "-", fmt(row["value"]), row["unit"], "", "-",
                          _ratio(row), "new"])
            continue
        change = (row["value"] - before["value"]) / before["value"] if before["value"] else 0.0
        improved = change > 0 if row["better"] == "higher" else change < 0
        verdict = "~same" if abs(change) < 0.05 else "better" if improved else "worse"
        cells.append([
            row["figure"], fmt(before["value"]), fmt(row["value"]), row["unit"], f"{change:+.1%}",
            _ratio(before), _ratio(row), verdict,
        ])
    missing = [name for name in old if name not in {row["name"] for row in rows}]
    headers = ["figure", "old", "new", "unit", "change", "old ratio", "new ratio", "verdict"]
    text = table(headers, cells)
    if missing:
        text += "\nnot in this run: " + ", ".join(missing)
    return text


def _ratio(row: dict[str, Any]) -> str:
    ratio = row.get("ratio")
    return "-" if ratio is None else f"{ratio:.2f}"


def _plain(value: Any) -> Any:
    """``value`` with NaN floats as None, so the JSON is standard."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # so every ``finally`` runs and children are stopped


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen figures, print the table, save JSON; 1 if a figure failed to run."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.compare is not None and not args.compare.is_file():
        parser.error(f"--compare: no such file {args.compare}")
    signal.signal(signal.SIGTERM, _terminate)
    settings = make_settings(args)
    names = args.only or list(FIGURES)
    started = dt.datetime.now(dt.UTC)
    pinning = (
        f"servers on cpu {settings.server_cpu}, load on cpu {settings.load_cpu}"
        if settings.server_cpu is not None else "no pinning (taskset or a second core missing)"
    )
    print(
        f"mockfeed benchmarks ({'long' if settings.long else 'default'}): {', '.join(names)}; "
        f"{settings.runs} interleaved runs; REST load by {settings.loadgen}; {pinning}",
        flush=True,
    )
    sampler = MachineSampler()
    time.sleep(1.0)
    busy_before = sampler.busy()
    if busy_before > 0.25:
        print(f"warning: the machine was already using {busy_before:.2f} cores before the run")
    rows: list[Row] = []
    failures: dict[str, str] = {}
    clock = time.monotonic()
    for name in names:
        try:
            with phase(name):
                rows.extend(FIGURES[name](settings))
        except Exception as error:
            traceback.print_exc()
            failures[name] = f"{type(error).__name__}: {error}"
    total = time.monotonic() - clock
    print()
    print(results_table(rows) if rows else "no results")
    print(
        "ratio = value/ceiling where a ceiling is measured in this run (REST: share of the ceiling "
        "reached; startup: times the bare trio+hypercorn+trio-websocket process), else "
        "value/target (model); WS fan-out: the raw frame-once floor (deliveries, lag), the run "
        "without the stuck subscriber (isolation), bare trio-websocket (idle memory)"
    )
    for name, error in failures.items():
        print(f"FAILED to run {name}: {error}")
    payload = {
        "meta": {
            **_meta(settings, started.isoformat(), names),
            "seconds": total,
            "busy_cores_before": busy_before,
        },
        "results": [row.as_dict() for row in rows],
        "failures": failures,
    }
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    suffix = ("-long" if settings.long else "") + ("-" + "-".join(args.only) if args.only else "")
    output = args.output or RESULTS_DIR / f"{stamp}{suffix}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(_plain(payload), indent=2, default=str) + "\n")
    print(f"\nwrote {output} ({total:.0f}s)")
    if args.compare is not None:
        print(f"\nchange against {args.compare}:")
        print(compare(payload["results"], args.compare))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
