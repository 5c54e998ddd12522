"""The few trio-websocket, wsproto and trio internals mockfeed relies on, all in one place.

trio-websocket has no public way to share a connection's writing, so :func:`take_over_sends`
swaps its stream (``WebSocketConnection._stream``) for one whose sends mockfeed controls, and
:func:`raw_socket` finds the stdlib socket under trio's (``_sock``) for synchronous non-blocking
writes. trio-websocket is pinned to 0.12 and trio below 0.40; both functions check what they find
and raise :class:`RuntimeError` rather than guess.

:func:`release_handshake` only saves memory: once a connection is open, wsproto only ever asks
its handshake object for pending events (there are none left), so an idle connection need not keep
the HTTP/1.1 parser, request and queue it used. It does nothing if wsproto's layout is not the one
it knows.

:func:`compact_open_connection` saves memory too: an idle open connection otherwise keeps two
760-byte ``collections.deque`` blocks (wsproto's event queue and the data of trio-websocket's
message channel) and two events nothing will wait for again; they become :class:`CompactQueue`
objects and one shared, already set :class:`trio.Event`. It too leaves anything it does not
recognise alone.

:func:`drop_late_pongs` works around python-trio/trio-websocket#184: a ping that arrives after the
server sent its close frame makes trio-websocket ask wsproto for a pong, wsproto refuses with
``LocalProtocolError``, and nothing catches it, so one client could stop a whole exchange's
WebSocket listener. The pong is simply not sent (what the open fix, trio-websocket#198, does).
"""

from __future__ import annotations

import socket
from collections import deque
from typing import Any

import trio
from trio_websocket import WebSocketConnection, WebSocketRequest
from wsproto import WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import Event, Pong, Request
from wsproto.handshake import H11Handshake


def socket_stream(ws: WebSocketConnection) -> trio.SocketStream | trio.SSLStream[trio.SocketStream]:
    """The stream a server-side connection reads and writes: a :class:`trio.SocketStream`, or a
    :class:`trio.SSLStream` over one (wss)."""
    stream = getattr(ws, "_stream", None)
    stream = getattr(stream, "inner", stream)  # a receiver.PlainStream
    if isinstance(stream, trio.SSLStream) and isinstance(stream.transport_stream, trio.SocketStream):
        return stream
    if not isinstance(stream, trio.SocketStream):
        raise RuntimeError(
            "mockfeed's WebSocket writer needs trio-websocket 0.12 over a trio.SocketStream; "
            f"found {type(stream).__name__}"
        )
    return stream


def peer_address(request: WebSocketRequest) -> str:
    """The client IP of a WebSocket request, whatever stream carries it (trio-websocket only knows
    trio's own socket streams)."""
    remote = request.remote
    if not isinstance(remote, str):
        return str(remote.address)
    stream = getattr(getattr(request, "_connection", None), "_stream", None)
    peer = getattr(stream, "peer_address", None)
    return str(peer()) if callable(peer) else remote


def raw_socket(stream: trio.SocketStream) -> socket.socket:
    """The stdlib socket under a trio socket stream (non-blocking, owned and closed by trio)."""
    raw = getattr(stream.socket, "_sock", None)
    if not isinstance(raw, socket.socket):
        raise RuntimeError(f"no stdlib socket under {type(stream.socket).__name__}")
    return raw


def receive_method(ws: WebSocketConnection) -> Any:
    """The ``receive_some`` trio-websocket reads the connection with now."""
    return ws._stream.receive_some


def take_over_sends(ws: WebSocketConnection, stream: Any) -> None:
    """Make trio-websocket read and write through ``stream`` from now on."""
    ws._stream = stream


class _Opened:
    """Stands in for wsproto's finished handshake, which an open connection only asks for events."""

    __slots__ = ()

    def events(self) -> tuple[()]:
        """None left: the handshake is over."""
        return ()


_OPENED = _Opened()


def release_handshake(ws: WebSocketConnection) -> None:
    """Drop the HTTP handshake state of an open connection (about 2.5 KB): its parser, request
    and event queue, replaced by one shared stand-in."""
    wsproto = getattr(ws, "_wsproto", None)
    handshake = getattr(wsproto, "handshake", None)
    if getattr(wsproto, "connection", None) is None or handshake is None:
        return  # not open yet, or not the wsproto we know
    if isinstance(handshake, H11Handshake) and not getattr(handshake, "_events", True):
        wsproto.handshake = _OPENED  # type: ignore[union-attr]


def release_request(request: WebSocketRequest) -> None:
    """Drop the headers of an accepted request's handshake event (about 0.5 KB that trio-websocket
    keeps for the connection's life, also from its reader task's frame, so the event itself is
    emptied). Read what you need from ``request`` before: afterwards it has no headers."""
    event = getattr(request, "_event", None)
    if isinstance(event, Request):
        for name in ("extensions", "extra_headers", "subprotocols"):
            object.__setattr__(event, name, ())  # a frozen dataclass, which nothing reads again


class CompactQueue:
    """The deque operations wsproto's event queue and trio's memory channels use (``append``,
    ``popleft``, ``clear``, ``len``, truth), over a list: about 120 bytes when empty instead of
    760. Popping is O(1): a head index moves, and the list is emptied once it is drained."""

    __slots__ = ("_head", "_items")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._head = 0

    def append(self, item: Any) -> None:
        """Add ``item`` at the end."""
        self._items.append(item)

    def popleft(self) -> Any:
        """Remove and return the first item (IndexError when empty, like a deque)."""
        items, head = self._items, self._head
        if head >= len(items):
            raise IndexError("pop from an empty queue")
        item = items[head]
        head += 1
        if head == len(items):
            items.clear()
            head = 0
        elif head >= _COMPACT_AFTER and head * 2 >= len(items):
            del items[:head]
            head = 0
        else:
            items[head - 1] = None
        self._head = head
        return item

    def clear(self) -> None:
        """Remove every item."""
        self._items.clear()
        self._head = 0

    def __len__(self) -> int:
        return len(self._items) - self._head

    def __bool__(self) -> bool:
        return len(self._items) > self._head


_COMPACT_AFTER = 64  # popped items after which a queue never drained is shifted down
_DONE = trio.Event()  # shared by every open connection for the events that already happened
_DONE.set()


def compact_open_connection(ws: WebSocketConnection) -> None:
    """Trim an accepted server connection's idle memory (see above); no change in behaviour."""
    wsproto = getattr(ws, "_wsproto", None)
    connection = getattr(wsproto, "connection", None)
    events = getattr(connection, "_events", None)
    if type(events) is deque and not events:
        connection._events = CompactQueue()  # type: ignore[union-attr]
    state = getattr(getattr(ws, "_recv_channel", None), "_state", None)
    if type(getattr(state, "data", None)) is deque and not state.data:  # type: ignore[union-attr]
        state.data = CompactQueue()  # type: ignore[union-attr]
    for name in ("_open_handshake", "_for_testing_peer_closed_connection"):
        event = getattr(ws, name, None)
        # Set once the handshake is done (never waited for by a server); set-only (a test hook).
        if isinstance(event, trio.Event) and (event.is_set() or name.startswith("_for_testing")):
            setattr(ws, name, _DONE)


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
