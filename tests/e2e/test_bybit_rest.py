"""Bybit spot and linear perpetual REST over real sockets: httpx against the mockfeed_server fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio

from mockfeed import Server
from mockfeed.market import Interval

pytestmark = pytest.mark.mockfeed(exchanges=["bybit_spot", "bybit_perpetual"], seed=3)

EXCHANGE = {"spot": "bybit_spot", "perp": "bybit_perpetual"}
CATEGORY = {"spot": "spot", "perp": "linear"}
MINUTE = 60_000
TIMEOUT = 10.0


@pytest.fixture(params=["spot", "perp"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each Bybit product in turn."""
    return str(request.param)


@asynccontextmanager
async def rest(server: Server, kind: str) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on one product's REST listener, every call bounded in time."""
    async with httpx.AsyncClient(base_url=server[EXCHANGE[kind]].rest_url, timeout=TIMEOUT) as client:
        with trio.fail_after(TIMEOUT * 2):
            yield client


def wire(value: Decimal) -> str:
    """A decimal as Bybit prints it: plain digits, no trailing zeros."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def result(response: httpx.Response) -> Any:
    """The result of a successful v5 envelope."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    payload = response.json()
    assert payload["retCode"] == 0 and payload["retMsg"] == "OK" and payload["retExtInfo"] == {}
    assert isinstance(payload["time"], int)
    return payload["result"]


def refused(response: httpx.Response) -> str:
    """Bybit's native error: HTTP 200 with retCode 10001 and an empty result; returns retMsg."""
    assert response.status_code == 200, response.text
    payload = response.json()
    assert set(payload) == {"retCode", "retMsg", "result", "retExtInfo", "time"}
    assert payload["retCode"] == 10001 and payload["result"] == {}
    return str(payload["retMsg"])


async def test_time_is_the_server_clock(mockfeed_server: Server, kind: str) -> None:
    """/v5/market/time answers the server clock in the envelope and in result."""
    async with rest(mockfeed_server, kind) as client:
        before = mockfeed_server.clock.now_ms()
        response = await client.get("/v5/market/time")
        after = mockfeed_server.clock.now_ms()
    payload = response.json()
    assert before <= payload["time"] <= after
    assert int(result(response)["timeSecond"]) == payload["time"] // 1000
    assert int(result(response)["timeNano"]) == payload["time"] * 1_000_000


async def test_kline_matches_model_newest_first(mockfeed_server: Server, kind: str) -> None:
    """Latest page: newest first, forming candle on top, rows equal to the model's candles."""
    async with rest(mockfeed_server, kind) as client:
        params = {"category": CATEGORY[kind], "symbol": "ETHUSDT", "interval": "5", "limit": 50}
        before = mockfeed_server.clock.now_ms()
        rows = result(await client.get("/v5/market/kline", params=params))["list"]
    interval = Interval.parse("5m")
    assert len(rows) == 50
    opens = [int(r[0]) for r in rows]
    assert opens[0] >= interval.floor(before)
    assert opens == [opens[0] - i * 5 * MINUTE for i in range(50)]
    closed = mockfeed_server.model.candles("ETH-USDT", interval, now_ms=opens[0], limit=49, end_ms=opens[1])
    assert [r[1:] for r in rows[1:]] == [
        [wire(v) for v in (c.open, c.high, c.low, c.close, c.volume, c.quote_volume)]
        for c in reversed(closed)
    ]


async def test_kline_since_pages_are_contiguous(mockfeed_server: Server, kind: str) -> None:
    """Paging forward by start gives contiguous, aligned 1m candles (each page newest first)."""
    start = (mockfeed_server.clock.now_ms() // MINUTE - 300) * MINUTE
    seen: list[int] = []
    async with rest(mockfeed_server, kind) as client:
        since = start + 1234  # mid-candle: Bybit includes the candle containing start
        for _ in range(3):
            params = {"category": CATEGORY[kind], "symbol": "BTCUSDT", "interval": "1",
                      "start": since, "limit": 100}
            page = [int(r[0]) for r in result(await client.get("/v5/market/kline", params=params))["list"]]
            assert page == sorted(page, reverse=True)
            seen += reversed(page)
            since = page[0] + MINUTE
    assert seen == [start + i * MINUTE for i in range(300)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"symbol": "NOPEUSDT", "interval": "1"}, "Not supported symbols"),
        ({"symbol": "BTCUSDT", "interval": "1m"}, "Invalid period!"),
        ({"symbol": "BTCUSDT"}, "Invalid period!"),
        ({"interval": "1"}, "params error: symbol invalid"),
        ({"symbol": "BTCUSDT", "interval": "1", "limit": "0"}, "params error: limit invalid"),
        ({"symbol": "BTCUSDT", "interval": "1", "start": "soon"}, "params error: start invalid"),
        ({"symbol": "BTCUSDT", "interval": "1", "category": "option"}, "Illegal category"),
    ],
)
async def test_kline_errors_are_native(
    mockfeed_server: Server, kind: str, params: dict[str, str], message: str
) -> None:
    """Every malformed kline request gets HTTP 200 with retCode 10001 and Bybit's retMsg."""
    async with rest(mockfeed_server, kind) as client:
        query = {"category": CATEGORY[kind], **params}
        assert refused(await client.get("/v5/market/kline", params=query)) == message


async def test_ccxt_load_markets_calls_all_answer(mockfeed_server: Server, kind: str) -> None:
    """The 11 instruments-info calls of ccxt's default load_markets all answer retCode 0."""
    calls: list[dict[str, str]] = [{"category": "spot"}]
    for category in ("linear", "inverse"):
        calls += [{"category": category, "limit": "1000"},
                  {"category": category, "limit": "1000", "status": "PreLaunch"}]
    calls += [{"category": "option", "baseCoin": c} for c in ("BTC", "ETH", "SOL", "XRP", "MNT", "DOGE")]
    async with rest(mockfeed_server, kind) as client:
        for params in calls:
            page = result(await client.get("/v5/market/instruments-info", params=params))
            assert page["category"] == params["category"]
            own = params["category"] == CATEGORY[kind] and "status" not in params
            assert [i["symbol"] for i in page["list"]] == (["BTCUSDT", "ETHUSDT", "SOLUSDT"] if own else [])
            assert page.get("nextPageCursor", "") == ""


async def test_unknown_path_and_method(mockfeed_server: Server, kind: str) -> None:
    """Paths Bybit does not serve are a plain 404, as are other methods on known paths."""
    async with rest(mockfeed_server, kind) as client:
        missing = await client.get("/v5/market/klines")
        posted = await client.post("/v5/market/kline")
    assert missing.status_code == 404 and missing.text == "404 page not found"
    assert posted.status_code == 404
