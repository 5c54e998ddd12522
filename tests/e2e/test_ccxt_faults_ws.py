"""ccxt.pro against WebSocket faults: after the server closes or resets its connection, watch_ohlcv
fails with a NetworkError (or reconnects on its own), and the next calls stream again."""

from __future__ import annotations

import asyncio
import contextlib

import ccxt
import ccxt.pro as ccxtpro
import pytest

from mockfeed import ThreadedServer
from tests.e2e.ccxt_support import open_client, run_on_mock, watch_updates


async def _survives(server: ThreadedServer, reset: bool) -> tuple[int, list[list[float]]]:
    async with open_client(ccxtpro.binance, server) as client:
        await watch_updates(client, "BTC/USDT", "1m", 1, 20)
        ended = server.disconnect("binance_spot", reset=reset)
        with contextlib.suppress(ccxt.NetworkError):
            await asyncio.wait_for(client.watch_ohlcv("BTC/USDT", "1m"), 20)
        return ended, await watch_updates(client, "BTC/USDT", "1m", 2, 30)


@pytest.mark.parametrize("reset", [False, True], ids=["close-1001", "tcp-reset"])
def test_watch_ohlcv_recovers_after_the_server_drops_it(reset: bool) -> None:
    """One connection ended by the server; ccxt notices and its next watches stream again."""
    ended, updates = run_on_mock("binance_spot", _survives, reset)
    assert ended == 1
    assert len(updates) >= 2 and all(len(row) == 6 for row in updates)
