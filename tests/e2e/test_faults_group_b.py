"""Injected faults through real sockets: what a real client sees, product by product.

Servers start with one fault condition (``maintenance``, ``error_rate=1`` or ``timeout_rate=1`` with
``timeout_ms=50``); ccxt async's ``fetch_ohlcv`` must raise its natural class for the exchange's native
answer. AscendEX is not in the installed ccxt, so httpx checks its answers instead. The heartbeat tests
run the server under trio's MockClock (``autojump_clock``) so each exchange's documented cut-off is
reached in virtual time, unshortened.
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
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, Request

from mockfeed import Server, ThreadedServer
from mockfeed.exchanges.base import FaultKind, RestRequest
from tests.support.fault_servers import FAULT_CONDITIONS, fetch_ohlcv_error, silent_until_closed

# product: (ccxt class, symbol, extra client options)
PRODUCTS: dict[str, tuple[Any, str, dict[str, Any]]] = {
    "binance_spot": (ccxtpro.binance, "BTC/USDT", {}),
    "binance_perpetual": (ccxtpro.binanceusdm, "BTC/USDT:USDT", {}),
    "okx_spot": (ccxtpro.okx, "BTC/USDT", {}),
    "okx_perpetual": (ccxtpro.okx, "BTC/USDT:USDT", {}),
    "gate_io_spot": (ccxtpro.gate, "BTC/USDT", {}),
    "gate_io_perpetual": (ccxtpro.gate, "BTC/USDT:USDT", {}),
    "mexc_spot": (ccxtpro.mexc, "BTC/USDT", {"enableRateLimit": False}),
    "mexc_perpetual": (ccxtpro.mexc, "BTC/USDT:USDT", {"enableRateLimit": False}),
    "hyperliquid_spot": (ccxtpro.hyperliquid, "BTC/USDC", {}),
    "hyperliquid_perpetual": (ccxtpro.hyperliquid, "BTC/USDC:USDC", {}),
}

# family: (maintenance, server error, timeout) as ccxt 4.5 raises them, each with a text its message
# must hold (the native code, or the status when ccxt goes by the status).
RAISES: dict[str, dict[FaultKind, tuple[type[Exception], str]]] = {
    "binance": {
        FaultKind.MAINTENANCE: (ccxt.OnMaintenance, "System is under maintenance."),
        FaultKind.SERVER_ERROR: (ccxt.OperationFailed, "-1001"),
        FaultKind.TIMEOUT: (ccxt.RequestTimeout, "-1007"),
    },
    "okx": {
        FaultKind.MAINTENANCE: (ccxt.OnMaintenance, "50001"),
        FaultKind.SERVER_ERROR: (ccxt.ExchangeNotAvailable, "50013"),
        FaultKind.TIMEOUT: (ccxt.RequestTimeout, "50004"),
    },
    "gate_io": {
        FaultKind.MAINTENANCE: (ccxt.ExchangeNotAvailable, "TOO_BUSY"),
        FaultKind.SERVER_ERROR: (ccxt.ExchangeNotAvailable, "SERVER_ERROR"),
        FaultKind.TIMEOUT: (ccxt.RequestTimeout, "504 Gateway Time-out"),
    },
    "mexc": {
        FaultKind.MAINTENANCE: (ccxt.OnMaintenance, "Under maintenance"),
        FaultKind.SERVER_ERROR: (ccxt.ExchangeError, '"code":500'),
        FaultKind.TIMEOUT: (ccxt.RequestTimeout, "504 Gateway Time-out"),
    },
    "hyperliquid": {
        FaultKind.MAINTENANCE: (ccxt.ExchangeNotAvailable, "502 Bad Gateway"),
        FaultKind.SERVER_ERROR: (ccxt.ExchangeNotAvailable, "Internal Server Error"),
        FaultKind.TIMEOUT: (ccxt.RequestTimeout, "504 Gateway Time-out"),
    },
}


def _family(product: str) -> str:
    return product.rsplit("_", 1)[0]


@pytest.mark.parametrize("kind", list(FaultKind))
@pytest.mark.parametrize("product", list(PRODUCTS))
def test_ccxt_raises_its_natural_class(product: str, kind: FaultKind) -> None:
    """Started under one fault condition, ccxt's fetch_ohlcv raises exactly the expected class."""
    expected, text = RAISES[_family(product)][kind]
    cls, symbol, options = PRODUCTS[product]
    raised = fetch_ohlcv_error(product, FAULT_CONDITIONS[kind], cls, symbol, **options)
    assert type(raised) is expected, repr(raised)
    assert text in str(raised)


@pytest.mark.parametrize("kind", list(FaultKind))
def test_ascend_ex_answers_natively(kind: FaultKind) -> None:
    """AscendEX (no ccxt): barhist gets the plugin's native status and body over a real socket."""
    with ThreadedServer(exchanges=["ascend_ex_spot"], port=0, ws_port=0, **FAULT_CONDITIONS[kind]) as server:
        response = httpx.get(server.rest_url + "/api/pro/v1/barhist", params={"symbol": "BTC/USDT", "interval": "1"})
        expected = server.server.exchanges["ascend_ex_spot"].plugin.fault_response(
            kind, RestRequest("GET", "/api/pro/v1/barhist", (), b"", 0)
        )
    assert response.status_code == expected.status
    assert response.headers["content-type"] == expected.content_type
    assert response.content == expected.body
    if kind is FaultKind.SERVER_ERROR:
        assert response.json() == {"code": 510001, "reason": "SERVER_ERROR", "message": "Something wrong with server."}
    else:
        assert response.text.startswith("<html>") and str(response.status_code) in response.text


# -- heartbeat cut-offs, in virtual time ----------------------------------------------------------


@pytest.mark.mockfeed(exchanges=["mexc_spot", "mexc_perpetual"])
async def test_mexc_cuts_silent_clients(autojump_clock: trio.testing.MockClock, mockfeed_server: Server) -> None:
    """Spot: 30 s without a subscription; contract: 60 s without a ping (MEXC's documented limits)."""
    spot_url = mockfeed_server["mexc_spot"].ws_url + "/ws"
    contract_url = mockfeed_server["mexc_perpetual"].ws_url + "/edge"
    with trio.fail_after(600):
        async with open_websocket_url(spot_url) as ws:
            waited, code = await silent_until_closed(ws, 60)
        assert 30 <= waited <= 32 and code == 1000
        async with open_websocket_url(contract_url) as ws:
            await trio.sleep(50)
            await ws.send_message(json.dumps({"method": "ping"}))  # restarts the 60 s
            assert json.loads(await ws.get_message())["channel"] == "pong"
            waited, code = await silent_until_closed(ws, 120)
        assert 60 <= waited <= 62 and code == 1000


@pytest.mark.mockfeed(exchanges=["hyperliquid_spot", "hyperliquid_perpetual"])
async def test_hyperliquid_cuts_connections_sent_nothing_for_60s(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """A connection the server has sent nothing to for 60 s is closed; a pong counts as sending."""
    for name in ("hyperliquid_spot", "hyperliquid_perpetual"):
        with trio.fail_after(600):
            async with open_websocket_url(mockfeed_server[name].ws_url + "/ws") as ws:
                assert await ws.get_message() == "Websocket connection established."
                await trio.sleep(45)
                await ws.send_message(json.dumps({"method": "ping"}))
                assert json.loads(await ws.get_message()) == {"channel": "pong"}
                waited, code = await silent_until_closed(ws, 120)
            assert 60 <= waited <= 62 and code == 1000, name


@pytest.mark.mockfeed(exchanges=["ascend_ex_spot"])
async def test_ascend_ex_drops_a_client_that_misses_two_pings(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """A quiet client is pinged ({"m":"ping","hp":N}); after two unanswered pings it is disconnected."""
    seen: list[dict[str, Any]] = []
    with trio.fail_after(600):
        async with open_websocket_url(mockfeed_server.ws_url + "/0/api/pro/v1/stream") as ws:
            assert json.loads(await ws.get_message())["m"] == "connected"
            started = trio.current_time()
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    seen.append(json.loads(await ws.get_message()))
            waited = trio.current_time() - started
    assert [m["m"] for m in seen] == ["ping", "ping", "disconnected"]
    assert [m.get("hp") for m in seen[:2]] == [3, 2]
    assert closed.value.reason.code == 1000
    assert 45 <= waited <= 48  # three quiet periods of 15 s: ping, ping, then the cut


async def _silent_client(url: str) -> list[object]:
    """A raw wsproto client that completes the handshake, then never answers anything (not even pings)."""
    host, port = url.removeprefix("ws://").split("/")[0].split(":")
    path = "/" + url.removeprefix("ws://").split("/", 1)[1]
    ws = WSConnection(ConnectionType.CLIENT)
    events: list[object] = []
    stream = await trio.open_tcp_stream(host, int(port))
    async with stream:
        await stream.send_all(ws.send(Request(host=host, target=path)))
        while True:
            data = await stream.receive_some(65536)
            if not data:
                return events
            ws.receive_data(data)
            for event in ws.events():
                events.append(event)
                if isinstance(event, CloseConnection):
                    return events


@pytest.mark.parametrize(
    ("product", "path"),
    [
        ("gate_io_spot", "/ws/v4/"),
        ("gate_io_perpetual", "/v4/ws/usdt"),
        ("binance_spot", "/ws"),  # ping every 20 s, closed 60 s after an unanswered one
        ("binance_perpetual", "/ws"),  # every 3 min, closed after 10 min
    ],
)
async def test_protocol_pings_unanswered_close_the_connection(
    autojump_clock: trio.testing.MockClock, product: str, path: str
) -> None:
    """Gate and Binance ping at the protocol level; a client that never pongs is closed with 1008."""
    from mockfeed import ServerConfig, serve  # the marker cannot take the product as a parameter

    async with serve(ServerConfig(exchanges=[product], port=0, ws_port=0)) as server:
        heartbeat = server.exchanges[product].plugin.heartbeat
        assert heartbeat is not None
        started = trio.current_time()
        with trio.fail_after(3600):
            events = await _silent_client(server.ws_url + path)
        waited = trio.current_time() - started
    assert isinstance(events[0], AcceptConnection)
    assert any(isinstance(e, Ping) for e in events)
    assert isinstance(events[-1], CloseConnection) and events[-1].code == 1008
    # the first ping comes within one interval, the cut one timeout after it
    assert heartbeat.timeout <= waited <= heartbeat.interval + heartbeat.timeout + 1


@pytest.mark.mockfeed(exchanges=["okx_spot", "okx_perpetual"])
async def test_okx_cuts_an_idle_connection_after_30s(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """No subscription and nothing sent for 30 s: OKX closes with 4004; a ping's pong restarts the wait."""
    for name in ("okx_spot", "okx_perpetual"):
        with trio.fail_after(600):
            async with open_websocket_url(mockfeed_server[name].ws_url + "/ws/v5/public") as ws:
                await trio.sleep(20)
                await ws.send_message("ping")
                assert await ws.get_message() == "pong"
                waited, code = await silent_until_closed(ws, 60)
        assert 30 <= waited <= 32 and code == 4004, name
