"""Hyperliquid ``POST /info`` through real sockets: httpx against ``mockfeed_server``, and the official SDK."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import trio

from mockfeed import Server, ThreadedServer

MINUTE = 60_000
DESERIALIZE = "Failed to deserialize the JSON body into the target type"
PRODUCTS = [
    pytest.param("@0", "hyperliquid_spot", marks=pytest.mark.mockfeed(exchanges=["hyperliquid_spot"]),
                 id="hyperliquid_spot"),
    pytest.param("BTC", "hyperliquid_perpetual",
                 marks=pytest.mark.mockfeed(exchanges=["hyperliquid_perpetual"]), id="hyperliquid_perpetual"),
]


async def request(server: Server, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request against the server's REST port, bounded in time."""
    with trio.fail_after(10):
        async with httpx.AsyncClient(base_url=server.rest_url) as client:
            return await client.request(method, path, **kwargs)


async def info(server: Server, body: Any) -> httpx.Response:
    """POST /info with a JSON body."""
    return await request(server, "POST", "/info", json=body)


@pytest.mark.parametrize(("coin", "exchange"), PRODUCTS)
async def test_candle_snapshot_rows(mockfeed_server: Server, coin: str, exchange: str) -> None:
    """candleSnapshot: a JSON array of row objects, oldest first, forming candle last at now."""
    now = int(time.time() * 1000)
    response = await info(mockfeed_server, {"type": "candleSnapshot", "req": {
        "coin": coin, "interval": "1m", "startTime": now - 30 * MINUTE, "endTime": now}})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    rows = response.json()
    assert len(rows) == 30
    assert [r["t"] for r in rows] == [rows[0]["t"] + i * MINUTE for i in range(30)]
    assert rows[-1]["t"] == now // MINUTE * MINUTE
    assert all(r["s"] == coin and r["i"] == "1m" and isinstance(r["o"], str) for r in rows)


@pytest.mark.parametrize(("coin", "exchange"), PRODUCTS)
async def test_errors_are_native_plain_text(mockfeed_server: Server, coin: str, exchange: str) -> None:
    """422 for a body of the wrong shape, 400 for one that is not JSON, 405/404 elsewhere, 413 too big."""
    for body in ({"type": "candleSnapshot", "req": {"coin": coin, "interval": "2m", "startTime": 0}},
                 {"type": "candleSnapshot", "req": {"coin": coin, "interval": "1m"}},
                 {"type": "nope"}, [1, 2]):
        response = await info(mockfeed_server, body)
        assert (response.status_code, response.text) == (422, DESERIALIZE)
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
    response = await request(mockfeed_server, "POST", "/info", content=b"{not json",
                             headers={"content-type": "application/json"})
    assert (response.status_code, response.text) == (400, "Failed to parse the request body as JSON")
    assert (await request(mockfeed_server, "GET", "/info")).status_code == 405
    assert (await request(mockfeed_server, "POST", "/exchange", json={})).status_code == 404
    huge = await request(mockfeed_server, "POST", "/info", content=b" " * (1 << 20),
                         headers={"content-type": "application/json"})
    assert huge.status_code == 413


@pytest.mark.parametrize(("coin", "exchange"), PRODUCTS)
async def test_every_ccxt_load_markets_request_succeeds(mockfeed_server: Server, coin: str,
                                                        exchange: str) -> None:
    """The bodies ccxt's load_markets posts (and the SDK's meta with dex "") all answer 200."""
    bodies = [{"type": "spotMeta"}, {"type": "spotMetaAndAssetCtxs"}, {"type": "metaAndAssetCtxs"},
              {"type": "perpDexs"}, {"type": "meta", "dex": ""}, {"type": "exchangeStatus"}]
    answers = [await info(mockfeed_server, body) for body in bodies]
    assert [a.status_code for a in answers] == [200] * len(bodies)
    spot, perp = answers[1].json(), answers[2].json()
    listed = [u["name"] for u in spot[0]["universe"]] + [u["name"] for u in perp[0]["universe"]]
    assert coin in listed and len(listed) == 3
    assert answers[3].json() == [None]
    assert abs(int(answers[5].json()["time"]) - time.time() * 1000) < 5_000


@pytest.mark.parametrize(("name", "exchange"), [("BTC/USDC", "hyperliquid_spot"),
                                                ("BTC", "hyperliquid_perpetual")])
def test_official_sdk_candles_snapshot(name: str, exchange: str) -> None:
    """hyperliquid-python-sdk's Info (spotMeta + meta at start-up) reads candles unchanged."""
    info_module = pytest.importorskip("hyperliquid.info")
    error_module = pytest.importorskip("hyperliquid.utils.error")
    with ThreadedServer(exchanges=[exchange], port=0, ws_port=0) as server:
        client = info_module.Info(base_url=server.rest_url, skip_ws=True, timeout=10)
        now = int(time.time() * 1000)
        rows = client.candles_snapshot(name, "1m", now - 10 * MINUTE, now)
        assert len(rows) == 10 and rows[-1]["t"] == now // MINUTE * MINUTE
        assert rows[-1]["s"] == client.name_to_coin[name]
        assert client.name_to_coin[name] in client.all_mids()
        with pytest.raises(error_module.ClientError) as refused:
            client.candles_snapshot(name, "2m", now - MINUTE, now)
        assert (refused.value.status_code, refused.value.error_message) == (422, DESERIALIZE)
