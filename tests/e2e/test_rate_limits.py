"""Exchange rate limits through real sockets: native refusals, thresholds, bans, WebSocket floods.

Exact thresholds are checked with httpx and trio-websocket inside the test's trio run, on
pytest-trio's ``mock_clock`` (frozen trio time, moved only by ``mock_clock.jump``): the limits count
the runtime's monotonic time, so which window a request falls in is decided by the test, not by
the machine's speed. ccxt (asyncio, against a threaded server in real time) hammers until it raises
its own exception classes; those loops are bounded by counts, never by durations.
"""

from __future__ import annotations

import json
from typing import Any

import ccxt
import ccxt.pro as ccxtpro
import httpx
import pytest
import trio
import trio.testing
from trio_websocket import ConnectionClosed, open_websocket_url

from mockfeed import Server, ThreadedServer
from mockfeed.runtime.conditions import Conditions
from tests.e2e import ccxt_support as cx
from tests.support.fault_servers import on_mock

LIMITS = {"rate_limits": True}


async def get(client: httpx.AsyncClient, path: str, **params: str) -> httpx.Response:
    """One GET, bounded in (trio) time."""
    with trio.fail_after(30):
        return await client.get(path, params=params)


async def fill(client: httpx.AsyncClient, count: int, path: str, **params: str) -> httpx.Response:
    """``count`` GETs that must all pass (200), as a test fills a window; the last answer."""
    for _ in range(count):
        response = await get(client, path, **params)
        assert response.status_code == 200, response.text
    return response


# -- Binance REST --------------------------------------------------------------------------------------


@pytest.mark.mockfeed(exchanges=["binance_spot"], **LIMITS)
async def test_binance_spot_429_exactly_above_6000_then_418(
    mockfeed_server: Server, mock_clock: trio.testing.MockClock
) -> None:
    """300 exchangeInfo (weight 20) pass; the next request gets 429 -1003; the 10th refusal bans (418)."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        for i in range(300):
            response = await get(client, "/api/v3/exchangeInfo")
            assert response.status_code == 200
            assert response.headers["X-MBX-USED-WEIGHT-1M"] == str(20 * (i + 1))
        mock_clock.jump(15)
        refused = await get(client, "/api/v3/ping")
        assert refused.status_code == 429
        assert refused.json()["code"] == -1003
        assert "current limit is 6000 request weight per 1 MINUTE" in refused.json()["msg"]
        assert refused.headers["Retry-After"] == "45"
        assert refused.headers["X-MBX-USED-WEIGHT-1M"] == "6000"
        statuses = [(await get(client, "/api/v3/ping")).status_code for _ in range(9)]
        assert statuses == [429] * 8 + [418]
        mock_clock.jump(60)  # a fresh minute, but the 2-minute ban holds
        banned = await get(client, "/api/v3/ping")
        assert banned.status_code == 418
        assert banned.headers["Retry-After"] == "60"
        assert banned.json()["msg"].startswith("Way too much request weight used; IP banned until ")
        mock_clock.jump(60)
        after = await get(client, "/api/v3/ping")
        assert after.status_code == 200
        assert after.headers["X-MBX-USED-WEIGHT-1M"] == "1"


@pytest.mark.mockfeed(exchanges=["binance_perpetual"], **LIMITS)
async def test_binance_futures_klines_weight_by_limit(
    mockfeed_server: Server, mock_clock: trio.testing.MockClock
) -> None:
    """USDⓈ-M: 2400 per minute; klines weigh by limit, so a limit=1000 page no longer fits at 2396."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        await fill(client, 239, "/fapi/v1/klines", symbol="BTCUSDT", interval="1m", limit="1001")  # weight 10
        await fill(client, 6, "/fapi/v1/time")
        big = await get(client, "/fapi/v1/klines", symbol="BTCUSDT", interval="1m", limit="1000")
        assert (big.status_code, big.json()["code"]) == (429, -1003)
        small = await get(client, "/fapi/v1/klines", symbol="BTCUSDT", interval="1m", limit="499")
        assert small.status_code == 200
        assert small.headers["X-MBX-USED-WEIGHT-1M"] == "2398"


@pytest.mark.mockfeed(exchanges=["binance_spot"])
async def test_limits_are_off_by_default_and_switch_on_live(
    mockfeed_server: Server, mock_clock: trio.testing.MockClock
) -> None:
    """Off: the weight passes 6000 and every answer is 200. Switched on: the next request is refused."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        response = await fill(client, 301, "/api/v3/exchangeInfo")
        assert response.headers["X-MBX-USED-WEIGHT-1M"] == "6020"
        mockfeed_server.conditions = Conditions(rate_limits=True)
        assert (await get(client, "/api/v3/ping")).status_code == 429


# -- OKX and Bybit REST ------------------------------------------------------------------------------


@pytest.mark.mockfeed(exchanges=["okx_spot"], **LIMITS)
async def test_okx_candles_40_per_2s_history_20_each_on_its_own(
    mockfeed_server: Server, mock_clock: trio.testing.MockClock
) -> None:
    """candles: the 41st request within 2 s gets 429 50011; history-candles counts its own 20."""
    candles = {"instId": "BTC-USDT", "bar": "1m", "limit": "2"}
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        await fill(client, 40, "/api/v5/market/candles", **candles)
        mock_clock.jump(1.5)
        refused = await get(client, "/api/v5/market/candles", **candles)
        assert refused.status_code == 429
        assert refused.json() == {"msg": "Too Many Requests", "code": "50011"}
        await fill(client, 20, "/api/v5/market/history-candles", **candles)
        assert (await get(client, "/api/v5/market/history-candles", **candles)).status_code == 429
        mock_clock.jump(0.5)  # the first 40 are now 2 s old: the window has room again
        assert (await get(client, "/api/v5/market/candles", **candles)).status_code == 200


@pytest.mark.mockfeed(exchanges=["bybit_spot"], **LIMITS)
async def test_bybit_601st_request_in_5s_is_403_and_bans_10_minutes(
    mockfeed_server: Server, mock_clock: trio.testing.MockClock
) -> None:
    """600 requests in 5 s pass; the 601st is 403 "access too frequent", and so is all for 10 min."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        await fill(client, 600, "/v5/market/time")
        mock_clock.jump(4.9)
        refused = await get(client, "/v5/market/time")
        assert (refused.status_code, refused.text) == (403, "access too frequent")
        mock_clock.jump(599)
        assert (await get(client, "/v5/market/time")).status_code == 403
        mock_clock.jump(1.1)
        assert (await get(client, "/v5/market/time")).status_code == 200


@pytest.mark.mockfeed(exchanges=["kucoin_spot"], **LIMITS)
async def test_kucoin_public_pool_2000_weight_per_30s(
    mockfeed_server: Server, mock_clock: trio.testing.MockClock
) -> None:
    """allTickers weigh 15, timestamp 3: at 1998 used the next timestamp no longer fits (429000)."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        await fill(client, 133, "/api/v1/market/allTickers")
        last = await get(client, "/api/v1/timestamp")
        assert (last.status_code, last.headers["gw-ratelimit-remaining"]) == (200, "2")
        refused = await get(client, "/api/v1/timestamp")
        assert refused.status_code == 429
        assert refused.json() == {"code": "429000", "msg": "Too many requests."}
        assert refused.headers["gw-ratelimit-remaining"] == "2"
        mock_clock.jump(30)
        assert (await get(client, "/api/v1/timestamp")).status_code == 200


@pytest.mark.mockfeed(exchanges=["gate_io_spot"], **LIMITS)
async def test_gate_200_per_10s_per_endpoint(
    mockfeed_server: Server, mock_clock: trio.testing.MockClock
) -> None:
    """The 201st request to one endpoint in a window is 429 TOO_MANY_REQUESTS; others are unaffected."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        await fill(client, 200, "/api/v4/spot/time")
        refused = await get(client, "/api/v4/spot/time")
        assert refused.status_code == 429
        assert refused.json()["label"] == "TOO_MANY_REQUESTS"
        assert refused.headers["X-Gate-RateLimit-Requests-Remain"] == "0"
        assert (await get(client, "/api/v4/spot/currency_pairs")).status_code == 200
        mock_clock.jump(10)
        assert (await get(client, "/api/v4/spot/time")).status_code == 200


@pytest.mark.mockfeed(exchanges=["mexc_spot", "mexc_perpetual"], **LIMITS)
async def test_mexc_spot_500_weight_per_10s_and_contract_510(
    mockfeed_server: Server, mock_clock: trio.testing.MockClock
) -> None:
    """Spot: 50 exchangeInfo (weight 10) fit, the 51st is 429 with Retry-After. Contract: 21st is 510."""
    async with httpx.AsyncClient(base_url=mockfeed_server["mexc_spot"].rest_url) as client:
        await fill(client, 50, "/api/v3/exchangeInfo")
        refused = await get(client, "/api/v3/exchangeInfo")
        assert (refused.status_code, refused.headers["Retry-After"]) == (429, "10")
        assert (await get(client, "/api/v3/time")).status_code == 200  # another endpoint
    async with httpx.AsyncClient(base_url=mockfeed_server["mexc_perpetual"].rest_url) as client:
        for _ in range(20):
            assert (await get(client, "/api/v1/contract/ping")).json()["success"] is True
        excessive = (await get(client, "/api/v1/contract/ping")).json()
        assert (excessive["success"], excessive["code"]) == (False, 510)


@pytest.mark.mockfeed(exchanges=["hyperliquid_perpetual"], **LIMITS)
async def test_hyperliquid_1200_weight_per_minute(
    mockfeed_server: Server, mock_clock: trio.testing.MockClock
) -> None:
    """60 meta requests (weight 20) fill the minute; the next is 429."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        for _ in range(60):
            with trio.fail_after(30):
                assert (await client.post("/info", json={"type": "meta"})).status_code == 200
        with trio.fail_after(30):
            refused = await client.post("/info", json={"type": "meta"})
        assert refused.status_code == 429
        mock_clock.jump(60)
        with trio.fail_after(30):
            assert (await client.post("/info", json={"type": "meta"})).status_code == 200


@pytest.mark.mockfeed(exchanges=["coinbase_advanced_trade", "kraken_spot"], **LIMITS)
async def test_coinbase_10_per_second_and_kraken_5_per_5s(
    mockfeed_server: Server, mock_clock: trio.testing.MockClock
) -> None:
    """Coinbase: the 11th request in a second is 429 rate_limit_exceeded. Kraken: the 6th is EGeneral."""
    async with httpx.AsyncClient(base_url=mockfeed_server["coinbase_advanced_trade"].rest_url) as client:
        await fill(client, 10, "/api/v3/brokerage/time")
        refused = await get(client, "/api/v3/brokerage/time")
        assert (refused.status_code, refused.json()["error"]) == (429, "rate_limit_exceeded")
        v2 = await get(client, "/v2/time")
        assert v2.json() == {"errors": [{"id": "rate_limit_exceeded", "message": "Too many requests"}]}
    async with httpx.AsyncClient(base_url=mockfeed_server["kraken_spot"].rest_url) as client:
        for _ in range(5):
            assert (await get(client, "/0/public/Time")).json()["error"] == []
        assert (await get(client, "/0/public/Time")).json() == {"error": ["EGeneral:Too many requests"]}
        assert (await get(client, "/0/public/SystemStatus")).json()["error"] == []


# -- Binance WebSocket ---------------------------------------------------------------------------------


async def burst(url: str, count: int) -> tuple[int, int | None]:
    """Send ``count`` LIST_SUBSCRIPTIONS at one instant; (answers received, close code or None)."""
    answers = 0
    async with open_websocket_url(url) as ws:
        for i in range(count):
            await ws.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
        try:
            with trio.fail_after(10):
                while answers < count:
                    assert json.loads(await ws.get_message())["result"] == []
                    answers += 1
        except ConnectionClosed as closed:
            return answers, closed.reason.code
    return answers, None


async def paced(url: str, count: int, gap_s: float, clock: trio.testing.MockClock) -> int:
    """Send ``count`` LIST_SUBSCRIPTIONS ``gap_s`` apart, each answered before the next; the answers."""
    async with open_websocket_url(url) as ws:
        for i in range(count):
            await ws.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
            with trio.fail_after(10):
                assert json.loads(await ws.get_message()) == {"result": [], "id": i}
            clock.jump(gap_s)
    return count


@pytest.mark.mockfeed(exchanges=["binance_spot", "binance_perpetual"], **LIMITS)
async def test_binance_ws_flood_disconnects_after_the_message_rate(
    mockfeed_server: Server, mock_clock: trio.testing.MockClock
) -> None:
    """Spot: 5 messages in a second are answered, the 6th closes 1008; USDⓈ-M allows 10."""
    spot = mockfeed_server["binance_spot"].ws_url + "/ws"
    perp = mockfeed_server["binance_perpetual"].ws_url + "/ws"
    assert await burst(spot, 6) == (5, 1008)
    assert await burst(perp, 11) == (10, 1008)
    assert await paced(spot, 20, 0.25, mock_clock) == 20  # 4 per second for 5 seconds is fine


@pytest.mark.mockfeed(exchanges=["mexc_spot"], **LIMITS)
async def test_mexc_spot_ws_closes_past_100_messages_per_second(
    mockfeed_server: Server, mock_clock: trio.testing.MockClock
) -> None:
    """101 PINGs at once: 100 are answered, then the connection is closed."""
    answers = 0
    async with open_websocket_url(mockfeed_server.ws_url + "/ws") as ws:
        for i in range(101):
            await ws.send_message(json.dumps({"method": "PING", "id": i}))
        with pytest.raises(ConnectionClosed) as closed, trio.fail_after(10):
            while True:
                assert json.loads(await ws.get_message())["msg"] == "PONG"
                answers += 1
    assert (answers, closed.value.reason.code) == (100, 1008)


@pytest.mark.mockfeed(exchanges=["binance_spot"])
async def test_binance_ws_flood_is_free_when_limits_are_off(
    mockfeed_server: Server, mock_clock: trio.testing.MockClock
) -> None:
    """Without the rate_limits condition, a burst of 20 messages is answered in full."""
    assert await burst(mockfeed_server.ws_url + "/ws", 20) == (20, None)


# -- ccxt ----------------------------------------------------------------------------------------------


async def hammer(call: Any, tries: int) -> list[Exception]:
    """Call ``call()`` up to ``tries`` times; every exception raised, in order."""
    raised: list[Exception] = []
    for _ in range(tries):
        try:
            await call()
        except ccxt.BaseError as error:
            raised.append(error)
            if not isinstance(error, ccxt.DDoSProtection) or " 418 " in str(error):
                break  # the ban, or anything but Binance's 429
    return raised


def test_ccxt_binance_raises_ddos_protection_for_429_then_418() -> None:
    """ccxt maps both 429 and 418 to DDoSProtection (its handle_errors), 429 first, then the ban."""

    async def flow(server: ThreadedServer) -> list[Exception]:
        async with cx.open_client(ccxtpro.binance, server, enableRateLimit=False) as client:
            return await hammer(client.public_get_exchangeinfo, 1000)

    raised = on_mock("binance_spot", LIMITS, flow)
    assert raised and all(type(e) is ccxt.DDoSProtection for e in raised), raised[:3]
    assert " 429 " in str(raised[0]) and "-1003" in str(raised[0])
    assert " 418 " in str(raised[-1]) and "IP banned until" in str(raised[-1])


def test_ccxt_okx_raises_rate_limit_exceeded() -> None:
    """OKX's 50011 (HTTP 429) is ccxt's RateLimitExceeded."""

    async def flow(server: ThreadedServer) -> list[Exception]:
        async with cx.open_client(ccxtpro.okx, server, enableRateLimit=False) as client:
            await client.load_markets()
            raised: list[Exception] = []
            for _ in range(200):
                try:
                    await client.fetch_ohlcv("BTC/USDT", "1m", limit=5)
                except ccxt.BaseError as error:
                    raised.append(error)
                    break
            return raised

    raised = on_mock("okx_spot", LIMITS, flow)
    assert len(raised) == 1 and type(raised[0]) is ccxt.RateLimitExceeded, raised
    assert "50011" in str(raised[0])


def test_ccxt_bybit_raises_rate_limit_exceeded_on_403() -> None:
    """Bybit's IP ban (HTTP 403) is ccxt's RateLimitExceeded."""

    async def flow(server: ThreadedServer) -> list[Exception]:
        async with cx.open_client(ccxtpro.bybit, server, enableRateLimit=False) as client:
            return await hammer(client.fetch_time, 1000)

    raised = on_mock("bybit_spot", LIMITS, flow)
    assert raised and type(raised[0]) is ccxt.RateLimitExceeded, raised[:3]
