"""``--ready-json``: the CLI in a subprocess on ephemeral ports announces itself with one JSON line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
import trio
from trio_websocket import open_websocket_url


async def _start(*args: str) -> tuple[trio.Process, dict[str, Any]]:
    """Start ``python -m mockfeed ARGS --ready-json`` and parse its first stdout line."""
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "mockfeed", *args, "--ready-json"],
        stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    buffer = b""
    try:
        with trio.fail_after(30):
            while b"\n" not in buffer:
                chunk = await process.stdout.receive_some()
                assert chunk, f"mockfeed exited before its ready line: {buffer!r}"
                buffer += chunk
    except BaseException:
        process.kill()
        await process.wait()
        raise
    line, _, rest = buffer.partition(b"\n")
    assert rest == b""
    return process, orjson.loads(line)


async def _stop(process: trio.Process) -> bytes:
    """SIGINT, expect exit 0, and return whatever stdout printed after the ready line."""
    assert process.stdout is not None
    try:
        process.send_signal(signal.SIGINT)
        tail = b""
        with trio.fail_after(15):
            while chunk := await process.stdout.receive_some():
                tail += chunk
            assert await process.wait() == 0
        return tail
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_ready_json_lists_every_exchange_and_the_control_url() -> None:
    """One JSON line with each exchange's rest/ws URLs and the control URL; all of them serve."""
    process, ready = await _start(
        "--exchange", "okx_spot", "--exchange", "binance_spot", "--port", "0", "--ws-port", "0",
        "--control-port", "0",
    )
    try:
        assert list(ready) == ["exchanges", "control"]
        assert list(ready["exchanges"]) == ["okx_spot", "binance_spot"]
        urls = ready["exchanges"]
        async with httpx.AsyncClient() as client:
            okx = await client.get(urls["okx_spot"]["rest"] + "/api/v5/public/time")
            binance = await client.get(urls["binance_spot"]["rest"] + "/api/v3/time")
            control = await client.get(ready["control"] + "/time")
        assert okx.json()["code"] == "0" and "serverTime" in binance.json()
        assert control.status_code == 200 and "now_ms" in control.json()
        async with open_websocket_url(urls["binance_spot"]["ws"] + "/ws/btcusdt@kline_1m") as ws:
            with trio.fail_after(10):
                push = orjson.loads(await ws.get_message())
        assert push["e"] == "kline"
    finally:
        assert await _stop(process) == b""  # no text ready lines besides the JSON one


async def test_ready_json_control_is_null_when_off(tmp_path: Path) -> None:
    """With the exchanges and ports from a config file and no control endpoint: ``"control": null``."""
    path = tmp_path / "mockfeed.toml"
    path.write_text('exchanges = ["kraken_spot"]\nport = 0\nws_port = 0\ncontrol_port = "off"\n')
    process, ready = await _start("--config", str(path))
    try:
        assert ready["control"] is None
        assert list(ready["exchanges"]) == ["kraken_spot"]
        rest = ready["exchanges"]["kraken_spot"]["rest"]
        async with httpx.AsyncClient() as client:
            answer = await client.get(rest + "/0/public/Time")
        assert answer.json()["error"] == []
    finally:
        await _stop(process)
