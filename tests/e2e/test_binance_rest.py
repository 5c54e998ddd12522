"""Binance spot and USDⓈ-M perpetual REST over real sockets: httpx against the mockfeed_server fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio

from mockfeed import Server
from mockfeed.market import Candle, Interval, PairSpec

pytestmark = pytest.mark.mockfeed(exchanges=["binance_spot", "binance_perpetual"], seed=5)

EXCHANGE = {"spot": "binance_spot", "perp": "binance_perpetual"}
PREFIX = {"spot": "/api/v3", "perp": "/fapi/v1"}
OTHER_PREFIXES = {"spot": ("/fapi/v1", "/dapi/v1"), "perp": ("/api/v3", "/dapi/v1")}
MINUTE = 60_000
TIMEOUT = 10.0


@pytest.fixture(params=["spot", "perp"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each Binance product in turn."""
    return str(request.param)


@asynccontextmanager
async def rest(server: Server, kind: str) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on one product's REST listener, every call bounded in time."""
    async with httpx.AsyncClient(base_url=server[EXCHANGE[kind]].rest_url, timeout=TIMEOUT) as client:
        with trio.fail_after(TIMEOUT * 2):
            yield client


def assert_error(response: httpx.Response, code: int, status: int = 400) -> str:
    """Binance's native error envelope with ``code``; returns the message."""
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) == {"code", "msg"}
    assert payload["code"] == code
    assert isinstance(payload["msg"], str) and payload["msg"]
    return str(payload["msg"])


def places(kind: str, pair: PairSpec) -> tuple[int, int, int]:
    """Decimal places of (price, base volume, quote volume) on the wire for a product."""
    if kind == "spot":
        return 8, 8, 8
    return pair.price_decimals, pair.volume_decimals, pair.quote_decimals


def row(candle: Candle, kind: str, pair: PairSpec) -> list[object]:
    """The 12-field kline row a model candle should be served as."""
    p, v, q = places(kind, pair)

    def f(x: Decimal, n: int) -> str:
        return f"{x:.{n}f}"

    return [
        candle.open_time,
        f(candle.open, p),
        f(candle.high, p),
        f(candle.low, p),
        f(candle.close, p),
        f(candle.volume, v),
        candle.close_time,
        f(candle.quote_volume, q),
        candle.trades,
        f(candle.taker_buy_volume, v),
        f(candle.taker_buy_quote_volume, q),
        "0",
    ]


def klines(symbol: str = "BTCUSDT", interval: str = "1m", **extra: Any) -> dict[str, Any]:
    """Query parameters of a klines request."""
    return {"symbol": symbol, "interval": interval, **extra}


# -- ping / time / exchangeInfo ----------------------------------------------------------------------


async def test_ping_and_time(mockfeed_server: Server, kind: str) -> None:
    """/ping answers {} and /time the server clock, both JSON with 200."""
    async with rest(mockfeed_server, kind) as client:
        ping = await client.get(f"{PREFIX[kind]}/ping")
        assert ping.status_code == 200
        assert ping.headers["content-type"] == "application/json"
        assert ping.json() == {}
        before = mockfeed_server.clock.now_ms()
        server_time = (await client.get(f"{PREFIX[kind]}/time")).json()["serverTime"]
        after = mockfeed_server.clock.now_ms()
        assert before <= server_time <= after


async def test_exchange_info_symbols(mockfeed_server: Server, kind: str) -> None:
    """exchangeInfo lists the configured pairs with base/quote assets and price/lot filters."""
    async with rest(mockfeed_server, kind) as client:
        response = await client.get(f"{PREFIX[kind]}/exchangeInfo")
    assert response.status_code == 200
    info = response.json()
    assert info["timezone"] == "UTC"
    by_symbol = {s["symbol"]: s for s in info["symbols"]}
    pairs = mockfeed_server.config.pairs
    assert list(by_symbol) == [p.base + p.quote for p in pairs]
    for pair in pairs:
        entry = by_symbol[pair.base + pair.quote]
        assert (entry["baseAsset"], entry["quoteAsset"], entry["status"]) == (
            pair.base,
            pair.quote,
            "TRADING",
        )
        filters = {f["filterType"]: f for f in entry["filters"]}
        assert Decimal(filters["PRICE_FILTER"]["tickSize"]) == pair.tick_size
        assert Decimal(filters["LOT_SIZE"]["stepSize"]) == pair.lot_size
        if kind == "perp":
            assert entry["contractType"] == "PERPETUAL"
            assert entry["marginAsset"] == pair.quote


async def test_spot_exchange_info_symbol_filter(mockfeed_server: Server) -> None:
    """Spot exchangeInfo?symbol= narrows the list; an unknown symbol is HTTP 400 -1121."""
    async with rest(mockfeed_server, "spot") as client:
        one = await client.get("/api/v3/exchangeInfo", params={"symbol": "ETHUSDT"})
        assert [s["symbol"] for s in one.json()["symbols"]] == ["ETHUSDT"]
        unknown = await client.get("/api/v3/exchangeInfo", params={"symbol": "NOPEUSDT"})
    assert assert_error(unknown, -1121) == "Invalid symbol."


async def test_perp_exchange_info_ignores_symbol_filter(mockfeed_server: Server) -> None:
    """USDⓈ-M exchangeInfo?symbol= (even unknown) answers every contract with 200."""
    async with rest(mockfeed_server, "perp") as client:
        for symbol in ("ETHUSDT", "NOPEUSDT"):
            response = await client.get("/fapi/v1/exchangeInfo", params={"symbol": symbol})
            assert response.status_code == 200
            assert len(response.json()["symbols"]) == len(mockfeed_server.config.pairs)


async def test_other_prefixes_serve_empty_exchange_info(mockfeed_server: Server, kind: str) -> None:
    """The other Binance API prefixes serve exchangeInfo with no symbols (ccxt's load_markets)."""
    async with rest(mockfeed_server, kind) as client:
        for prefix in OTHER_PREFIXES[kind]:
            response = await client.get(f"{prefix}/exchangeInfo")
            assert response.status_code == 200
            assert response.json()["symbols"] == []
            # ...but only exchangeInfo: the other product's klines are not served here.
            other = await client.get(f"{prefix}/klines", params=klines())
            assert other.status_code == 404


# -- klines ------------------------------------------------------------------------------------------


async def test_klines_shape_order_and_forming_candle(mockfeed_server: Server, kind: str) -> None:
    """Default klines: 500 typed 12-field rows, oldest first, close=open+60000-1, forming last."""
    async with rest(mockfeed_server, kind) as client:
        before = mockfeed_server.clock.now_ms()
        response = await client.get(f"{PREFIX[kind]}/klines", params=klines())
        after = mockfeed_server.clock.now_ms()
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == 500
    for r in rows:
        assert len(r) == 12
        assert [type(r[i]) for i in (0, 6, 8)] == [int, int, int]
        assert all(isinstance(r[i], str) for i in (1, 2, 3, 4, 5, 7, 9, 10, 11))
        assert all(Decimal(r[i]) >= 0 for i in (1, 2, 3, 4, 5, 7, 9, 10))
        assert r[6] == r[0] + MINUTE - 1
    opens = [r[0] for r in rows]
    assert opens == [opens[0] + i * MINUTE for i in range(500)]
    assert before // MINUTE * MINUTE <= opens[-1] <= after
    assert rows[-1][6] >= before


async def test_ui_klines_on_spot(mockfeed_server: Server) -> None:
    """Spot /api/v3/uiKlines answers the same closed rows as /api/v3/klines."""
    start = (mockfeed_server.clock.now_ms() // MINUTE - 30) * MINUTE
    query = klines("SOLUSDT", "1m", startTime=start, limit=10)
    async with rest(mockfeed_server, "spot") as client:
        ui = await client.get("/api/v3/uiKlines", params=query)
        plain = await client.get("/api/v3/klines", params=query)
    assert ui.status_code == plain.status_code == 200
    assert ui.json() == plain.json()
    assert len(ui.json()) == 10


async def test_klines_limits(mockfeed_server: Server) -> None:
    """Spot caps an oversized limit at 1000; the perpetual allows 1500 and refuses 1501 with -1130."""
    async with rest(mockfeed_server, "spot") as client:
        assert len((await client.get("/api/v3/klines", params=klines(limit=1000))).json()) == 1000
        capped = await client.get("/api/v3/klines", params=klines(interval="1s", limit=5000))
        assert capped.status_code == 200
        assert len(capped.json()) == 1000
    async with rest(mockfeed_server, "perp") as client:
        assert len((await client.get("/fapi/v1/klines", params=klines(limit=1500))).json()) == 1500
        assert "limit" in assert_error(await client.get("/fapi/v1/klines", params=klines(limit=1501)), -1130)


async def test_klines_time_selection(mockfeed_server: Server, kind: str) -> None:
    """startTime/endTime select oldest-from-start, newest-up-to-end, or the capped window."""
    start = (mockfeed_server.clock.now_ms() // MINUTE - 120) * MINUTE
    path = f"{PREFIX[kind]}/klines"
    async with rest(mockfeed_server, kind) as client:

        async def opens(**extra: Any) -> list[int]:
            response = await client.get(path, params=klines(**extra))
            assert response.status_code == 200, response.text
            return [r[0] for r in response.json()]

        assert await opens(startTime=start, limit=3) == [start, start + MINUTE, start + 2 * MINUTE]
        assert await opens(endTime=start + 5, limit=2) == [start - MINUTE, start]
        assert await opens(startTime=start, endTime=start + 4 * MINUTE, limit=100) == [
            start + i * MINUTE for i in range(5)
        ]
        assert await opens(startTime=start, endTime=start + 4 * MINUTE, limit=2) == [start, start + MINUTE]
        assert await opens(startTime=mockfeed_server.clock.now_ms() + 10 * MINUTE) == []


async def test_perp_has_no_1s_interval(mockfeed_server: Server) -> None:
    """/fapi/v1/klines?interval=1s is -1120 while /api/v3/klines serves it."""
    async with rest(mockfeed_server, "perp") as client:
        assert assert_error(await client.get("/fapi/v1/klines", params=klines(interval="1s")), -1120) == (
            "Invalid interval."
        )
    async with rest(mockfeed_server, "spot") as client:
        rows = (await client.get("/api/v3/klines", params=klines(interval="1s", limit=3))).json()
        assert [r[6] - r[0] for r in rows] == [999, 999, 999]


@pytest.mark.parametrize("code", ["1m", "1h", "1d", "1M"])
async def test_klines_equal_model(mockfeed_server: Server, kind: str, code: str) -> None:
    """REST rows of a closed window equal server.model.candles for the same window."""
    interval = Interval.parse(code)
    now = mockfeed_server.clock.now_ms()
    start = interval.floor(now - 30 * interval.ms)
    end = interval.floor(now - 3 * interval.ms)  # every candle in the window is closed
    async with rest(mockfeed_server, kind) as client:
        response = await client.get(
            f"{PREFIX[kind]}/klines", params=klines("ETHUSDT", code, startTime=start, endTime=end, limit=100)
        )
    assert response.status_code == 200
    pair = next(p for p in mockfeed_server.config.pairs if p.base == "ETH")
    candles = mockfeed_server.model.candles(
        pair.name, interval, now_ms=mockfeed_server.clock.now_ms(), limit=100, start_ms=start, end_ms=end
    )
    assert len(candles) >= 20
    assert all(c.closed for c in candles)
    assert response.json() == [row(c, kind, pair) for c in candles]


# -- errors ------------------------------------------------------------------------------------------

ERRORS = [
    pytest.param("interval=1m", -1102, "symbol", id="missing-symbol"),
    pytest.param("symbol=BTCUSDT", -1102, "interval", id="missing-interval"),
    pytest.param("symbol=NOPEUSDT&interval=1m", -1121, "Invalid symbol.", id="invalid-symbol"),
    pytest.param("symbol=BTCUSDT&interval=2s", -1120, "Invalid interval.", id="invalid-interval"),
    pytest.param("symbol=BTCUSDT&interval=1m&limit=abc", -1100, "limit", id="limit-abc"),
    pytest.param("symbol=BTCUSDT&interval=1m&limit=-5", -1100, "limit", id="limit-negative"),
    pytest.param(
        "symbol=BTCUSDT&interval=1m&startTime=1700000001000&endTime=1700000000000",
        -1023,
        "Start time is greater than end time.",
        id="start-after-end",
    ),
    pytest.param("symbol=BTCUSDT&interval=1m&interval=1m", -1101, "interval", id="duplicate-interval"),
    pytest.param("symbol=BTCUSDT&symbol=ETHUSDT&interval=1m", -1101, "symbol", id="duplicate-symbol"),
]


@pytest.mark.parametrize(("query", "code", "fragment"), ERRORS)
async def test_klines_errors(
    mockfeed_server: Server, kind: str, query: str, code: int, fragment: str
) -> None:
    """Malformed klines requests answer HTTP 400 with Binance's {"code","msg"} body."""
    async with rest(mockfeed_server, kind) as client:
        response = await client.get(f"{PREFIX[kind]}/klines?{query}")
    assert fragment in assert_error(response, code)
    assert response.headers["content-type"] == "application/json"


async def test_used_weight_header_increases(mockfeed_server: Server, kind: str) -> None:
    """X-MBX-USED-WEIGHT-1M is on every answer and grows with each request within the minute."""
    async with rest(mockfeed_server, kind) as client:
        for _attempt in range(2):  # a minute boundary can reset the window once
            seen = []
            for path, params in (
                ("/ping", None),
                ("/klines", klines(limit=5)),
                ("/exchangeInfo", None),
                ("/klines", klines("NOPE")),
                ("/time", None),
            ):
                response = await client.get(PREFIX[kind] + path, params=params)
                seen.append(int(response.headers["X-MBX-USED-WEIGHT-1M"]))
            if seen == sorted(seen) and len(set(seen)) == len(seen):
                break
        assert seen == sorted(seen) and len(set(seen)) == len(seen), seen
        assert seen[0] >= 1


async def test_unknown_path_and_wrong_method(mockfeed_server: Server, kind: str) -> None:
    """An unknown path answers 404; a known path with the wrong method answers 405; HEAD works."""
    async with rest(mockfeed_server, kind) as client:
        assert (await client.get(f"{PREFIX[kind]}/nope")).status_code == 404
        assert (await client.get("/")).status_code == 404
        assert (await client.get(f"{PREFIX[kind]}/klines/extra")).status_code == 404
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            response = await client.request(method, f"{PREFIX[kind]}/klines", params=klines())
            assert response.status_code == 405, method
        head = await client.head(f"{PREFIX[kind]}/ping")
        assert head.status_code == 200


NASTY = [
    ("GET", "/api/v3/klines?symbol=%FF%FE&interval=1m"),
    ("GET", "/api/v3/klines?symbol=BTCUSDT&interval=%00"),
    ("GET", "/api/v3/klines?%ZZ=1&symbol=BTCUSDT&interval=1m"),
    ("GET", "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=99999999999999999999999"),
    ("GET", "/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=18446744073709551616"),
    ("GET", "/api/v3/klines?symbol=BTCUSDT&interval=1d&startTime=99999999999999999999"),
    ("GET", "/api/v3/klines?symbol=BTCUSDT&interval=1w&endTime=99999999999999999999&limit=1"),
    ("GET", "/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=0&endTime=0"),
    ("GET", "/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=&endTime="),
    ("GET", "/api/v3/klines?symbol=%E2%82%BFUSDT&interval=1m"),
    ("GET", "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1%2B1"),
    ("GET", "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=0"),
    ("GET", "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=１２"),
    ("GET", "/api/v3/klines?" + "&".join(f"k{i}=v" for i in range(300))),
    ("GET", "/api/v3/klines?symbol=" + "A" * 3000 + "&interval=1m"),
    ("GET", "/api/v3/exchangeInfo?symbols=not-json"),
    ("GET", "/api/v3/exchangeInfo?symbols=%5B1%2C2%5D"),
    ("GET", "/api/v3/exchangeInfo?symbol=BTCUSDT&symbol=ETHUSDT"),
    ("GET", "/fapi/v1/klines?symbol=BTCUSDT&interval=1M&limit=1500"),
    ("GET", "/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=0"),
    ("GET", "//api/v3/ping"),
    ("GET", "/api/v3/../v3/ping"),
    ("GET", "/api/v3/ping%00"),
    ("GET", "/" + "x" * 4000),
    ("OPTIONS", "/api/v3/klines"),
    ("DELETE", "/nope"),
    ("POST", "/api/v3/ping"),
]


async def test_no_response_is_a_server_error(mockfeed_server: Server) -> None:
    """Odd paths, methods, queries and bodies never produce a 5xx or a traceback."""
    for kind in ("spot", "perp"):
        async with rest(mockfeed_server, kind) as client:
            for method, target in NASTY:
                path = target.replace("/api/v3/", PREFIX[kind] + "/") if kind == "perp" else target
                response = await client.request(method, path)
                assert response.status_code < 500, (method, path, response.status_code, response.text)
                assert b"Traceback" not in response.content
            for size in (10, 70_000):
                response = await client.post(f"{PREFIX[kind]}/ping", content=b"x" * size)
                assert response.status_code in (405, 413), response.status_code


async def test_month_klines_with_microsecond_start_is_not_a_server_error(
    mockfeed_server: Server, kind: str
) -> None:
    """interval=1M&startTime=<µs timestamp> answers 200 or 4xx, never 500."""
    query = klines(interval="1M", startTime=1_767_225_600_000_000)
    async with rest(mockfeed_server, kind) as client:
        response = await client.get(f"{PREFIX[kind]}/klines", params=query)
    assert response.status_code < 500, response.text
