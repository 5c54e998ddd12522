"""The pytest plugin's fixtures and marker, used as the README shows."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import trio
from trio_websocket import open_websocket_url

from mockfeed import Server, ThreadedServer


@pytest.mark.mockfeed(exchanges=["binance_perpetual"], seed=7)
async def test_trio_fixture_with_marker(mockfeed_server: Server) -> None:
    """The trio fixture honours the marker: perpetual routes, seed, ephemeral loopback ports."""
    assert mockfeed_server.config.seed == 7
    assert mockfeed_server.rest_url.startswith("http://127.0.0.1:")
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        rows = (
            await client.get("/fapi/v1/klines", params={"symbol": "BTCUSDT", "interval": "1m"})
        ).json()
    assert len(rows) == 500


async def test_trio_fixture_defaults(mockfeed_server: Server) -> None:
    """Without a marker the fixture serves binance_spot with the default pairs, WS included."""
    async with open_websocket_url(mockfeed_server.ws_url + "/ws/ethusdt@kline_1s") as ws:
        with trio.fail_after(5):
            assert '"s":"ETHUSDT"' in await ws.get_message()


@pytest.mark.mockfeed(exchanges=["binance_spot"], pairs=["SOL-USDT"])
def test_threaded_fixture_for_asyncio(mockfeed_threaded: ThreadedServer) -> None:
    """The thread-backed fixture serves asyncio clients."""

    async def fetch() -> list[str]:
        async with httpx.AsyncClient(base_url=mockfeed_threaded.rest_url) as client:
            info = (await client.get("/api/v3/exchangeInfo")).json()
        return [s["symbol"] for s in info["symbols"]]

    assert asyncio.run(fetch()) == ["SOLUSDT"]


def test_threaded_server_stops_and_releases_its_port() -> None:
    """ThreadedServer stops cleanly; its port can be bound again afterwards."""
    with ThreadedServer(exchanges=["binance_spot"], port=0, ws_port=0) as server:
        port = server["binance_spot"].rest_port
        assert httpx.get(server.rest_url + "/api/v3/ping").json() == {}
    with ThreadedServer(exchanges=["binance_spot"], port=port, ws_port=0) as again:
        assert httpx.get(again.rest_url + "/api/v3/ping").json() == {}
