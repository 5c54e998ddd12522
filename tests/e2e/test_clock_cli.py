"""An accelerated market from the command line: ``--speed``, ``--start``, ``--control-port``.

The CLI runs in a subprocess on ephemeral ports; real clients (httpx, trio-websocket) read what it
serves. Speed is checked by bracketing: the market time between two requests is compared with the
real time measured around them, so a slow machine widens the window without failing the test.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
import trio
from trio_websocket import open_websocket_url

from mockfeed import cli
from mockfeed.market.clock import parse_time

READY = re.compile(r"^(\w+) rest=(http://127\.0\.0\.1:\d+) ws=(ws://127\.0\.0\.1:\d+)$")
CONTROL = re.compile(r"^control=(http://127\.0\.0\.1:\d+)$")
START = "2024-01-01T00:00:00Z"
START_MS = parse_time(START)
SPEED = 60
MINUTE = 60_000


async def start_cli(*args: str, lines: int) -> tuple[trio.Process, list[str]]:
    """Start ``python -m mockfeed ARGS`` and read its first ``lines`` stdout lines."""
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "mockfeed", *args],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    buffer = b""
    with trio.fail_after(30):
        while buffer.count(b"\n") < lines:
            chunk = await process.stdout.receive_some()
            assert chunk, f"mockfeed exited early: {buffer!r}"
            buffer += chunk
    return process, buffer.decode().splitlines()


async def stop(process: trio.Process) -> None:
    """SIGINT and wait for exit status 0 (kill if it hangs)."""
    try:
        process.send_signal(signal.SIGINT)
        with trio.fail_after(15):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def bracketed(client: httpx.AsyncClient, url: str) -> tuple[float, int, float]:
    """(real time before, Binance server time, real time after) of one request."""
    before = time.monotonic()
    server_time: int = (await client.get(url + "/api/v3/time")).json()["serverTime"]
    return before, server_time, time.monotonic()


async def test_accelerated_cli_serves_market_time_everywhere() -> None:
    """--speed 60 --start: server time, candles and pushes all run on the same fast market clock."""
    process, lines = await start_cli(
        "--exchange", "binance_spot", "--exchange", "okx_spot", "--port", "0", "--ws-port", "0",
        "--speed", str(SPEED), "--start", START, "--control-port", "0", lines=3,
    )
    try:
        ready = [READY.match(line) for line in lines[:2]]
        assert all(ready), lines
        binance_rest, binance_ws = ready[0].group(2), ready[0].group(3)  # type: ignore[union-attr]
        okx_rest = ready[1].group(2)  # type: ignore[union-attr]
        control = CONTROL.match(lines[2])
        assert control, lines
        async with httpx.AsyncClient(timeout=10) as client:
            # server time runs SPEED times as fast as real time, from START
            t0, first, t1 = await bracketed(client, binance_rest)
            await trio.sleep(1.0)
            t2, second, t3 = await bracketed(client, binance_rest)
            assert first >= START_MS
            assert SPEED * (t2 - t1) * 1000 - 5 <= second - first <= SPEED * (t3 - t0) * 1000 + 5
            # another exchange of the same process reads the same clock
            okx = int((await client.get(okx_rest + "/api/v5/public/time")).json()["data"][0]["ts"])
            third = (await client.get(binance_rest + "/api/v3/time")).json()["serverTime"]
            assert second <= okx <= third
            # the control endpoint shows it too
            state = (await client.get(control.group(1) + "/time")).json()
            assert state["speed"] == SPEED and state["now_ms"] >= third
            # the last kline is the forming one, on a minute boundary of market time
            rows = (await client.get(binance_rest + "/api/v3/klines", params={
                "symbol": "BTCUSDT", "interval": "1m", "limit": 3})).json()
            after = (await client.get(binance_rest + "/api/v3/time")).json()["serverTime"]
            assert [r[0] % MINUTE for r in rows] == [0, 0, 0]
            assert state["now_ms"] - MINUTE < rows[-1][0] <= after
            # a 1m candle closes about every real second: its final push is its REST row
            async with open_websocket_url(binance_ws + "/ws/btcusdt@kline_1m") as ws:
                with trio.fail_after(20):
                    while not (k := json.loads(await ws.get_message())["k"])["x"]:
                        pass
            [row] = (await client.get(binance_rest + "/api/v3/klines", params={
                "symbol": "BTCUSDT", "interval": "1m", "startTime": k["t"], "limit": 1})).json()
            assert [k["t"], k["o"], k["h"], k["l"], k["c"], k["v"], k["T"]] == row[:7]
            assert k["T"] - k["t"] == MINUTE - 1
    finally:
        await stop(process)


async def test_ephemeral_ports_open_no_control_port_unless_asked() -> None:
    """With --port 0 and no --control-port, stdout is exactly the ready lines (no control line)."""
    process, lines = await start_cli(
        "--exchange", "binance_spot", "--port", "0", "--ws-port", "0", "--speed", "2", lines=1
    )
    try:
        with trio.move_on_after(0.5):
            assert process.stdout is not None
            extra = await process.stdout.receive_some()
            assert not extra, extra
        assert READY.match(lines[0]), lines
    finally:
        await stop(process)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--speed", "-1"], "speed range"),
        (["--speed", "nan"], "speed range"),
        (["--start", "yesterday"], "ISO 8601"),
        (["--start", "2001-01-01"], "outside the market's time span"),
        (["--control-port", "nine"], "--control-port"),
        (["--control-port", "70000"], "outside 0..65535"),
    ],
)
def test_bad_clock_flags_exit_2(args: list[str], fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Bad --speed, --start or --control-port: a message, exit status 2, no traceback."""
    assert cli.main(["--port", "0", "--ws-port", "0", *args]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err



def test_busy_control_port_exits_1_before_any_ready_line() -> None:
    """A control port already taken: 'cannot listen', exit 1, no traceback and no ready line printed."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = subprocess.run(
            [sys.executable, "-m", "mockfeed", "--port", "0", "--ws-port", "0",
             "--control-port", str(taken.getsockname()[1])],
            capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 1
    assert "cannot listen" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
