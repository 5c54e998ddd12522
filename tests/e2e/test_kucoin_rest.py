"""KuCoin spot and Futures REST over real sockets: httpx against the mockfeed_server fixture."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio

from mockfeed import Server
from mockfeed.market import Candle, Interval

pytestmark = pytest.mark.mockfeed(exchanges=["kucoin_spot", "kucoin_perpetual"], seed=11)

EXCHANGE = {"spot": "kucoin_spot", "perp": "kucoin_perpetual"}
KLINES = {"spot": "/api/v1/market/candles", "perp": "/api/v1/kline/query"}
MINUTE = 60_000
ONE_MINUTE = Interval.parse("1m")
TIMEOUT = 10.0


@pytest.fixture(params=["spot", "perp"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each KuCoin product in turn."""
    return str(request.param)


@asynccontextmanager
async def rest(server: Server, kind: str) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on one product's REST listener, every call bounded in time."""
    async with httpx.AsyncClient(base_url=server[EXCHANGE[kind]].rest_url, timeout=TIMEOUT) as client:
        with trio.fail_after(TIMEOUT * 2):
            yield client


def ok(response: httpx.Response) -> Any:
    """The data of KuCoin's success envelope (HTTP 200, code "200000", JSON)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    payload = response.json()
    assert payload["code"] == "200000"
    return payload["data"]


def refused(response: httpx.Response, code: str, status: int) -> str:
    """KuCoin's error envelope; returns the message."""
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) == {"code", "msg"} and payload["code"] == code
    return str(payload["msg"])


def spot_row(candle: Candle) -> list[str]:
    """A spot row built independently of the plugin."""

    def s(x: Decimal) -> str:
        return format(x.normalize(), "f")

    return [str(candle.open_time // 1000), s(candle.open), s(candle.close), s(candle.high),
            s(candle.low), s(candle.volume), s(candle.quote_volume)]


async def test_timestamp_and_status(mockfeed_server: Server, kind: str) -> None:
    """/api/v1/timestamp is the server clock; /api/v1/status is open; quota headers come along."""
    async with rest(mockfeed_server, kind) as client:
        before = mockfeed_server.clock.now_ms()
        response = await client.get("/api/v1/timestamp")
        after = mockfeed_server.clock.now_ms()
        assert before <= ok(response) <= after
        assert response.headers["gw-ratelimit-limit"] == "2000"
        assert 0 < int(response.headers["gw-ratelimit-remaining"]) < 2000
        assert 0 < int(response.headers["gw-ratelimit-reset"]) <= 30_000
        assert ok(await client.get("/api/v1/status")) == {"status": "open", "msg": ""}


async def test_load_markets_paths_answer_on_both_mocks(mockfeed_server: Server, kind: str) -> None:
    """Every listing path ccxt's spot or futures class reads answers 200000 on either mock."""
    async with rest(mockfeed_server, kind) as client:
        currencies = ok(await client.get("/api/v3/currencies"))
        symbols = ok(await client.get("/api/v2/symbols"))
        tickers = ok(await client.get("/api/v1/market/allTickers"))
        contracts = ok(await client.get("/api/v1/contracts/active"))
    assert {c["currency"] for c in currencies} == {"BTC", "ETH", "SOL", "USDT"}
    if kind == "spot":
        assert [s["symbol"] for s in symbols] == ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
        assert len(tickers["ticker"]) == 3
        assert contracts == []
    else:
        assert symbols == [] and tickers["ticker"] == []
        assert [c["symbol"] for c in contracts] == ["XBTUSDTM", "ETHUSDTM", "SOLUSDTM"]
        assert all(c["nextFundingRateTime"] > 0 for c in contracts)


async def test_bullet_public(mockfeed_server: Server, kind: str) -> None:
    """POST bullet-public points at this mock's WS listener; GET is not a route (404000)."""
    async with rest(mockfeed_server, kind) as client:
        bullet = ok(await client.post("/api/v1/bullet-public"))
        wrong = await client.get("/api/v1/bullet-public")
    server = bullet["instanceServers"][0]
    assert server["endpoint"] == mockfeed_server[EXCHANGE[kind]].ws_url + "/"
    assert (server["pingInterval"], server["pingTimeout"]) == (18000, 10000)
    assert isinstance(bullet["token"], str) and bullet["token"]
    refused(wrong, "404000", 404)


async def test_spot_latest_candles(mockfeed_server: Server) -> None:
    """Spot candles: newest first, forming candle first, seven strings per row equal to the model."""
    async with rest(mockfeed_server, "spot") as client:
        now = mockfeed_server.clock.now_ms()
        start = (now - 30 * MINUTE) // 1000
        rows = ok(await client.get(KLINES["spot"], params={"symbol": "ETH-USDT", "type": "1min",
                                                          "startAt": start}))
        after = mockfeed_server.clock.now_ms()
    times = [int(r[0]) * 1000 for r in rows]
    assert times == sorted(times, reverse=True)
    assert times[0] == ONE_MINUTE.floor(after) or times[0] == ONE_MINUTE.floor(now)
    assert times == [times[0] - i * MINUTE for i in range(len(times))]
    assert 30 <= len(rows) <= 31
    closed = mockfeed_server.model.candle("ETH-USDT", ONE_MINUTE, times[1], after)
    assert closed is not None and rows[1] == spot_row(closed)


async def test_perp_candles_page_forward(mockfeed_server: Server) -> None:
    """Futures klines: oldest first from `from`, 200 at most, numbers, contracts for volume."""
    async with rest(mockfeed_server, "perp") as client:
        start = ONE_MINUTE.floor(mockfeed_server.clock.now_ms()) - 2 * 86_400_000
        rows = ok(await client.get(KLINES["perp"], params={"symbol": "XBTUSDTM", "granularity": 1,
                                                          "from": start}))
        more = ok(await client.get(KLINES["perp"], params={"symbol": "XBTUSDTM", "granularity": 1,
                                                          "from": rows[-1][0] + 1}))
    assert [r[0] for r in rows + more] == [start + i * MINUTE for i in range(400)]
    candle = mockfeed_server.model.candle("BTC-USDT", ONE_MINUTE, start, start + MINUTE)
    assert candle is not None
    pair = mockfeed_server.model.pair("BTC-USDT").spec
    assert rows[0] == [start, float(candle.open), float(candle.high), float(candle.low),
                       float(candle.close), int(candle.volume / pair.lot_size)]


@pytest.mark.parametrize(
    ("kind", "params", "code", "status"),
    [
        ("spot", {"symbol": "NOPE-USDT", "type": "1min"}, "400100", 200),
        ("spot", {"symbol": "BTC-USDT", "type": "1m"}, "400100", 200),
        ("spot", {"symbol": "BTC-USDT", "type": "1min", "startAt": "yesterday"}, "400100", 400),
        ("perp", {"symbol": "BTCUSDTM", "granularity": "1"}, "100003", 200),
        ("perp", {"symbol": "XBTUSDTM", "granularity": "3"}, "400100", 200),
        ("perp", {"symbol": "XBTUSDTM", "granularity": "1min"}, "400100", 400),
        ("perp", {"symbol": "XBTUSDTM", "granularity": "1", "to": "1.5e12"}, "400100", 400),
    ],
)
async def test_kline_errors(
    mockfeed_server: Server, kind: str, params: dict[str, str], code: str, status: int
) -> None:
    """Malformed klines requests get KuCoin's envelope with its status, never a 500."""
    async with rest(mockfeed_server, kind) as client:
        refused(await client.get(KLINES[kind], params=params), code, status)


async def test_unknown_path(mockfeed_server: Server, kind: str) -> None:
    """A path KuCoin does not serve is 404 with {"code":"404000"}, the other product's klines too."""
    other = KLINES["perp" if kind == "spot" else "spot"]
    async with rest(mockfeed_server, kind) as client:
        for path in ("/api/v1/nope", other):
            assert refused(await client.get(path), "404000", 404)
