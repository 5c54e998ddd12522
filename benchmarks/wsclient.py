"""A raw-socket pool of WebSocket subscribers that counts frames in bulk.

``python -m benchmarks.wsclient --port Q --path /ws/btcusdt@kline_1s --n N --window W``:

1. opens N connections and does each handshake by hand, all in flight at once;
2. prints ``ready N`` and keeps reading (answering pings) until a start time ``T0`` (epoch
   seconds) arrives as one line on stdin;
3. counts the data frames received in ``[T0, T0 + W)`` and, for each, the lag ``receive time -
   "E"`` in ms (client and server share the clock);
4. prints one JSON line and exits.

Bounded in time: the handshake, the wait for ``T0`` and the window each have a deadline.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import selectors
import socket
import sys
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
RECV_SIZE = 1 << 16
_E = b'"E":'


class _Sub:
    """One subscriber connection."""

    __slots__ = ("accept", "buf", "closed", "open", "sock")

    def __init__(self, sock: socket.socket, key: bytes) -> None:
        self.sock = sock
        self.accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        self.buf = b""
        self.open = False
        self.closed = False


class Pool:
    """N subscribers and the counts of the window."""

    def __init__(self, host: str, port: int, path: str, n: int) -> None:
        self.selector = selectors.DefaultSelector()
        self.subs: list[_Sub] = []
        self.start = float("inf")
        self.end = float("inf")
        self.count = 0
        self.frames = 0
        self.closes = 0
        self.lags: list[float] = []
        for _ in range(n):
            sock = socket.create_connection((host, port), timeout=10)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            key = base64.b64encode(os.urandom(16))
            sock.sendall(
                b"GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                % (path.encode(), host.encode(), port, key)
            )
            sock.setblocking(False)
            sub = _Sub(sock, key)
            self.subs.append(sub)
            self.selector.register(sock, selectors.EVENT_READ, sub)

    def handshake(self, timeout: float) -> None:
        """Wait for every 101 response; :class:`RuntimeError` on refusal or timeout."""
        deadline = time.monotonic() + timeout
        pending = len(self.subs)
        while pending:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{pending} handshakes unanswered after {timeout}s")
            for key, _ in self.selector.select(timeout=0.5):
                sub: _Sub = key.data
                data = sub.sock.recv(RECV_SIZE)
                if not data:
                    raise RuntimeError("connection closed during the handshake")
                if sub.open:
                    self._frames(sub, data, time.time())
                    continue
                sub.buf += data
                end = sub.buf.find(b"\r\n\r\n")
                if end < 0:
                    continue
                head = sub.buf[:end]
                if not head.startswith(b"HTTP/1.1 101"):
                    raise RuntimeError(f"handshake refused: {head[:200]!r}")
                if sub.accept not in head:
                    raise RuntimeError("bad Sec-WebSocket-Accept")
                rest, sub.buf = sub.buf[end + 4:], b""
                sub.open = True
                pending -= 1
                if rest:
                    self._frames(sub, rest, time.time())

    def pump(self, until: float, stdin: bool = False) -> str | None:
        """Read frames until epoch time ``until`` (or a stdin line when ``stdin``); the line."""
        if stdin:
            self.selector.register(sys.stdin.fileno(), selectors.EVENT_READ, None)
        try:
            while True:
                left = until - time.time()
                if left <= 0:
                    return None
                for key, _ in self.selector.select(timeout=min(left, 0.5)):
                    sub: _Sub | None = key.data
                    if sub is None:
                        return sys.stdin.readline()
                    try:
                        data = sub.sock.recv(RECV_SIZE)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        self._drop(sub)
                        continue
                    self._frames(sub, data, time.time())
        finally:
            if stdin:
                self.selector.unregister(sys.stdin.fileno())

    def _drop(self, sub: _Sub) -> None:
        if not sub.closed:
            sub.closed = True
            self.closes += 1
            self.selector.unregister(sub.sock)
            sub.sock.close()

    def _frames(self, sub: _Sub, data: bytes, now: float) -> None:
        """Parse whole frames (server frames are unmasked); count data frames in the window."""
        buf = sub.buf + data if sub.buf else data
        i, n = 0, len(buf)
        counting = self.start <= now < self.end
        now_ms = now * 1000.0
        while n - i >= 2:
            b0, b1 = buf[i], buf[i + 1]
            size = b1 & 0x7F
            head = 2
            if size == 126:
                if n - i < 4:
                    break
                size = int.from_bytes(buf[i + 2:i + 4], "big")
                head = 4
            elif size == 127:
                if n - i < 10:
                    break
                size = int.from_bytes(buf[i + 2:i + 10], "big")
                head = 10
            if n - i < head + size:
                break
            start = i + head
            stop = start + size
            opcode = b0 & 0x0F
            if opcode in (0, 1, 2) and b0 & 0x80:
                self.frames += 1
                if counting:
                    self.count += 1
                    at = buf.find(_E, start, stop)
                    if at >= 0:
                        comma = buf.find(b",", at + 4, stop)
                        self.lags.append(now_ms - int(buf[at + 4:comma]))
            elif opcode == 9:  # ping: answer with a masked pong carrying the same payload
                mask = os.urandom(4)
                payload = bytes(b ^ mask[k % 4] for k, b in enumerate(buf[start:stop]))
                sub.sock.send(bytes([0x8A, 0x80 | size]) + mask + payload)
            elif opcode == 8:
                self._drop(sub)
                return
            i = stop
        sub.buf = buf[i:]

    def close(self) -> None:
        """Close every socket."""
        for sub in self.subs:
            if not sub.closed:
                sub.sock.close()
        self.selector.close()


def main() -> None:
    """Connect, wait for the start time, count the window, print the JSON result."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.wsclient")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--window", type=float, required=True)
    parser.add_argument("--handshake-timeout", type=float, default=60.0)
    parser.add_argument("--start-timeout", type=float, default=120.0)
    args = parser.parse_args()
    window = min(args.window, 300.0)
    pool = Pool(args.host, args.port, args.path, args.n)
    try:
        pool.handshake(args.handshake_timeout)
        print(f"ready {len(pool.subs)}", flush=True)
        line = pool.pump(time.time() + args.start_timeout, stdin=True)
        if not line:
            raise RuntimeError("no start time on stdin")
        pool.start = float(line)
        pool.end = pool.start + window
        pool.pump(pool.end)
    finally:
        pool.close()
    print(json.dumps({
        "n": args.n,
        "window": window,
        "count": pool.count,
        "frames": pool.frames,
        "closes": pool.closes,
        "lags_ms": [round(lag, 3) for lag in pool.lags],
    }), flush=True)


if __name__ == "__main__":
    main()
