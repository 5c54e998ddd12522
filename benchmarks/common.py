"""Shared helpers: settings, pinned subprocesses that are always killed, /proc readings, rows."""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

HOST = "127.0.0.1"
PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent
RESULTS_DIR = PACKAGE_DIR / "results"
READY_TIMEOUT = 30.0  # seconds a server gets to print its ready line
STOP_TIMEOUT = 5.0  # seconds a child gets after SIGTERM before SIGKILL

_READY = re.compile(r"^(?P<name>\S+) rest=(?P<rest>\S+)(?: ws=(?P<ws>\S+))?$")


@dataclass(frozen=True)
class Settings:
    """How a benchmark run is shaped (short defaults, or ``--long``)."""

    long: bool
    runs: int
    server_cpu: int | None
    load_cpu: int | None
    loadgen: str  # "wrk" or "python"
    rest_seconds: float
    fanout_subscribers: int
    fanout_window: float
    model_random_samples: int
    model_newest_samples: int


def pick_cpus() -> tuple[int | None, int | None]:
    """(server core, load core) when ``taskset`` exists and two cores are available."""
    if shutil.which("taskset") is None:
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return cpus[0], cpus[1]


def pinned(cmd: Sequence[str], cpu: int | None) -> list[str]:
    """``cmd`` prefixed with ``taskset -c CPU`` (taskset execs, so the pid stays the command's)."""
    return list(cmd) if cpu is None else ["taskset", "-c", str(cpu), *cmd]


def mockfeed_cmd(exchange: str = "binance_spot") -> list[str]:
    """The mockfeed CLI on ephemeral ports, with this interpreter (not a shim)."""
    return [sys.executable, "-m", "mockfeed", "--exchange", exchange, "--port", "0", "--ws-port", "0"]


def module_cmd(module: str, *args: str) -> list[str]:
    """``python -m benchmarks.MODULE ARGS`` with this interpreter."""
    return [sys.executable, "-m", f"benchmarks.{module}", *args]


def _die_with_parent() -> None:
    """In the child before exec: get SIGKILL should the benchmark process die (Linux only)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Child:
    """A subprocess with line-wise, time-bounded reading of its stdout; stderr kept in a file."""

    def __init__(self, cmd: Sequence[str], *, stdin: bool = False) -> None:
        self.cmd = list(cmd)
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop)
        self.popen = subprocess.Popen(
            self.cmd,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=ROOT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        self._buffer = b""

    @property
    def pid(self) -> int:
        """The process id."""
        return self.popen.pid

    def readline(self, timeout: float) -> str:
        """The next stdout line; raises :class:`RuntimeError` on timeout or end of output."""
        assert self.popen.stdout is not None
        fd = self.popen.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"no line within {timeout}s from {self.describe()}")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError(f"output ended early from {self.describe()}")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode().rstrip("\r")

    def write_line(self, text: str) -> None:
        """Write one line to the child's stdin."""
        assert self.popen.stdin is not None
        self.popen.stdin.write(text.encode() + b"\n")
        self.popen.stdin.flush()

    def wait(self, timeout: float) -> int:
        """Wait for exit (killing it after ``timeout``); the exit status."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise RuntimeError(f"{self.describe()} did not finish within {timeout}s") from None

    def stderr_tail(self, size: int = 2000) -> str:
        """The last ``size`` characters the child wrote to stderr."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-size:]

    def describe(self) -> str:
        """The command and, when it has exited, its status and stderr tail."""
        text = " ".join(self.cmd)
        code = self.popen.poll()
        if code is not None:
            text += f" (exit {code}; stderr: {self.stderr_tail(600)!r})"
        return text

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after :data:`STOP_TIMEOUT`; always reaps."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.terminate()
            try:
                self.popen.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.popen.kill()
                self.popen.wait()
        for stream in (self.popen.stdin, self.popen.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._stderr.close()


class Processes:
    """Every child a benchmark starts; all are stopped when the ``with`` block ends, error or not."""

    def __init__(self) -> None:
        self._children: list[Child] = []

    def start(self, cmd: Sequence[str], *, cpu: int | None = None, stdin: bool = False) -> Child:
        """Start ``cmd`` (pinned to ``cpu`` when given) and track it."""
        child = Child(pinned(cmd, cpu), stdin=stdin)
        self._children.append(child)
        return child

    def stop(self, child: Child) -> None:
        """Stop one child now."""
        child.stop()
        if child in self._children:
            self._children.remove(child)

    def close(self) -> None:
        """Stop every child still tracked, newest first."""
        while self._children:
            self._children.pop().stop()

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass(frozen=True)
class Ready:
    """A parsed ready line: ``NAME rest=http://H:P ws=ws://H:Q``."""

    name: str
    rest_port: int
    ws_port: int | None


def parse_ready(line: str) -> Ready:
    """Parse a ready line; :class:`RuntimeError` if it is not one."""
    match = _READY.match(line.strip())
    if match is None:
        raise RuntimeError(f"not a ready line: {line!r}")
    ws = match.group("ws")
    return Ready(
        name=match.group("name"),
        rest_port=int(match.group("rest").rsplit(":", 1)[1]),
        ws_port=int(ws.rsplit(":", 1)[1]) if ws else None,
    )


def start_server(procs: Processes, cmd: Sequence[str], cpu: int | None) -> tuple[Child, Ready]:
    """Start a server child and wait for its ready line."""
    child = procs.start(cmd, cpu=cpu)
    return child, parse_ready(child.readline(READY_TIMEOUT))


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds used so far by ``pid`` (from /proc/PID/stat)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    """Resident set size of ``pid`` in kB (VmRSS from /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


class CpuSampler:
    """CPU utilisation of one process over a wall-clock span (1.0 = one core busy)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._cpu = cpu_seconds(pid)
        self._wall = time.monotonic()

    def utilisation(self) -> float:
        """CPU seconds per wall second since construction."""
        return (cpu_seconds(self.pid) - self._cpu) / max(1e-9, time.monotonic() - self._wall)


def _machine_jiffies() -> tuple[int, int, int]:
    """(busy, steal, total) jiffies of the whole machine from the first line of /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(fields[:8])
    idle = fields[3] + fields[4]
    return total - idle, fields[7], total


class MachineSampler:
    """Busy cores of the whole machine over a span, to tell our load from anyone else's."""

    def __init__(self) -> None:
        self._start = _machine_jiffies()
        self._wall = time.monotonic()

    def busy(self) -> float:
        """Cores busy on average since construction (steal time included)."""
        busy = _machine_jiffies()[0] - self._start[0]
        return busy / os.sysconf("SC_CLK_TCK") / max(1e-9, time.monotonic() - self._wall)


def median(values: Sequence[float]) -> float:
    """The median (NaN for no values)."""
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation (NaN for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass
class Row:
    """One line of the results table.

    ``ratio`` is value/ceiling where a ceiling was measured, else value/target. A target applies to
    ``target_on`` ("ratio" for REST: ≥ 0.9 × ceiling; "value" for the others) with ``target_op``.
    """

    name: str
    figure: str
    value: float
    unit: str
    better: str  # "higher" or "lower"
    ceiling: float | None = None
    ceiling_note: str = ""
    target: float | None = None
    target_op: str = ""  # ">=" or "<="
    target_on: str = "value"
    runs: list[float] = field(default_factory=list)
    ceiling_runs: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """value / ceiling, or value / target when there is no ceiling."""
        base = self.ceiling if self.ceiling is not None else self.target
        if base is None or (self.target_on == "ratio" and self.ceiling is None):
            return None
        return self.value / base if base else None

    @property
    def passed(self) -> bool | None:
        """Whether the target holds (None without a target)."""
        if self.target is None:
            return None
        subject = self.ratio if self.target_on == "ratio" else self.value
        if subject is None:
            return None
        return subject >= self.target if self.target_op == ">=" else subject <= self.target

    def target_text(self) -> str:
        """The target as shown in the table."""
        if self.target is None:
            return "-"
        op = "≥" if self.target_op == ">=" else "≤"
        if self.target_on == "ratio":
            return f"{op}{self.target:g}× ceiling"
        return f"{op}{self.target:g} {self.unit}"

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "name": self.name,
            "figure": self.figure,
            "value": self.value,
            "unit": self.unit,
            "better": self.better,
            "ceiling": self.ceiling,
            "ceiling_note": self.ceiling_note,
            "ratio": self.ratio,
            "target": self.target,
            "target_op": self.target_op,
            "target_on": self.target_on,
            "passed": self.passed,
            "runs": self.runs,
            "ceiling_runs": self.ceiling_runs,
            "extra": self.extra,
        }


def fmt(value: float | None) -> str:
    """A number with about three significant figures, thousands separated."""
    if value is None:
        return "-"
    if value != value:  # NaN
        return "nan"
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain text table, first column left-aligned, the rest right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def results_table(rows: Sequence[Row]) -> str:
    """The results table: figure, value, unit, ceiling, ratio, target, pass/fail."""
    cells = []
    for row in rows:
        ceiling = fmt(row.ceiling) if row.ceiling is not None else row.ceiling_note or "-"
        verdict = {True: "pass", False: "FAIL", None: "-"}[row.passed]
        ratio = row.ratio
        cells.append([
            row.figure, fmt(row.value), row.unit, ceiling,
            "-" if ratio is None else f"{ratio:.2f}", row.target_text(), verdict,
        ])
    headers = ["figure", "value", "unit", "ceiling", "ratio", "target", "pass/fail"]
    return table(headers, cells)


@contextlib.contextmanager
def phase(title: str) -> Iterator[None]:
    """Print a progress line around a phase, with its wall time."""
    print(f"-- {title} ...", flush=True)
    started = time.monotonic()
    try:
        yield
    finally:
        print(f"   {title}: {time.monotonic() - started:.1f}s", flush=True)
