"""``--scenario FILE`` in a subprocess: a bad file stops the start (exit 2), a good one is served."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import trio

from mockfeed.market.clock import parse_time

READY = re.compile(r"^binance_spot rest=(http://127\.0\.0\.1:\d+) ws=ws://127\.0\.0\.1:\d+$")
DOCS = Path(__file__).parents[2] / "docs" / "scenarios.md"
START = "2024-03-01T00:00:00Z"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockfeed", "--port", "0", "--ws-port", "0", *args],
        capture_output=True, text=True, timeout=30,
    )


def test_a_bad_value_exits_2_naming_the_key(tmp_path: Path) -> None:
    """A wrong value: exit 2, the file and key path on stderr, no traceback, nothing served."""
    path = tmp_path / "bad.toml"
    path.write_text('[[events]]\nkind = "gap"\nat = "+1h"\nover = "5m"\n\n'
                    '[[events]]\nkind = "jump"\nat = "+2h"\npct = "twelve"\n')
    result = _run("--scenario", str(path))
    assert result.returncode == 2
    assert f"scenario {path}: events[1].pct: a percentage is a number" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_syntax_error_exits_2_naming_the_line(tmp_path: Path) -> None:
    """TOML and JSON syntax errors name their line."""
    toml = tmp_path / "bad.toml"
    toml.write_text('[[events]]\nkind = "gap"\nat = +1h\n')
    result = _run("--scenario", str(toml))
    assert result.returncode == 2 and "line 3" in result.stderr and "Traceback" not in result.stderr
    js = tmp_path / "bad.json"
    js.write_text('{"events": [\n  {"kind": "gap" "at": "+1h"}\n]}')
    result = _run("--scenario", str(js))
    assert result.returncode == 2 and "line 2, column 18" in result.stderr


def test_an_unserved_pair_and_a_missing_file_exit_2(tmp_path: Path) -> None:
    """Events for pairs not served, and files that do not exist, are refused before listening."""
    path = tmp_path / "doge.json"
    path.write_text('{"events": [{"kind": "listing", "at": "+1h", "pair": "DOGE-USDT"}]}')
    result = _run("--scenario", str(path))
    assert result.returncode == 2 and "events[0].pair: DOGE-USDT is not served" in result.stderr
    result = _run("--scenario", str(tmp_path / "nope.toml"))
    assert result.returncode == 2 and "cannot read" in result.stderr


async def test_the_documented_file_is_served(tmp_path: Path) -> None:
    """With the docs' file and a frozen clock at the start, SOL is not listed yet; BTC trades."""
    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    path = tmp_path / "day.toml"
    path.write_text(blocks[0])
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "mockfeed", "--port", "0", "--ws-port", "0", "--start", START,
         "--speed", "0", "--scenario", str(path)],
        stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = b""
        with trio.fail_after(30):
            while not line.endswith(b"\n"):
                chunk = await process.stdout.receive_some()
                assert chunk, "mockfeed exited early"
                line += chunk
        match = READY.match(line.decode().strip())
        assert match is not None
        async with httpx.AsyncClient(base_url=match.group(1)) as client:
            params = {"interval": "1m", "limit": 5}
            sol = await client.get("/api/v3/klines", params={**params, "symbol": "SOLUSDT"})
            btc = await client.get("/api/v3/klines", params={**params, "symbol": "BTCUSDT"})
        assert sol.status_code == 200 and sol.json() == []
        assert [row[0] for row in btc.json()][-1] == parse_time(START)
        process.send_signal(signal.SIGINT)
        with trio.fail_after(15):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
