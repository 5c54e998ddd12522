"""What the end-to-end fault tests of every exchange group share (real sockets, real clients).

:data:`FAULT_CONDITIONS` (the server conditions that give every REST answer one fault kind),
:func:`on_mock` (a flow against a fresh threaded mock started under conditions),
:func:`fetch_ohlcv_error` (what an unmodified ccxt client raises there) and
:func:`silent_until_closed` (a WebSocket client that says nothing and waits to be cut off).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

import ccxt
import pytest
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from mockfeed import ThreadedServer
from mockfeed.exchanges.base import FaultKind
from tests.e2e import ccxt_support as cx

T = TypeVar("T")

#: The conditions a server starts with so that every REST request gets one kind of fault.
FAULT_CONDITIONS: dict[FaultKind, dict[str, Any]] = {
    FaultKind.MAINTENANCE: {"maintenance": True},
    FaultKind.SERVER_ERROR: {"error_rate": 1},
    FaultKind.TIMEOUT: {"timeout_rate": 1, "timeout_ms": 50},
}


def on_mock(
    exchange: str, conditions: Mapping[str, Any], flow: Callable[[ThreadedServer], Coroutine[Any, Any, T]]
) -> T:
    """``asyncio.run(flow(server))``, ``server`` a fresh mock of ``exchange`` started under ``conditions``."""
    with ThreadedServer(exchanges=[exchange], port=0, ws_port=0, **conditions) as server:
        return asyncio.run(flow(server))


def fetch_ohlcv_error(
    exchange: str, conditions: Mapping[str, Any], cls: Any, symbol: str, **options: Any
) -> ccxt.BaseError:
    """What ccxt's ``fetch_ohlcv`` (and the ``load_markets`` it starts with) raises against
    :func:`on_mock`; ``options`` go to the ``cls`` client."""

    async def flow(server: ThreadedServer) -> ccxt.BaseError:
        async with cx.open_client(cls, server, **options) as client:
            try:
                await client.fetch_ohlcv(symbol, "1m", limit=5)
            except ccxt.BaseError as raised:
                return raised
        raise AssertionError("fetch_ohlcv succeeded")

    return on_mock(exchange, conditions, flow)


async def silent_until_closed(ws: WebSocketConnection, limit_s: float) -> tuple[float, int]:
    """Virtual seconds until the server closes ``ws`` (nothing may arrive before), and the close code."""
    started = trio.current_time()
    with trio.fail_after(limit_s), pytest.raises(ConnectionClosed) as closed:
        message = await ws.get_message()
        raise AssertionError(f"a silent client got {message!r}")
    return trio.current_time() - started, closed.value.reason.code
