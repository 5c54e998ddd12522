"""The pieces that keep an idle WebSocket small: CompactQueue behaves as the deque it replaces, and
PlainStream reads a socket with trio's semantics (checkpoints, end of stream, errors)."""

from __future__ import annotations

import socket
import struct
from collections import deque

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from mockfeed.runtime.internals import CompactQueue
from mockfeed.runtime.receiver import PlainStream

OPS = st.lists(st.one_of(st.integers(0, 1000), st.just("pop"), st.just("clear")), max_size=400)


@given(OPS)
def test_compact_queue_matches_a_deque(ops: list[int | str]) -> None:
    queue, reference = CompactQueue(), deque[int]()
    for op in ops:
        if op == "pop":
            if reference:
                assert queue.popleft() == reference.popleft()
            else:
                with pytest.raises(IndexError):
                    queue.popleft()
        elif op == "clear":
            queue.clear()
            reference.clear()
        else:
            assert isinstance(op, int)
            queue.append(op)
            reference.append(op)
        assert len(queue) == len(reference) and bool(queue) == bool(reference)


def test_a_queue_never_drained_does_not_grow_without_bound() -> None:
    queue = CompactQueue()
    for i in range(10_000):
        queue.append(i)
        queue.append(i)
        assert queue.popleft() is not None
    assert len(queue) == 10_000
    assert len(queue._items) <= 2 * len(queue) + 64


async def _pair() -> tuple[PlainStream, socket.socket]:
    ours, theirs = socket.socketpair()
    stream = trio.SocketStream(trio.socket.from_stdlib_socket(ours))
    return PlainStream(stream, ours), theirs


async def test_plain_stream_reads_waits_and_sees_the_end() -> None:
    stream, peer = await _pair()
    with peer:
        peer.sendall(b"hello")
        assert await stream.receive_some(3) == b"hel"
        assert await stream.receive_some() == b"lo"

        async def later() -> None:
            await trio.sleep(0.05)
            peer.sendall(b"!")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(later)
            assert await stream.receive_some(10) == b"!"  # waited for it
        with pytest.raises(ValueError):
            await stream.receive_some(0)
        peer.shutdown(socket.SHUT_WR)
        assert await stream.receive_some(10) == b""
    await stream.aclose()
    with pytest.raises(trio.ClosedResourceError):
        await stream.receive_some(10)


async def test_plain_stream_checkpoints_even_when_data_is_ready() -> None:
    stream, peer = await _pair()
    with peer:
        peer.sendall(b"ready")
        with trio.CancelScope() as scope:
            scope.cancel()
            await stream.receive_some(10)  # cancelled before reading: nothing consumed
        assert scope.cancelled_caught
        assert await stream.receive_some(10) == b"ready"
        peer.sendall(b"x")
        with trio.testing.assert_checkpoints():
            await stream.receive_some(10)
    await stream.aclose()


async def test_a_reset_connection_is_a_broken_resource() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
    accepted.setblocking(False)
    stream = PlainStream(trio.SocketStream(trio.socket.from_stdlib_socket(accepted)), accepted)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()  # linger 0: a TCP reset
    with pytest.raises(trio.BrokenResourceError):
        await stream.receive_some(10)
    await stream.aclose()
