"""A lean ``receive_some`` for WebSocket connections over plain TCP.

trio-websocket's reader task spends an idle connection's whole life waiting in
``stream.receive_some``; through :class:`trio.SocketStream` that wait is seven coroutine frames and
a context manager deep (about 3.5 KB per connection). :class:`PlainStream` does the same from one
frame over the stdlib socket, with trio's semantics: a checkpoint on every call (cancellation is honoured
before reading, and a read that succeeds at once still yields to the scheduler), and socket errors
turned into :class:`trio.ClosedResourceError` (socket closed) or :class:`trio.BrokenResourceError`.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Awaitable, Callable

import trio

from mockfeed.runtime import internals

DEFAULT_RECEIVE_SIZE = 65536  # trio's own default when no size is given
_CLOSED = (errno.EBADF, errno.ENOTSOCK)  # trio: the socket was closed under us

Receive = Callable[[int | None], Awaitable[bytes]]


class PlainStream(trio.abc.AsyncResource):
    """A :class:`trio.SocketStream` as trio-websocket uses it, reading the socket from one frame.

    trio-websocket only sees ``receive_some``, ``send_all`` and ``aclose``; everything else stays
    with ``inner``, which still owns (and closes) the socket.
    """

    __slots__ = ("inner", "sock")

    def __init__(self, inner: trio.SocketStream, sock: socket.socket) -> None:
        self.inner = inner
        self.sock = sock

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """Up to ``max_bytes`` (default 64 KiB) read from the socket; ``b""`` at end of stream."""
        size = DEFAULT_RECEIVE_SIZE if max_bytes is None else max_bytes
        if size < 1:
            raise ValueError("max_bytes must be >= 1")
        await trio.lowlevel.checkpoint_if_cancelled()
        waited = False
        while True:
            try:
                data = self.sock.recv(size)
                break
            except BlockingIOError:
                pass
            except OSError as error:
                if not waited:
                    await trio.lowlevel.cancel_shielded_checkpoint()
                if error.errno in _CLOSED:
                    raise trio.ClosedResourceError("this socket was already closed") from None
                raise trio.BrokenResourceError(f"socket connection broken: {error}") from error
            await trio.lowlevel.wait_readable(self.sock)
            waited = True
        if not waited:
            await trio.lowlevel.cancel_shielded_checkpoint()
        return data

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """The inner stream's ``send_all``."""
        await self.inner.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        """The inner stream's ``wait_send_all_might_not_block``."""
        await self.inner.wait_send_all_might_not_block()

    async def aclose(self) -> None:
        """Close the inner stream (and socket)."""
        await self.inner.aclose()

    def peer_address(self) -> str:
        """The client's IP address."""
        return str(self.inner.socket.getpeername()[0])


class PlainListener(trio.abc.Listener[PlainStream]):
    """A TCP listener whose connections are :class:`PlainStream`."""

    def __init__(self, inner: trio.SocketListener) -> None:
        self.inner = inner

    async def accept(self) -> PlainStream:
        """The next connection."""
        stream = await self.inner.accept()
        return PlainStream(stream, internals.raw_socket(stream))

    async def aclose(self) -> None:
        """Stop listening."""
        await self.inner.aclose()
