"""A small trio-websocket client for the tests: talk, collect replies, learn how it ended."""

from __future__ import annotations

import functools
from contextlib import AbstractAsyncContextManager

import attrs
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket

from mockfeed import ThreadedServer
from mockfeed.exchanges import ExchangeType
from tests.reliability.support import ws_resource

Message = str | bytes


@attrs.define
class Conversation:
    """The replies a connection got and the close code it ended with (None: still open)."""

    replies: list[Message] = attrs.Factory(list)
    close_code: int | None = None


@functools.cache
def resource(server: ThreadedServer, product: ExchangeType) -> str:
    """The path (and token query) to open on ``product``'s WebSocket port; tokens are reused."""
    return ws_resource(product, server[product].rest_url)


def connect(
    port: int, path: str, *, queue: int = 256
) -> AbstractAsyncContextManager[WebSocketConnection]:
    """``open_websocket`` on loopback with bounded handshake and close waits."""
    return open_websocket(
        "127.0.0.1", port, path, use_ssl=False, message_queue_size=queue,
        connect_timeout=10, disconnect_timeout=5,
    )


async def _collect(ws: WebSocketConnection, into: list[Message]) -> None:
    try:
        while True:
            into.append(await ws.get_message())
    except ConnectionClosed:
        pass


async def converse(port: int, path: str, messages: list[Message], *, limit: float = 20) -> Conversation:
    """Send ``messages`` in order, then close: every reply is collected, and the close code kept.

    The server reads messages in order, so once the close handshake completes it has handled all
    of them; a server-side close (native refusal, or 1011 after a failure) shows in the code.
    """
    talk = Conversation()
    with trio.fail_after(limit):
        async with connect(port, path) as ws, trio.open_nursery() as nursery:
            nursery.start_soon(_collect, ws, talk.replies)
            for message in messages:
                try:
                    await ws.send_message(message)
                except ConnectionClosed:
                    break
            await ws.aclose()
        assert ws.closed is not None
        talk.close_code = ws.closed.code
    return talk


async def alive(ws: WebSocketConnection, within: float = 10) -> bool:
    """Whether the connection still answers a protocol ping within ``within`` seconds."""
    with trio.move_on_after(within):
        try:
            await ws.ping()
        except ConnectionClosed:
            return False
        return True
    return False
