"""--log-format json and --trace: one JSON object per line, with what each client sent and received."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import httpx
import trio
from trio_websocket import open_websocket_url


async def test_trace_logs_rest_ws_and_pushes_as_json_lines() -> None:
    """A REST request, a WS request and its reply, and a push each leave one JSON trace line."""
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "mockfeed", "--port", "0", "--ws-port", "0", "--trace",
         "--log-format", "json", "--log-level", "info"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        line = b""
        with trio.fail_after(30):
            while b"\n" not in line:
                line += await process.stdout.receive_some()
        match = re.search(rb"rest=(\S+) ws=(\S+)", line)
        assert match
        rest, ws_url = match.group(1).decode(), match.group(2).decode()
        async with httpx.AsyncClient() as client:
            assert (await client.get(rest + "/api/v3/time?x=1")).status_code == 200
        async with open_websocket_url(ws_url + "/ws/btcusdt@kline_1m") as ws:
            await ws.get_message()
            await ws.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 5}))
            while json.loads(await ws.get_message()).get("id") != 5:
                pass
        process.send_signal(signal.SIGINT)
        with trio.fail_after(15):
            await process.wait()
        err = b""
        while chunk := await process.stderr.receive_some():
            err += chunk
        records = [json.loads(text) for text in err.decode().splitlines() if text.strip()]
        assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
        messages = [r["message"] for r in records if r["logger"] == "mockfeed.trace"]
        assert any(m.startswith("REST 127.0.0.1:") and "GET /api/v3/time?x=1 -> 200" in m for m in messages)
        assert any(" <- " in m and "LIST_SUBSCRIPTIONS" in m for m in messages)
        assert any(" -> " in m and '"id":5' in m for m in messages)
        assert any(m.startswith("PUSH binance_spot BTC-USDT 1m -> 1 subscriber") for m in messages)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
