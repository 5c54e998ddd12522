"""--workers N: several processes on the same ports, one market, one control endpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx
import trio
from trio_websocket import open_websocket_url


async def test_two_workers_serve_one_market_and_obey_one_control_endpoint() -> None:
    """Identical candles on fresh connections, WS pushes, a condition change reaching every worker,
    and a clean exit on SIGINT with no worker left behind."""
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "mockfeed", "--workers", "2", "--exchange", "binance_spot",
         "--port", "0", "--ws-port", "0", "--control-port", "0", "--ready-json", "--start",
         "2024-05-01T00:00:00Z"],
        stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        buffer = b""
        with trio.fail_after(60):
            while b"\n" not in buffer:
                chunk = await process.stdout.receive_some()
                assert chunk, "mockfeed exited before it was ready"
                buffer += chunk
        ready = json.loads(buffer.partition(b"\n")[0])
        assert ready["workers"] == 2
        rest = ready["exchanges"]["binance_spot"]["rest"]
        params = {"symbol": "BTCUSDT", "interval": "1h", "endTime": 1714000000000, "limit": 50}
        pages = []
        for _ in range(12):  # a new connection each time: the kernel spreads them over the workers
            async with httpx.AsyncClient() as client:
                pages.append((await client.get(rest + "/api/v3/klines", params=params)).json())
        assert all(page == pages[0] for page in pages) and len(pages[0]) == 50
        async with open_websocket_url(ready["exchanges"]["binance_spot"]["ws"] + "/ws/btcusdt@kline_1m") as ws:
            assert json.loads(await ws.get_message())["e"] == "kline"
        async with httpx.AsyncClient(base_url=ready["control"]) as control:
            changed = await control.patch("/conditions/binance_spot", json={"error_rate": 1})
            assert changed.status_code == 200 and changed.json()["error_rate"] == 1
            refused = await control.patch("/conditions/binance_spot", json={"error_rate": 7})
            assert refused.status_code == 400 and "error_rate" in refused.json()["error"]
        statuses = set()
        for _ in range(12):
            async with httpx.AsyncClient() as client:
                statuses.add((await client.get(rest + "/api/v3/time")).status_code)
        assert statuses == {500}  # every worker got the change
        children = [int(p) for p in subprocess.run(
            ["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()]
        assert len(children) == 2
        process.send_signal(signal.SIGINT)
        with trio.fail_after(30):
            assert await process.wait() == 0
        for pid in children:  # reaped by the supervisor: gone
            assert not os.path.exists(f"/proc/{pid}")
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_bad_worker_counts_are_refused() -> None:
    """--workers 0 or 65: exit status 2 naming the flag."""
    for count in ("0", "65"):
        done = subprocess.run([sys.executable, "-m", "mockfeed", "--workers", count, "--port", "0"],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 2
        assert "--workers must be an integer between 1 and 64" in done.stderr
