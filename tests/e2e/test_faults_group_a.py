"""Injected faults and heartbeat cut-offs of Bybit, Kraken, Coinbase and KuCoin through real sockets.

REST: an unmodified ccxt client (only URLs changed) against a mock started with ``maintenance``,
``error_rate=1`` or ``timeout_rate=1``: ``fetch_ohlcv`` raises ccxt's own class for each product's
native answer. WebSocket: silent clients under pytest-trio's ``autojump_clock`` (virtual time, real
loopback sockets) are cut off when, and only when, the exchange documents it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import ccxt
import ccxt.pro as ccxtpro
import httpx
import pytest
import trio
import trio.testing
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

from mockfeed import Server
from mockfeed.exchanges.base import FaultKind
from mockfeed.runtime.conditions import Conditions
from tests.support.fault_servers import FAULT_CONDITIONS, fetch_ohlcv_error, silent_until_closed

# (product, ccxt class, symbol, {condition: (expected ccxt class, text the message must hold)})
PRODUCTS: list[tuple[str, Any, str]] = [
    ("bybit_spot", ccxtpro.bybit, "BTC/USDT"),
    ("bybit_perpetual", ccxtpro.bybit, "BTC/USDT:USDT"),
    ("kraken_spot", ccxtpro.kraken, "BTC/USDT"),
    ("coinbase_advanced_trade", ccxtpro.coinbase, "BTC/USDT"),
    ("kucoin_spot", ccxtpro.kucoin, "BTC/USDT"),
    ("kucoin_perpetual", ccxtpro.kucoinfutures, "BTC/USDT:USDT"),
]
_BYBIT = {
    "maintenance": (ccxt.ExchangeNotAvailable, "503"),
    "server_error": (ccxt.ExchangeError, "10016"),
    "timeout": (ccxt.RequestTimeout, "Request timeout"),
}
_KUCOIN = {
    "maintenance": (ccxt.ExchangeNotAvailable, "503"),
    "server_error": (ccxt.ExchangeNotAvailable, "500000"),
    "timeout": (ccxt.RequestTimeout, "504"),
}
EXPECTED: dict[str, dict[str, tuple[type[Exception], str]]] = {
    "bybit_spot": _BYBIT,
    "bybit_perpetual": _BYBIT,
    "kraken_spot": {
        "maintenance": (ccxt.ExchangeNotAvailable, "EService:Unavailable"),
        "server_error": (ccxt.ExchangeNotAvailable, "EGeneral:Internal error"),
        "timeout": (ccxt.ExchangeNotAvailable, "EService:Busy"),
    },
    "coinbase_advanced_trade": {
        "maintenance": (ccxt.ExchangeNotAvailable, "503"),
        "server_error": (ccxt.ExchangeError, "INTERNAL"),
        "timeout": (ccxt.RequestTimeout, "504"),
    },
    "kucoin_spot": _KUCOIN,
    "kucoin_perpetual": _KUCOIN,
}
CASES = [
    pytest.param(product, cls, symbol, condition, id=f"{product}-{condition}")
    for product, cls, symbol in PRODUCTS
    for condition in FAULT_CONDITIONS
]


@pytest.mark.parametrize(("product", "cls", "symbol", "condition"), CASES)
def test_ccxt_raises_its_natural_exception(product: str, cls: Any, symbol: str, condition: FaultKind) -> None:
    """Maintenance, server errors and timeouts each reach ccxt as the class of the native answer.

    The class is exact (not a subclass test) so that a change in either the answer or ccxt's
    mapping shows up here.
    """
    expected, text = EXPECTED[product][condition]
    # enableRateLimit off only for speed (ccxt spaces Kraken's requests client-side).
    raised = fetch_ohlcv_error(product, FAULT_CONDITIONS[condition], cls, symbol, enableRateLimit=False)
    assert type(raised) is expected, repr(raised)
    assert text in str(raised)
    assert "Traceback" not in str(raised)


# -- heartbeat cut-offs (virtual time) ----------------------------------------------------------------


async def stays_silent_and_open(ws: WebSocketConnection, seconds: float) -> None:
    """Nothing arrives and nothing closes ``ws`` for ``seconds`` of virtual time."""
    with trio.move_on_after(seconds) as waited:
        message = await ws.get_message()  # ConnectionClosed here fails the test
        raise AssertionError(f"a silent client got {message!r}")
    assert waited.cancelled_caught


@pytest.mark.parametrize("product", ["bybit_spot", "bybit_perpetual"])
@pytest.mark.mockfeed(exchanges=["bybit_spot", "bybit_perpetual"])
async def test_bybit_cuts_a_silent_connection_after_ten_minutes(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server, product: str
) -> None:
    """No ping and no subscription: open for 10 minutes, closed within the next check (5 s)."""
    path = "/v5/public/spot" if product == "bybit_spot" else "/v5/public/linear"
    async with open_websocket_url(mockfeed_server[product].ws_url + path) as ws:
        elapsed, code = await silent_until_closed(ws, 700)
    assert 600 <= elapsed <= 600 + 5 + 1, elapsed
    assert code == 1001


@asynccontextmanager
async def kucoin_socket(server: Server, product: str) -> AsyncIterator[WebSocketConnection]:
    """A KuCoin connection negotiated through bullet-public, its welcome read."""
    async with httpx.AsyncClient(base_url=server[product].rest_url) as client:
        granted = (await client.post("/api/v1/bullet-public")).json()["data"]
    [instance] = granted["instanceServers"]
    assert (instance["pingInterval"], instance["pingTimeout"]) == (18_000, 10_000)
    query = urlencode({"token": granted["token"], "connectId": "silent"})
    async with open_websocket_url(f"{instance['endpoint']}?{query}") as ws:
        assert json.loads(await ws.get_message())["type"] == "welcome"
        yield ws


@pytest.mark.parametrize("product", ["kucoin_spot", "kucoin_perpetual"])
@pytest.mark.mockfeed(exchanges=["kucoin_spot", "kucoin_perpetual"])
async def test_kucoin_cuts_a_client_that_does_not_ping(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server, product: str
) -> None:
    """Silence beyond the advertised pingInterval + pingTimeout (28 s) closes the connection."""
    async with kucoin_socket(mockfeed_server, product) as ws:
        elapsed, code = await silent_until_closed(ws, 60)
    assert 28 <= elapsed <= 28 + 1 + 1, elapsed  # checked once a second
    assert code == 1000


@pytest.mark.mockfeed(exchanges=["coinbase_advanced_trade"])
async def test_coinbase_cuts_a_client_that_does_not_subscribe(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """Coinbase has no client ping; a connection that subscribes to nothing within 5 s is closed."""
    async with open_websocket_url(mockfeed_server.ws_url) as ws:
        elapsed, code = await silent_until_closed(ws, 60)
    assert 5 <= elapsed <= 5 + 1 + 1, elapsed  # checked once a second
    assert code == 1000


@pytest.mark.mockfeed(exchanges=["kraken_spot"])
async def test_kraken_keeps_a_silent_client(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """Kraken documents no idle cut-off (its ping is optional): 15 silent minutes, then a pong."""
    async with open_websocket_url(mockfeed_server.ws_url + "/v2") as ws:
        assert json.loads(await ws.get_message())["channel"] == "status"
        await stays_silent_and_open(ws, 15 * 60)
        await ws.send_message(json.dumps({"method": "ping", "req_id": 7}))
        with trio.fail_after(5):
            pong = json.loads(await ws.get_message())
    assert (pong["method"], pong["req_id"]) == ("pong", 7)


@pytest.mark.mockfeed(exchanges=["coinbase_advanced_trade"])
async def test_coinbase_closes_a_stalled_channel_unless_it_has_heartbeats(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """While pushes stall, candles alone go quiet and are closed after 60 s; heartbeats keep a socket."""

    async def subscribe(ws: WebSocketConnection, channel: str, products: list[str]) -> None:
        await ws.send_message(json.dumps({"type": "subscribe", "channel": channel, "product_ids": products}))

    async with open_websocket_url(mockfeed_server.ws_url) as bare, \
            open_websocket_url(mockfeed_server.ws_url) as kept:  # fmt: skip
        await subscribe(bare, "candles", ["BTC-USDT"])
        await subscribe(kept, "candles", ["BTC-USDT"])
        await subscribe(kept, "heartbeats", [])
        with trio.fail_after(10):
            while json.loads(await bare.get_message())["events"][0].get("type") != "update":
                pass  # the ack, the snapshot, then a live update: pushes flow
        mockfeed_server.conditions = Conditions(stall=True)
        stalled = trio.current_time()
        with trio.fail_after(120), pytest.raises(ConnectionClosed) as closed:
            while True:
                await bare.get_message()  # at most a push already on its way
        elapsed = trio.current_time() - stalled
        assert 59 <= elapsed <= 63, elapsed
        assert closed.value.reason.code == 1000
        channels = set()
        with trio.move_on_after(120):
            while True:
                channels.add(json.loads(await kept.get_message())["channel"])
        assert "heartbeats" in channels and kept.closed is None
