"""Coinbase Advanced Trade REST over real sockets (httpx), plus the official SDK's REST client."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import trio

from mockfeed import Interval, Server, ThreadedServer

EXCHANGE = "coinbase_advanced_trade"
CANDLES = "/api/v3/brokerage/market/products/{}/candles"

pytestmark = pytest.mark.mockfeed(exchanges=[EXCHANGE], seed=3)


async def get(server: Server, path: str, **params: Any) -> httpx.Response:
    """One GET against the mock's REST origin."""
    async with httpx.AsyncClient(base_url=server.rest_url, timeout=10) as client:
        with trio.fail_after(10):
            return await client.get(path, params=params)


async def test_candles_over_http(mockfeed_server: Server) -> None:
    """A candles page: JSON, newest first, string values, the model's numbers."""
    now = int(time.time())
    response = await get(
        mockfeed_server, CANDLES.format("ETH-USDT"), start=now - 3600, end=now, granularity="FIVE_MINUTE"
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    rows = response.json()["candles"]
    assert len(rows) in (12, 13)
    opens = [int(r["start"]) for r in rows]
    assert opens == sorted(opens, reverse=True) and all(s % 300 == 0 for s in opens)
    oldest = rows[-1]
    candle = mockfeed_server.model.candle(
        "ETH-USDT", Interval.parse("5m"), int(oldest["start"]) * 1000, now * 1000
    )
    assert candle is not None
    assert float(oldest["open"]) == float(candle.open) and float(oldest["volume"]) == float(candle.volume)


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        (CANDLES.format("NOPE-USD"), {"start": 1, "end": 2, "granularity": "ONE_MINUTE"}, 400, "INVALID_ARGUMENT"),
        (CANDLES.format("BTC-USDT"), {"start": 1, "end": 2}, 400, "INVALID_ARGUMENT"),
        (CANDLES.format("BTC-USDT"), {"start": "x", "end": 2, "granularity": "ONE_MINUTE"}, 400,
         "INVALID_ARGUMENT"),
        (CANDLES.format("BTC-USDT"), {"start": 0, "end": 21_060, "granularity": "ONE_MINUTE"}, 400,
         "INVALID_ARGUMENT"),
        ("/api/v3/brokerage/market/products/NOPE-USD", {}, 404, "NOT_FOUND"),
        ("/api/v3/brokerage/market/products/BTC-USDT/ticker", {}, 404, "NOT_FOUND"),
        ("/api/v3/brokerage/nope", {}, 404, "NOT_FOUND"),
    ],
)
async def test_native_errors_over_http(
    mockfeed_server: Server, path: str, params: dict[str, Any], status: int, code: str
) -> None:
    """Malformed requests get Coinbase's status and {"error","error_details","message"} body."""
    response = await get(mockfeed_server, path, **params)
    assert response.status_code == status
    body = response.json()
    assert body["error"] == code and body["message"] == body["error_details"]


async def test_v2_errors_and_wrong_method(mockfeed_server: Server) -> None:
    """Unknown /v2 paths answer the v2 error list; a POST on a GET route is 405."""
    response = await get(mockfeed_server, "/v2/nope")
    assert response.status_code == 404
    assert response.json() == {"errors": [{"id": "not_found", "message": "Not found"}]}
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url, timeout=10) as client:
        with trio.fail_after(10):
            posted = await client.post(CANDLES.format("BTC-USDT"), json={})
    assert posted.status_code == 405 and posted.json()["error"] == "UNIMPLEMENTED"


async def test_metadata_endpoints(mockfeed_server: Server) -> None:
    """Products, times, currencies and rates answer as ccxt's load_markets and fetch_time need."""
    products = (await get(mockfeed_server, "/api/v3/brokerage/market/products")).json()
    assert [p["product_id"] for p in products["products"]] == ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    futures = (await get(mockfeed_server, "/api/v3/brokerage/market/products", product_type="FUTURE")).json()
    assert futures["products"] == [] and futures["num_products"] == 0
    one = (await get(mockfeed_server, "/api/v3/brokerage/market/products/SOL-USDT")).json()
    assert one["product_id"] == "SOL-USDT" and one["product_type"] == "SPOT"
    v3 = (await get(mockfeed_server, "/api/v3/brokerage/time")).json()
    assert abs(int(v3["epochMillis"]) - time.time() * 1000) < 5000
    assert v3["epochSeconds"] == v3["epochMillis"][:-3]
    v2 = (await get(mockfeed_server, "/v2/time")).json()["data"]
    assert isinstance(v2["epoch"], int) and v2["iso"].endswith("Z")
    assert all(c["name"] for c in (await get(mockfeed_server, "/v2/currencies")).json()["data"])
    crypto = (await get(mockfeed_server, "/v2/currencies/crypto")).json()["data"]
    assert {c["code"] for c in crypto} == {"BTC", "ETH", "SOL", "USDT"}
    rates = (await get(mockfeed_server, "/v2/exchange-rates", currency="USD")).json()["data"]
    assert rates["currency"] == "USD" and {"BTC", "ETH", "SOL", "USDT"} <= set(rates["rates"])


@pytest.mark.mockfeed(exchanges=[EXCHANGE], pairs=["BTC-USD", "DOGE-EUR"])
async def test_configured_pairs_are_the_products(mockfeed_server: Server) -> None:
    """Product ids are the configured pairs; fiat quotes are listed as fiat, not crypto."""
    products = (await get(mockfeed_server, "/api/v3/brokerage/market/products")).json()["products"]
    assert [(p["product_id"], p["quote_name"]) for p in products] == [("BTC-USD", "US Dollar"),
                                                                       ("DOGE-EUR", "Euro")]
    crypto = (await get(mockfeed_server, "/v2/currencies/crypto")).json()["data"]
    assert [c["code"] for c in crypto] == ["BTC", "DOGE"]
    now = int(time.time())
    rows = (
        await get(mockfeed_server, CANDLES.format("DOGE-EUR"), start=now - 600, end=now, granularity="ONE_MINUTE")
    ).json()["candles"]
    assert len(rows) in (10, 11)


# -- the official SDK (coinbase-advanced-py), not a project dependency ---------------------------------


@pytest.mark.mockfeed(exchanges=[EXCHANGE])
def test_official_sdk_rest_client(mockfeed_threaded: ThreadedServer) -> None:
    """coinbase.rest.RESTClient reads time, products and candles from the mock.

    The SDK takes a host as ``base_url`` but always prefixes ``https://``; mockfeed serves plain HTTP,
    so a transport adapter rewrites the scheme (the SDK's own code and parsing run unchanged).
    """
    pytest.importorskip("coinbase.rest")
    import requests
    from coinbase.rest import RESTClient

    class PlainHttp(requests.adapters.HTTPAdapter):
        def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
            request.url = (request.url or "").replace("https://", "http://", 1)
            return super().send(request, *args, **kwargs)

    host = mockfeed_threaded.rest_url.removeprefix("http://")
    client = RESTClient(base_url=host, timeout=10)
    client.session.mount("https://", PlainHttp())
    assert abs(int(client.get_unix_time().epoch_millis) - time.time() * 1000) < 5000
    products = client.get_public_products(product_type="SPOT")
    assert [p.product_id for p in products.products] == ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    now = int(time.time())
    page = client.get_public_candles("BTC-USDT", start=str(now - 3000), end=str(now), granularity="ONE_MINUTE",
                                     limit=20)
    assert len(page.candles) == 20
    starts = [int(c.start) for c in page.candles]
    assert starts[0] == (now * 1000 - 1) // 60_000 * 60  # newest first, from the bucket before ``end``
    assert starts == [starts[0] - 60 * i for i in range(20)]
