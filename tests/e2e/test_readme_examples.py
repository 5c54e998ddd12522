"""The README's examples, run as written, so the documentation cannot rot."""

from __future__ import annotations

import orjson
import trio
from trio_websocket import open_websocket_url

from mockfeed import Server


async def test_an_hour_of_candles(mockfeed_server: Server, autojump_clock: trio.testing.MockClock) -> None:
    """README, Time control: 60 closed 1m candles stream under the autojump clock."""
    async with open_websocket_url(mockfeed_server.ws_url + "/ws/btcusdt@kline_1m") as ws:
        closed = 0
        with trio.fail_after(3600 + 60):  # virtual seconds, not wall time
            while closed < 60:
                push = orjson.loads(await ws.get_message())
                closed += push["k"]["x"]
    assert closed == 60
