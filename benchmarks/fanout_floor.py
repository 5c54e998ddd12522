"""Reference servers for the fan-out figures, each in its own process like mockfeed.

``python -m benchmarks.fanout_floor --mode raw``: the floor of fan-out. Plain non-blocking stdlib
sockets, a hand-made handshake, and per push one message encoded and framed once, then written with
one ``send`` per subscriber: what Python can do at all, nearly all of it the kernel's loopback send.

``python -m benchmarks.fanout_floor --mode tws``: bare trio-websocket, accepting connections and
reading messages; the reference for an idle connection's memory.

Both print ``floor ws=ws://127.0.0.1:Q`` when listening. The raw floor then takes commands on
stdin, one per line, and answers each with ``done PUSHES``:

* ``burst T0 T1``: push as fast as it can from epoch time ``T0`` to ``T1``;
* ``rate R T0 T1``: push ``R`` times a second from ``T0`` to ``T1``.

The message is a Binance kline push of the same shape and size as mockfeed's, with ``"E"`` the
current time, so a subscriber pool measures both servers alike.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import selectors
import socket
import sys
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
BACKLOG = 4096


def push_message(event_ms: int) -> str:
    """A Binance raw-stream kline push (about 330 bytes) with event time ``event_ms``."""
    open_ms = event_ms - event_ms % 60_000
    return json.dumps({
        "e": "kline", "E": event_ms, "s": "BTCUSDT",
        "k": {
            "t": open_ms, "T": open_ms + 59_999, "s": "BTCUSDT", "i": "1m", "f": open_ms,
            "L": open_ms + 352, "o": "73851.48000000", "c": "73844.74000000", "h": "73852.06000000",
            "l": "73828.27000000", "v": "1.91962000", "n": 353, "x": False, "q": "141748.01060610",
            "V": "0.50468000", "Q": "37266.46259540", "B": "0",
        },
    }, separators=(",", ":"))


def frame(message: str) -> bytes:
    """An unmasked text frame."""
    payload = message.encode()
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    return bytes((0x81, 126)) + size.to_bytes(2, "big") + payload


class RawFloor:
    """Subscribers on plain sockets; pushes framed once and sent directly."""

    def __init__(self, listener: socket.socket) -> None:
        self.listener = listener
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ, None)
        self.selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "stdin")
        self.handshaking: dict[socket.socket, bytes] = {}
        self.subscribers: list[socket.socket] = []

    def serve(self) -> None:
        """Accept, handshake and read commands until end of input."""
        while True:
            for key, _ in self.selector.select(timeout=1.0):
                if key.data is None:
                    self._accept()
                elif key.data == "stdin":
                    line = sys.stdin.readline()
                    if not line or line.startswith("quit"):
                        return
                    self._command(line.split())
                else:
                    self._read(key.fileobj)  # type: ignore[arg-type]

    def _accept(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except BlockingIOError:
            return
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        self.handshaking[sock] = b""
        self.selector.register(sock, selectors.EVENT_READ, "peer")

    def _read(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(sock)
            return
        if sock not in self.handshaking:
            return  # a subscriber's pong or anything else: ignored
        head = self.handshaking[sock] + data
        if b"\r\n\r\n" not in head:
            self.handshaking[sock] = head
            return
        key = b""
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                key = value.strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        sock.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        del self.handshaking[sock]
        self.subscribers.append(sock)

    def _drop(self, sock: socket.socket) -> None:
        self.selector.unregister(sock)
        self.handshaking.pop(sock, None)
        if sock in self.subscribers:
            self.subscribers.remove(sock)
        sock.close()

    def _command(self, words: list[str]) -> None:
        if words[:1] == ["burst"]:
            pushes = self._push(float(words[1]), float(words[2]), 0.0)
        elif words[:1] == ["rate"]:
            pushes = self._push(float(words[2]), float(words[3]), 1.0 / float(words[1]))
        else:
            print(f"error unknown command {words!r}", flush=True)
            return
        print(f"done {pushes}", flush=True)

    def _push(self, start: float, end: float, period: float) -> int:
        time.sleep(max(0.0, start - time.time()))
        pushes = 0
        due = time.time()
        while True:
            now = time.time()
            if now >= end:
                return pushes
            if period:
                if now < due:
                    time.sleep(due - now)
                    continue
                due += period
            data = frame(push_message(time.time_ns() // 1_000_000))
            for sock in self.subscribers:
                try:
                    sent = sock.send(data)
                except BlockingIOError:
                    sent = 0
                except OSError:
                    continue
                if sent < len(data):
                    sock.setblocking(True)  # the floor never drops a message: wait for this one
                    with contextlib.suppress(OSError):
                        sock.sendall(data[sent:])
                    sock.setblocking(False)
            pushes += 1


async def _serve_tws(listener: socket.socket) -> None:
    import trio
    from trio_websocket import ConnectionClosed, WebSocketRequest, WebSocketServer

    async def handler(request: WebSocketRequest) -> None:
        ws = await request.accept()
        try:
            while True:
                await ws.get_message()
        except ConnectionClosed:
            pass

    trio_listener = trio.SocketListener(trio.socket.from_stdlib_socket(listener))
    server = WebSocketServer(handler, [trio_listener])
    async with trio.open_nursery() as nursery:
        await nursery.start(server.run)
        print(f"floor ws=ws://127.0.0.1:{listener.getsockname()[1]}", flush=True)


def main() -> None:
    """Listen on an ephemeral loopback port and serve in the chosen mode."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fanout_floor")
    parser.add_argument("--mode", choices=["raw", "tws"], default="raw")
    args = parser.parse_args()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(BACKLOG)
    if args.mode == "tws":
        import trio

        trio.run(_serve_tws, listener)
        return
    listener.setblocking(False)
    print(f"floor ws=ws://127.0.0.1:{listener.getsockname()[1]}", flush=True)
    RawFloor(listener).serve()


if __name__ == "__main__":
    main()
