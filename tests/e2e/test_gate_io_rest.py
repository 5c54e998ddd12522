"""Gate spot and USDT perpetual REST over real sockets: httpx against the mockfeed_server fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import trio

from mockfeed import Server
from mockfeed.market import Interval

pytestmark = pytest.mark.mockfeed(exchanges=["gate_io_spot", "gate_io_perpetual"], seed=5)

EXCHANGE = {"spot": "gate_io_spot", "perp": "gate_io_perpetual"}
CANDLES = {"spot": "/api/v4/spot/candlesticks", "perp": "/api/v4/futures/usdt/candlesticks"}
MARKET = {"spot": "currency_pair", "perp": "contract"}
MINUTE_S = 60
TIMEOUT = 10.0


@pytest.fixture(params=["spot", "perp"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each Gate product in turn."""
    return str(request.param)


@asynccontextmanager
async def rest(server: Server, kind: str) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on one product's REST listener, every call bounded in time."""
    async with httpx.AsyncClient(base_url=server[EXCHANGE[kind]].rest_url, timeout=TIMEOUT) as client:
        with trio.fail_after(TIMEOUT * 2):
            yield client


def assert_error(response: httpx.Response, label: str, status: int = 400) -> str:
    """Gate's native ``{"label", "message"}`` error; returns the message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    payload = response.json()
    assert set(payload) == {"label", "message"}
    assert payload["label"] == label
    return str(payload["message"])


def query(kind: str, **extra: Any) -> dict[str, Any]:
    """A candle query for BTC_USDT on the product's endpoint."""
    return {MARKET[kind]: "BTC_USDT", **extra}


def open_times(kind: str, payload: list[Any]) -> list[int]:
    """Open times in seconds of either layout."""
    return [int(row[0]) if kind == "spot" else row["t"] for row in payload]


async def test_load_markets_endpoints_answer(mockfeed_server: Server, kind: str) -> None:
    """Every listing ccxt's load_markets reads answers 200 JSON; only the product's own is populated."""
    served = {
        "spot": {"/api/v4/spot/currency_pairs"},
        "perp": {"/api/v4/futures/usdt/contracts"},
    }[kind]
    async with rest(mockfeed_server, kind) as client:
        currencies = await client.get("/api/v4/spot/currencies")
        assert [c["currency"] for c in currencies.json()] == ["BTC", "USDT", "ETH", "SOL"]
        for path in (
            "/api/v4/margin/currency_pairs",
            "/api/v4/spot/currency_pairs",
            "/api/v4/futures/usdt/contracts",
            "/api/v4/futures/btc/contracts",
            "/api/v4/delivery/usdt/contracts",
            "/api/v4/options/underlyings",
        ):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-type"] == "application/json"
            assert (len(response.json()) == 3) == (path in served), path
        options = await client.get("/api/v4/options/contracts", params={"underlying": "BTC_USDT"})
        assert options.json() == []


async def test_server_time(mockfeed_server: Server, kind: str) -> None:
    """/spot/time is the server clock in milliseconds."""
    async with rest(mockfeed_server, kind) as client:
        before = mockfeed_server.clock.now_ms()
        payload = (await client.get("/api/v4/spot/time")).json()
        after = mockfeed_server.clock.now_ms()
    assert before <= payload["server_time"] <= after


async def test_single_market_lookups(mockfeed_server: Server, kind: str) -> None:
    """Single pair, contract and currency lookups, and their native not-found errors."""
    async with rest(mockfeed_server, kind) as client:
        pair = await client.get("/api/v4/spot/currency_pairs/BTC_USDT")
        contract = await client.get("/api/v4/futures/usdt/contracts/BTC_USDT")
        if kind == "spot":
            assert pair.json()["id"] == "BTC_USDT"
            assert_error(contract, "CONTRACT_NOT_FOUND")
        else:
            assert_error(pair, "INVALID_CURRENCY_PAIR")
            assert contract.json()["name"] == "BTC_USDT"
        assert (await client.get("/api/v4/spot/currencies/BTC")).json()["currency"] == "BTC"
        assert_error(await client.get("/api/v4/spot/currencies/NOPE"), "INVALID_CURRENCY")


async def test_candles_match_the_model(mockfeed_server: Server, kind: str) -> None:
    """A from/to window over the wire holds the model's candles, oldest first, in the native layout."""
    now_s = mockfeed_server.clock.now_ms() // 1000
    start = now_s // 60 * 60 - 120 * MINUTE_S
    async with rest(mockfeed_server, kind) as client:
        response = await client.get(
            CANDLES[kind], params=query(kind, interval="1m", **{"from": start, "to": start + 59 * MINUTE_S})
        )
    assert response.status_code == 200
    payload = response.json()
    assert open_times(kind, payload) == [start + i * MINUTE_S for i in range(60)]
    model = mockfeed_server.model.candles(
        "BTC-USDT", Interval.parse("1m"), now_ms=mockfeed_server.clock.now_ms(), limit=60,
        start_ms=start * 1000,
    )
    closes = [row[2] if kind == "spot" else row["c"] for row in payload]
    assert closes == [f"{c.close.normalize():f}" for c in model]


async def test_latest_page_ends_with_the_forming_candle(mockfeed_server: Server, kind: str) -> None:
    """limit only: the newest candles, the last one still forming (spot flags it "false")."""
    async with rest(mockfeed_server, kind) as client:
        payload = (await client.get(CANDLES[kind], params=query(kind, interval="1m", limit=10))).json()
    now_s = mockfeed_server.clock.now_ms() // 1000
    assert len(payload) == 10
    assert open_times(kind, payload)[-1] in (now_s // 60 * 60, now_s // 60 * 60 - 60)
    if kind == "spot":
        assert [row[7] for row in payload[:-1]] == ["true"] * 9


@pytest.mark.parametrize(
    ("extra", "label", "fragment"),
    [
        ({"interval": "3m"}, "INVALID_PARAM_VALUE", "`interval` value: 3m"),
        ({"limit": "0"}, "INVALID_PARAM_VALUE", "`limit` value: 0"),
        ({"from": "yesterday"}, "INVALID_PARAM_VALUE", "`from` value: yesterday"),
        ({"interval": "1m", "from": "1000000000"}, "INVALID_PARAM_VALUE", "Candlestick"),
    ],
)
async def test_bad_requests(
    mockfeed_server: Server, kind: str, extra: dict[str, str], label: str, fragment: str
) -> None:
    """Malformed candle requests answer HTTP 400 with Gate's {"label","message"} body."""
    async with rest(mockfeed_server, kind) as client:
        response = await client.get(CANDLES[kind], params=query(kind, **extra))
    assert fragment in assert_error(response, label)


async def test_missing_and_unknown_market(mockfeed_server: Server, kind: str) -> None:
    """No market parameter, or one nobody lists, are refused natively."""
    unknown = {"spot": "INVALID_CURRENCY_PAIR", "perp": "CONTRACT_NOT_FOUND"}[kind]
    async with rest(mockfeed_server, kind) as client:
        missing = await client.get(CANDLES[kind], params={"interval": "1m"})
        assert assert_error(missing, "MISSING_REQUIRED_PARAM") == f"Missing required parameter: {MARKET[kind]}"
        assert_error(await client.get(CANDLES[kind], params={MARKET[kind]: "FOO_BAR"}), unknown)


async def test_rate_limit_headers(mockfeed_server: Server, kind: str) -> None:
    """Every answer carries X-Gate-RateLimit-*; the remainder counts down within a 10 s window."""
    async with rest(mockfeed_server, kind) as client:
        for _attempt in range(2):  # a window boundary can reset the count once
            seen = []
            for _ in range(3):
                response = await client.get(CANDLES[kind], params={"interval": "nope"})
                assert response.headers["X-Gate-RateLimit-Limit"] == "200"
                assert int(response.headers["X-Gate-RateLimit-Reset-Timestamp"]) % 10 == 0
                seen.append(int(response.headers["X-Gate-RateLimit-Requests-Remain"]))
            if seen == sorted(seen, reverse=True) and len(set(seen)) == 3:
                break
        assert seen == sorted(seen, reverse=True) and len(set(seen)) == 3, seen


async def test_unknown_paths_and_methods(mockfeed_server: Server, kind: str) -> None:
    """404 NOT_FOUND off the route table, 405 METHOD_NOT_ALLOWED on a known path; HEAD works."""
    async with rest(mockfeed_server, kind) as client:
        assert_error(await client.get("/api/v4/spot/nope"), "NOT_FOUND", 404)
        assert_error(await client.get("/api/v4/futures/usdt/contracts/BTC_USDT/extra"), "NOT_FOUND", 404)
        assert_error(await client.post("/api/v4/spot/time"), "METHOD_NOT_ALLOWED", 405)
        assert_error(await client.delete("/api/v4/futures/usdt/contracts"), "METHOD_NOT_ALLOWED", 405)
        assert (await client.head("/api/v4/spot/time")).status_code == 200


NASTY = [
    "/api/v4/spot/candlesticks?currency_pair=%FF%FE&interval=1m",
    "/api/v4/spot/candlesticks?currency_pair=BTC_USDT&interval=%00",
    "/api/v4/spot/candlesticks?%ZZ=1&currency_pair=BTC_USDT",
    "/api/v4/spot/candlesticks?currency_pair=BTC_USDT&limit=99999999999999999999999",
    "/api/v4/spot/candlesticks?currency_pair=BTC_USDT&interval=30d&from=999999999999999999",
    "/api/v4/spot/candlesticks?currency_pair=BTC_USDT&interval=30d&to=999999999999999999&limit=1000",
    "/api/v4/spot/candlesticks?currency_pair=BTC_USDT&interval=1s&from=0&to=0",
    "/api/v4/spot/candlesticks?currency_pair=BTC_USDT&from=&to=&limit=",
    "/api/v4/spot/candlesticks?currency_pair=BTC_USDT&limit=%EF%BC%91%EF%BC%92",
    "/api/v4/futures/usdt/candlesticks?contract=BTC_USDT&interval=1w&timezone=utc8&limit=2000",
    "/api/v4/futures/%2E%2E/candlesticks?contract=BTC_USDT",
    "/api/v4/futures//contracts",
    "/api/v4/delivery/usdt/contracts/BTC_USDT",
    "/api/v4/spot/currency_pairs/" + "A" * 3000,
    "//api/v4/spot/time",
    "/api/v4/spot/time%00",
]


async def test_no_response_is_a_server_error(mockfeed_server: Server) -> None:
    """Odd paths and queries never produce a 5xx or a traceback, on either product."""
    for kind in ("spot", "perp"):
        async with rest(mockfeed_server, kind) as client:
            for target in NASTY:
                response = await client.get(target)
                assert response.status_code < 500, (target, response.status_code, response.text)
                assert b"Traceback" not in response.content
                payload = response.json()
                assert isinstance(payload, list) or set(payload) == {"label", "message"}, target
