"""Collect the final (closed) 1m candle pushes of a stream over real WebSockets, for tests that
compare them with what REST serves afterwards."""

from __future__ import annotations

import json
from typing import Any

from trio_websocket import open_websocket_url

from mockfeed import Server


async def binance_finals(server: Server, until_ms: int, stream: str = "btcusdt") -> list[dict[str, Any]]:
    """Every final 1m kline (``k``) of Binance spot ``stream`` opening before ``until_ms``."""
    finals: list[dict[str, Any]] = []
    async with open_websocket_url(server["binance_spot"].ws_url + f"/ws/{stream}@kline_1m") as ws:
        while True:
            k = json.loads(await ws.get_message())["k"]
            if k["t"] >= until_ms:
                return finals
            if k["x"]:
                finals.append(k)


async def okx_finals(server: Server, until_ms: int) -> list[list[str]]:
    """Every confirmed 1m BTC-USDT row of OKX spot's business stream opening before ``until_ms``."""
    finals: list[list[str]] = []
    async with open_websocket_url(server["okx_spot"].ws_url + "/ws/v5/business") as ws:
        await ws.send_message(json.dumps(
            {"id": "1", "op": "subscribe", "args": [{"channel": "candle1m", "instId": "BTC-USDT"}]}
        ))
        assert json.loads(await ws.get_message())["event"] == "subscribe"
        while True:
            [row] = json.loads(await ws.get_message())["data"]
            if int(row[0]) >= until_ms:
                return finals
            if row[8] == "1":
                finals.append(row)
