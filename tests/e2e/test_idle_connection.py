"""An open WebSocket keeps only what it still needs (docs/performance-websocket.md, idle memory):
checked on a real connection, and the connection still works afterwards."""

from __future__ import annotations

import json

import pytest
import trio
from trio_websocket import open_websocket_url

from mockfeed import Server
from mockfeed.runtime import internals
from mockfeed.runtime.receiver import PlainStream

pytestmark = pytest.mark.mockfeed(exchanges=["binance_spot"])


async def test_an_open_connection_is_trimmed_and_still_serves(mockfeed_server: Server) -> None:
    exchange = mockfeed_server["binance_spot"]
    with trio.fail_after(20):
        async with open_websocket_url(exchange.ws_url + "/ws") as client:
            await client.send_message(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@kline_1m"], "id": 7}))
            assert json.loads(await client.get_message()) == {"result": None, "id": 7}
            [connection] = exchange.open_connections
            ws = connection.ws
            assert ws._wsproto.handshake is internals._OPENED
            assert isinstance(ws._wsproto.connection._events, internals.CompactQueue)
            assert isinstance(ws._recv_channel._state.data, internals.CompactQueue)
            assert ws._open_handshake is internals._DONE
            assert isinstance(ws._stream.inner, trio.SocketStream)
            assert internals.receive_method(ws).__self__.__class__ is PlainStream
            push = json.loads(await client.get_message())
            assert push["k"]["i"] == "1m"  # messages still flow both ways
            await client.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 8}))
            while "id" not in (reply := json.loads(await client.get_message())):
                pass  # a push that came first
            assert reply == {"result": ["btcusdt@kline_1m"], "id": 8}
