"""Binance spot's ``timeZone`` klines parameter and ``@+08:00`` streams."""

from __future__ import annotations

import httpx
import orjson
import pytest
import trio
from trio_websocket import open_websocket_url

from mockfeed import Server

HOUR = 3_600_000
DAY = 24 * HOUR


@pytest.mark.parametrize(("zone", "open_hour_utc"), [("0", 0), ("8", 16), ("-1:00", 1), ("05:45", 18.25)])
async def test_time_zone_shifts_daily_boundaries(
    mockfeed_server: Server, zone: str, open_hour_utc: float
) -> None:
    """Daily candles open at local midnight of the given zone, expressed in UTC ms."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        response = await client.get(
            "/api/v3/klines",
            params={"symbol": "BTCUSDT", "interval": "1d", "limit": 3, "timeZone": zone},
        )
    rows = response.json()
    assert response.status_code == 200
    assert [row[0] % DAY / HOUR for row in rows] == [open_hour_utc] * 3
    assert [row[6] - row[0] for row in rows[:-1]] == [DAY - 1, DAY - 1]


@pytest.mark.parametrize("zone", ["15", "-13", "abc", "8:75"])
async def test_invalid_time_zone_is_refused(mockfeed_server: Server, zone: str) -> None:
    """A zone outside [-12:00, +14:00] or malformed is refused with -1130."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        response = await client.get(
            "/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1d", "timeZone": zone}
        )
    assert response.status_code == 400
    assert response.json()["code"] == -1130


async def test_utc8_stream_pushes_candles_aligned_to_utc8(mockfeed_server: Server) -> None:
    """``btcusdt@kline_1d@+08:00`` pushes the daily candle that opened at 16:00 UTC."""
    async with open_websocket_url(mockfeed_server.ws_url + "/ws/btcusdt@kline_1d@+08:00") as ws:
        with trio.fail_after(5):
            push = orjson.loads(await ws.get_message())
    assert push["k"]["t"] % DAY == 16 * HOUR
    assert push["k"]["i"] == "1d"
