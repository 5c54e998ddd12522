"""The live terminal view: drawn when stdout is a terminal, absent otherwise or with --no-live."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
import urllib.request


def _run_on_a_terminal(*args: str, seconds: float = 3.0) -> tuple[str, int]:
    """Run the CLI with stdout on a pseudo-terminal for ``seconds``, then SIGINT; (output, status)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "mockfeed", "--port", "0", "--ws-port", "0", *args],
        stdout=follower, stderr=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "160", "TERM": "xterm"},
    )
    os.close(follower)
    output = b""
    deadline = time.monotonic() + seconds
    asked = False
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.1)
            if ready:
                try:
                    output += os.read(leader, 65536)
                except OSError:
                    break
            text = output.decode(errors="replace")
            if not asked and "rest=" in text:
                url = text.split("rest=", 1)[1].split()[0]
                with urllib.request.urlopen(url + "/api/v3/time"):
                    asked = True
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    return output.decode(errors="replace"), status


def test_the_live_view_is_drawn_on_a_terminal() -> None:
    """On a terminal the table shows every column and the exchange's row; SIGINT still exits 0."""
    text, status = _run_on_a_terminal()
    assert status == 0
    assert "binance_spot rest=http://127.0.0.1:" in text  # the ready line comes first
    for header in ("exchange", "conns", "subs", "pushes/s", "REST/s", "faults", "conditions"):
        assert header in text
    assert "mockfeed — market time" in text


def test_no_live_view_with_no_live() -> None:
    """--no-live keeps the terminal to the ready line."""
    text, status = _run_on_a_terminal("--no-live", seconds=2.0)
    assert status == 0
    assert "binance_spot rest=" in text and "pushes/s" not in text
