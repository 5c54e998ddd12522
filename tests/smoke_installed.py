"""Smoke test of an installed mockfeed (run by ``nox -s package`` against the built wheel).

Not collected by pytest: it checks the installed distribution, not the source tree. Starts the
``mockfeed`` console script on ephemeral ports, asks the REST API for the time and a kline page, and
stops it with SIGINT; checks the pytest plugin entry point and that the package is not the source
tree's.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from importlib.metadata import entry_points
from pathlib import Path

import mockfeed


def main() -> None:
    """Exit 0 when the installed package serves and registers its pytest plugin."""
    source = Path(__file__).resolve().parents[1] / "src"
    location = Path(mockfeed.__file__).resolve()
    assert source not in location.parents, f"mockfeed imported from the source tree: {location}"
    plugins = {e.name: e.value for e in entry_points(group="pytest11")}
    assert plugins.get("mockfeed") == "mockfeed.testing", plugins
    process = subprocess.Popen(
        ["mockfeed", "--exchange", "binance_spot", "--exchange", "okx_spot", "--port", "0", "--ws-port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
        urls = [re.search(r"rest=(\S+)", line) for line in lines]
        assert all(urls), lines
        binance = urls[0].group(1)  # type: ignore[union-attr]
        with urllib.request.urlopen(binance + "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=5") as answer:
            rows = json.load(answer)
        assert len(rows) == 5, rows
        okx = urls[1].group(1)  # type: ignore[union-attr]
        with urllib.request.urlopen(okx + "/api/v5/market/candles?instId=BTC-USDT&bar=1m&limit=3") as answer:
            assert json.load(answer)["code"] == "0"
    finally:
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=15)
    assert status == 0, status
    print(f"installed mockfeed {location.parent} serves; pytest11 plugin registered")


if __name__ == "__main__":
    main()
    sys.exit(0)
