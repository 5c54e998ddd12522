"""A connection's single writer: framed bytes straight to the socket, a bounded backlog otherwise.

trio-websocket keeps each connection (handshake, reading, pings, pongs, close); mockfeed only takes
over writing. :func:`attach` puts an :class:`OutboxStream` in place of the connection's socket
stream, so everything trio-websocket sends goes through the same :class:`Outbox` as mockfeed's
messages, in order. One writer means frames never interleave, and lets a push be written with one
non-blocking ``send`` on the calling task (the hub's ticker) with no lock and no task switch. Only
when the socket buffer is full does the rest wait, in a backlog flushed by a short task; a backlog
that outgrows its bounds marks a slow consumer, which is dropped without delaying anyone else.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable, Iterable

import trio
from trio_websocket import WebSocketConnection

from mockfeed.exchanges.base import Message
from mockfeed.runtime import internals
from mockfeed.runtime.conditions import Conditions
from mockfeed.runtime.frames import Push, encode_frame
from mockfeed.runtime.lanes import Lane
from mockfeed.runtime.receiver import Receive

SEND_QUEUE = 1024  # messages waiting for one connection before it counts as a slow consumer
SEND_QUEUE_BYTES = 4 << 20  # ... or bytes waiting, whichever comes first
_CLOSE_OPCODE = 0x8
_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on with 0 s: closing sends a RST

Spawn = Callable[[Callable[[], Awaitable[None]]], None]


def _ignore(fn: Callable[[], Awaitable[None]]) -> None:
    """A spawn that starts nothing."""


class Outbox:
    """Writes one connection's frames in order; what the hub delivers pushes to.

    ``personalize`` (the session's, when it personalizes pushes) makes this connection's copy of
    each shared message; ``spawn`` starts the flushing task; ``on_slow`` is told once if the
    backlog overflows.
    """

    # What the fan-out reads of every outbox comes first: one cache line per subscriber.
    __slots__ = (  # noqa: RUF023
        "_fast", "_sock",
        "_broken", "_flushing", "_open", "_pending", "_pending_bytes", "_pending_count",
        "_personalize", "_progress", "_queued", "_spawn", "_stream", "_tls", "_written",
        "_lane", "lane_number", "on_slow", "slow",
    )

    def __init__(
        self,
        sock: socket.socket,
        spawn: Spawn,
        personalize: Callable[[Message], Message] | None = None,
        on_slow: Callable[[], None] | None = None,
        tls: trio.SSLStream[trio.SocketStream] | None = None,
    ) -> None:
        self._sock = sock
        self._stream: trio.abc.Stream | None = None  # trio's stream over the socket, to close it
        self._tls = tls  # under TLS every write goes through the SSL stream, from the flush task
        self._spawn = spawn
        self._personalize = personalize
        self.on_slow = on_slow
        self.slow = False
        self.lane_number = 0  # this connection's number for fault draws (set by the connection)
        self._lane: Lane | None = None  # its fault state, made the first time a fault needs it
        self._open = True  # data frames may still be written (no close frame sent or requested)
        self._broken = False  # the socket failed or was reset: nothing will be written any more
        self._fast = personalize is None and tls is None  # deliver() may write straight away
        self._pending: list[bytes] | None = None
        self._pending_count = 0
        self._pending_bytes = 0
        self._flushing = False
        self._queued = 0  # bytes ever queued, and of those, written: for OutboxStream.send_all
        self._written = 0
        self._progress: trio.Event | None = None

    @property
    def lane(self) -> Lane:
        """This connection's fault state (loss, delays, own conditions), made on first use: an
        idle connection under a perfect network never needs one."""
        if self._lane is None:
            self._lane = Lane(self.lane_number)
        return self._lane

    def conditions(self, base: Conditions) -> Conditions:
        """The conditions this connection is under (``base`` unless it has its own keys)."""
        return base if self._lane is None else self._lane.conditions(base)

    @property
    def overridden(self) -> bool:
        """Whether this connection has condition keys of its own."""
        return self._lane is not None and self._lane.overrides is not None

    def deliver(self, push: Push) -> None:
        """Write a shared push now, or queue it behind what is already waiting. Never blocks."""
        if self._fast:
            frame = push.frame
            try:
                sent = self._sock.send(frame)
            except BlockingIOError:
                sent = 0
            except OSError:
                self._fail()
                return
            if sent != len(frame):
                self._queue(frame[sent:], len(push.messages))
            return
        if not self._open:
            return
        if self._personalize is not None:
            personalize = self._personalize
            self._write(b"".join(encode_frame(personalize(m)) for m in push.messages), len(push))
        else:
            self._write(push.frame, len(push))

    def send(self, message: Message) -> None:
        """Write one message of this connection's own (a reply), in order with the pushes."""
        if self._open:
            self._write(encode_frame(message), 1)

    def stop(self) -> None:
        """Accept no more messages (a close is coming); what is queued still goes out first."""
        self._open = False
        self._fast = False

    def release(self) -> None:
        """The connection is over: stop writing and forget its callbacks (no reference cycles)."""
        self.stop()
        self.on_slow = None
        self._spawn = _ignore

    async def abort(self) -> None:
        """Close the socket now (after a slow consumer's reset, so the peer sees it at once)."""
        if self._stream is not None:
            await self._stream.aclose()

    def reset(self) -> None:
        """Make the socket's close an abrupt TCP reset and write nothing more (close it with :meth:`abort`)."""
        with contextlib.suppress(OSError):
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        self._fail()

    @property
    def peer(self) -> str:
        """The peer's address, for logs."""
        try:
            host, port = self._sock.getpeername()[:2]
        except OSError:
            return "a closed connection"
        return f"{host}:{port}"

    @property
    def backlog(self) -> int:
        """Messages queued and not yet handed to the kernel."""
        return self._pending_count

    def _write(self, data: bytes, count: int) -> None:
        if self._pending is None and self._tls is None:
            try:
                sent = self._sock.send(data)
            except BlockingIOError:
                sent = 0
            except OSError:
                self._fail()
                return
            if sent == len(data):
                return
            data = data[sent:]
        self._queue(data, count)

    def _queue(self, data: bytes, count: int) -> None:
        if self._pending is None:
            self._pending = []
        self._pending.append(data)
        self._pending_count += count
        self._pending_bytes += len(data)
        self._queued += len(data)
        self._fast = False
        if self._pending_count > SEND_QUEUE or self._pending_bytes > SEND_QUEUE_BYTES:
            self._overflow()
        elif not self._flushing:
            self._flushing = True
            self._spawn(self._flush)

    async def _flush(self) -> None:
        sock = self._sock
        send = sock.send
        try:
            while self._pending:
                chunks, count = self._pending, self._pending_count
                self._pending = []
                data = memoryview(chunks[0] if len(chunks) == 1 else b"".join(chunks))
                size = len(data)
                if self._tls is not None:
                    await self._tls.send_all(data)
                    data = data[size:]
                while data:
                    try:
                        sent = send(data)
                    except BlockingIOError:
                        await trio.lowlevel.wait_writable(sock)
                        continue
                    data = data[sent:]
                if self._broken:
                    return
                self._written += size
                self._pending_count -= count
                self._pending_bytes -= size
                self._wake()
                await trio.lowlevel.checkpoint()
            self._pending = None
            self._fast = self._open and self._personalize is None and self._tls is None
        except (OSError, ValueError, trio.ClosedResourceError, trio.BusyResourceError):
            self._fail()
        finally:
            self._flushing = False

    def _wake(self) -> None:
        if self._progress is not None:
            self._progress.set()
            self._progress = None

    def _overflow(self) -> None:
        if self.slow:
            return
        self.slow = True
        if self.on_slow is not None:
            self.on_slow()
        # Reset rather than close politely: the peer reads nothing, and a RST frees both ends' buffers.
        with contextlib.suppress(OSError):
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
            self._sock.shutdown(socket.SHUT_RDWR)  # the reader sees EOF, trio-websocket closes
        self._fail()

    def _fail(self) -> None:
        """The socket is gone: drop the backlog and fail whoever waits on it."""
        self._open = False
        self._fast = False
        self._broken = True
        self._pending = []
        self._pending_count = 0
        self._pending_bytes = 0
        self._wake()

    async def wait_written(self) -> None:
        """Wait until every byte queued so far is in the kernel; BrokenResourceError if it never will be."""
        target = self._queued
        while self._written < target and not self._broken:
            if self._progress is None:
                self._progress = trio.Event()
            await self._progress.wait()
        if self._broken:
            raise trio.BrokenResourceError("connection lost")
        await trio.lowlevel.checkpoint()

    def write_control(self, data: bytes) -> None:
        """Queue a frame trio-websocket made (pong, ping, close), after everything before it."""
        if self._broken:
            return
        if data[:1] and data[0] & 0x0F == _CLOSE_OPCODE:
            self.stop()  # nothing may follow a close frame
        self._write(bytes(data), 1)


def broadcast(outboxes: Iterable[Outbox], push: Push) -> None:
    """:meth:`Outbox.deliver` of one push to many outboxes, with the common case inlined.

    The fan-out's inner loop: per subscriber, one non-blocking ``send`` of the shared bytes and
    a length check, with no Python call in between when nothing is queued.
    """
    frame = push.frame
    size = len(frame)
    for box in outboxes:
        if box._fast:
            try:
                sent = box._sock.send(frame)
            except BlockingIOError:
                sent = 0
            except OSError:
                box._fail()
                continue
            if sent != size:
                box._queue(frame[sent:], len(push.messages))
        else:
            box.deliver(push)


class OutboxStream:
    """The socket stream as trio-websocket sees it once :func:`attach` ran: sends go through the
    outbox; receiving is the inner stream's own bound method, so an idle reader waits with no extra
    coroutine frame. Slotted: every open connection holds one."""

    __slots__ = ("inner", "outbox", "receive_some")

    def __init__(
        self,
        inner: trio.SocketStream | trio.SSLStream[trio.SocketStream],
        outbox: Outbox,
        receive_some: Receive | None = None,
    ) -> None:
        self.inner = inner
        self.outbox = outbox
        self.receive_some = inner.receive_some if receive_some is None else receive_some

    async def aclose(self) -> None:
        """Close the socket."""
        await self.inner.aclose()

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Queue ``data`` behind the outbox's backlog and wait until it is written."""
        self.outbox.write_control(bytes(data))
        await self.outbox.wait_written()

    async def wait_send_all_might_not_block(self) -> None:
        """Wait until the outbox's backlog is written."""
        await self.outbox.wait_written()


def attach(
    ws: WebSocketConnection,
    spawn: Spawn,
    personalize: Callable[[Message], Message] | None = None,
) -> Outbox:
    """Make a new :class:`Outbox` the only writer of an accepted connection (see
    :mod:`mockfeed.runtime.internals` for what this relies on).

    Over TLS the frames still go out in order through the one outbox, but written by its flush
    task through the SSL stream (encryption is per connection, so nothing is shared but the frames).
    """
    stream = internals.socket_stream(ws)
    if isinstance(stream, trio.SSLStream):
        raw = internals.raw_socket(stream.transport_stream)
        outbox = Outbox(raw, spawn, personalize, tls=stream)
    else:
        raw = internals.raw_socket(stream)
        outbox = Outbox(raw, spawn, personalize)
    outbox._stream = stream
    internals.take_over_sends(ws, OutboxStream(stream, outbox, internals.receive_method(ws)))
    internals.release_handshake(ws)
    internals.compact_open_connection(ws)
    internals.drop_late_pongs(ws)
    return outbox
