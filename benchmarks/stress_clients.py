"""Light WebSocket clients for the stress run: wsproto over trio streams, thousands per process.

A :class:`WsClient` does the handshake, sends text, reads messages (answering pings), closes
politely or resets the TCP connection (RST) the way a crashed client does.
"""

from __future__ import annotations

import collections
import socket
import struct
import time

import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)

HOST = "127.0.0.1"
RECEIVE = 65536


class HandshakeFailed(ConnectionError):
    """The server refused or dropped the upgrade."""


class WsClient:
    """One client connection; ``close_code`` is set once the server closed (None: open)."""

    def __init__(self, stream: trio.SocketStream, ws: WSConnection) -> None:
        self.stream = stream
        self.ws = ws
        self.close_code: int | None = None
        self.closed_at: float | None = None
        self._messages: collections.deque[str | bytes] = collections.deque()
        self._text: list[str] = []
        self._bytes: list[bytes] = []

    @classmethod
    async def open(cls, port: int, path: str, *, timeout: float = 15.0) -> WsClient:
        """Connect and complete the handshake within ``timeout`` seconds."""
        with trio.fail_after(timeout):
            stream = await trio.open_tcp_stream(HOST, port)
            ws = WSConnection(ConnectionType.CLIENT)
            client = cls(stream, ws)
            try:
                await stream.send_all(ws.send(Request(host=f"{HOST}:{port}", target=path)))
                while True:
                    data = await stream.receive_some(RECEIVE)
                    if not data:
                        raise HandshakeFailed("closed during the handshake")
                    ws.receive_data(data)
                    accepted = False
                    for event in ws.events():
                        if isinstance(event, AcceptConnection):
                            accepted = True
                        elif isinstance(event, RejectConnection):
                            raise HandshakeFailed(f"refused with {event.status_code}")
                        elif accepted:
                            await client._handle(event)
                    if accepted:
                        return client
            except BaseException:
                await stream.aclose()
                raise

    async def _handle(self, event: Event) -> None:
        if isinstance(event, TextMessage):
            self._text.append(event.data)
            if event.message_finished:
                self._messages.append("".join(self._text))
                self._text = []
        elif isinstance(event, BytesMessage):
            self._bytes.append(bytes(event.data))
            if event.message_finished:
                self._messages.append(b"".join(self._bytes))
                self._bytes = []
        elif isinstance(event, Ping):
            await self._send(event.response())
        elif isinstance(event, CloseConnection):
            if self.close_code is None:
                self.close_code = event.code
                self.closed_at = time.monotonic()
            await self._send(event.response())

    async def _send(self, event: Event) -> None:
        try:
            await self.stream.send_all(self.ws.send(event))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._mark_dropped()
        except Exception:  # wsproto refuses to send in a closed state: nothing more to say
            pass

    def _mark_dropped(self) -> None:
        if self.close_code is None:
            self.close_code = 1006
            self.closed_at = time.monotonic()

    async def send_text(self, text: str) -> None:
        """Send one text message."""
        await self._send(TextMessage(data=text))

    async def receive(self) -> str | bytes | None:
        """The next message, or None once the connection is closed (pings answered meanwhile)."""
        while not self._messages:
            if self.close_code is not None:
                return None
            try:
                data = await self.stream.receive_some(RECEIVE)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            if not data:
                self._mark_dropped()
                return None
            self.ws.receive_data(data)
            for event in self.ws.events():
                await self._handle(event)
        return self._messages.popleft()

    async def drain(self) -> None:
        """Read (and drop) messages until the connection closes."""
        while await self.receive() is not None:
            pass

    async def close(self, timeout: float = 5.0) -> None:
        """Close politely: send a close frame, wait for the server's, then close the socket."""
        with trio.move_on_after(timeout):
            if self.close_code is None:
                await self._send(CloseConnection(code=1000))
                await self.drain()
        await self.stream.aclose()

    async def reset(self) -> None:
        """Drop the connection with a TCP reset, as a killed client does."""
        self.stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await self.stream.aclose()
