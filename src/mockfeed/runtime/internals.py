"""The few trio-websocket, wsproto and trio internals mockfeed relies on, all in one place.

trio-websocket has no public way to share a connection's writing, so :func:`take_over_sends`
swaps its stream (``WebSocketConnection._stream``) for one whose sends mockfeed controls, and
:func:`raw_socket` finds the stdlib socket under trio's (``_sock``) for synchronous non-blocking
writes. trio-websocket is pinned to 0.12 and trio below 0.40; both functions check what they find
and raise :class:`RuntimeError` rather than guess.

:func:`release_handshake` only saves memory: once a connection is open, wsproto never again looks
at the HTTP/1.1 parser and request it used for the handshake, so an idle connection need not keep
them. It does nothing if wsproto's layout is not the one it knows.

:func:`drop_late_pongs` works around python-trio/trio-websocket#184: a ping that arrives after the
server sent its close frame makes trio-websocket ask wsproto for a pong, wsproto refuses with
``LocalProtocolError``, and nothing catches it, so one client could stop a whole exchange's
WebSocket listener. The pong is simply not sent (what the open fix, trio-websocket#198, does).
"""

from __future__ import annotations

import socket
from typing import Any

import trio
from trio_websocket import WebSocketConnection
from wsproto import WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import Event, Pong


def socket_stream(ws: WebSocketConnection) -> trio.SocketStream | trio.SSLStream[trio.SocketStream]:
    """The stream a server-side connection reads and writes: a :class:`trio.SocketStream`, or a
    :class:`trio.SSLStream` over one (wss)."""
    stream = getattr(ws, "_stream", None)
    if isinstance(stream, trio.SSLStream) and isinstance(stream.transport_stream, trio.SocketStream):
        return stream
    if not isinstance(stream, trio.SocketStream):
        raise RuntimeError(
            "mockfeed's WebSocket writer needs trio-websocket 0.12 over a trio.SocketStream; "
            f"found {type(stream).__name__}"
        )
    return stream


def raw_socket(stream: trio.SocketStream) -> socket.socket:
    """The stdlib socket under a trio socket stream (non-blocking, owned and closed by trio)."""
    raw = getattr(stream.socket, "_sock", None)
    if not isinstance(raw, socket.socket):
        raise RuntimeError(f"no stdlib socket under {type(stream.socket).__name__}")
    return raw


def take_over_sends(ws: WebSocketConnection, stream: Any) -> None:
    """Make trio-websocket read and write through ``stream`` from now on."""
    ws._stream = stream


def release_handshake(ws: WebSocketConnection) -> None:
    """Drop the HTTP handshake state of an open connection (about 2 KB)."""
    wsproto = getattr(ws, "_wsproto", None)
    handshake = getattr(wsproto, "handshake", None)
    if getattr(wsproto, "connection", None) is None or handshake is None:
        return  # not open yet, or not the wsproto we know
    if hasattr(handshake, "_h11_connection") and hasattr(handshake, "_initiating_request"):
        handshake._h11_connection = None
        handshake._initiating_request = None
    events = getattr(handshake, "_events", None)
    if events is not None and len(events) == 0:
        handshake._events = ()  # only ever read while truthy once the connection is open


class _LatePongSafe(WSConnection):
    """wsproto's connection, sending nothing for a pong once the connection is no longer open."""

    def send(self, event: Event) -> bytes:
        """The bytes for ``event``; none for a pong after a close frame went either way."""
        if isinstance(event, Pong) and self.state is not ConnectionState.OPEN:
            return b""
        return super().send(event)


def drop_late_pongs(ws: WebSocketConnection) -> None:
    """Keep a ping that comes after the close handshake began from ending the server (see above)."""
    wsproto = getattr(ws, "_wsproto", None)
    if type(wsproto) is WSConnection:
        wsproto.__class__ = _LatePongSafe  # same layout, one method more careful
