"""A raw-socket HTTP/1.1 keep-alive load generator (used when ``wrk`` is not installed).

``python -m benchmarks.loadgen --port P --path /x [--path /y ...] --connections N --duration S``
keeps N connections each with one request outstanding (as wrk does), the paths taken in turn, skips response bodies without
copying them (Content-Length or chunked), and prints one JSON line::

    {"requests": ..., "seconds": ..., "rps": ..., "bytes": ..., "non_2xx": ..., "errors": ...}

Only responses completed inside the measured window (after ``--warmup``) count. The loop is
bounded by ``--duration`` and by ``--max-requests``.
"""

from __future__ import annotations

import argparse
import json
import selectors
import socket
import time

_HEAD, _BODY, _CHUNK_SIZE, _CHUNK_DATA, _TRAILER = range(5)
RECV_SIZE = 1 << 18


class _Conn:
    """One keep-alive connection and its response parser state."""

    __slots__ = ("buf", "pending", "remaining", "sock", "state", "status")

    def __init__(self, sock: socket.socket) -> None:
        self.reset(sock)

    def reset(self, sock: socket.socket) -> None:
        """Start over on a new socket."""
        self.sock = sock
        self.pending = False  # a request is out without its full response yet
        self.buf = b""
        self.state = _HEAD
        self.remaining = 0
        self.status = 0

    def feed(self, data: bytes) -> bool:
        """Consume received bytes; True when a whole response has arrived."""
        buf = self.buf + data if self.buf else data
        self.buf = b""
        i, n = 0, len(buf)
        while True:
            state = self.state
            if state in (_BODY, _CHUNK_DATA):
                take = min(self.remaining, n - i)
                self.remaining -= take
                i += take
                if self.remaining:
                    return False
                if state == _BODY:
                    self.state = _HEAD
                    self.buf = buf[i:]
                    return True
                self.state = _CHUNK_SIZE
            elif state == _HEAD:
                end = buf.find(b"\r\n\r\n", i)
                if end < 0:
                    self.buf = buf[i:]
                    return False
                head = buf[i:end].lower()
                i = end + 4
                self.status = int(head[9:12])
                pos = head.find(b"\r\ncontent-length:")
                if pos >= 0:
                    stop = head.find(b"\r\n", pos + 2)
                    self.remaining = int(head[pos + 17:stop if stop >= 0 else len(head)])
                    self.state = _BODY
                elif b"\r\ntransfer-encoding: chunked" in head:
                    self.state = _CHUNK_SIZE
                else:
                    raise RuntimeError("response without a length")
                if self.state == _BODY and self.remaining == 0:
                    self.state = _HEAD
                    self.buf = buf[i:]
                    return True
            elif state == _CHUNK_SIZE:
                end = buf.find(b"\r\n", i)
                if end < 0:
                    self.buf = buf[i:]
                    return False
                size = int(buf[i:end].split(b";", 1)[0], 16)
                i = end + 2
                if size:
                    self.state = _CHUNK_DATA
                    self.remaining = size + 2  # the data and its CRLF
                else:
                    self.state = _TRAILER
            else:  # _TRAILER: header lines until an empty one
                end = buf.find(b"\r\n", i)
                if end < 0:
                    self.buf = buf[i:]
                    return False
                empty = end == i
                i = end + 2
                if empty:
                    self.state = _HEAD
                    self.buf = buf[i:]
                    return True


def _connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)
    return sock


def run(
    host: str, port: int, paths: list[str], connections: int, duration: float, warmup: float,
    max_requests: int,
) -> dict[str, float]:
    """Drive the server; the counts of the measured window.

    A connection the server closes between responses (hypercorn closes keep-alive connections
    after ``keep_alive_max_requests``, 1000 by default) is reopened, as wrk does; a close in the
    middle of a response counts as an error.
    """
    requests = [f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode() for path in paths]
    selector = selectors.DefaultSelector()
    conns = [_Conn(_connect(host, port)) for _ in range(connections)]
    for conn in conns:
        selector.register(conn.sock, selectors.EVENT_READ, conn)
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    counted = non_2xx = errors = reconnects = issued = completed = received = 0
    for conn in conns:
        conn.sock.send(requests[issued % len(requests)])
        conn.pending = True
        issued += 1
    now = start
    while now < stop_at:
        events = selector.select(timeout=0.2)
        now = time.perf_counter()
        for key, _ in events:
            conn = key.data
            try:
                data = conn.sock.recv(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                if conn.state != _HEAD or conn.buf:
                    errors += 1
                reconnects += 1
                if conn.pending:
                    issued -= 1  # the request it carried is sent again below
                selector.unregister(conn.sock)
                conn.sock.close()
                if now >= stop_at or issued >= max_requests:
                    continue
                conn.reset(_connect(host, port))
                selector.register(conn.sock, selectors.EVENT_READ, conn)
                conn.sock.send(requests[issued % len(requests)])
                conn.pending = True
                issued += 1
                continue
            if now >= measure_from:
                received += len(data)
            if not conn.feed(data):
                continue
            completed += 1
            conn.pending = False
            if measure_from <= now < stop_at:
                counted += 1
                if not 200 <= conn.status < 300:
                    non_2xx += 1
            if now < stop_at and issued < max_requests:
                try:
                    conn.sock.send(requests[issued % len(requests)])
                    conn.pending = True
                    issued += 1
                except OSError:
                    pass  # the close shows up as end of stream on the next read
        if issued >= max_requests and completed >= issued:
            break
    elapsed = min(now, stop_at) - measure_from
    for conn in conns:
        conn.sock.close()
    selector.close()
    return {
        "requests": counted,
        "seconds": elapsed,
        "rps": counted / elapsed if elapsed > 0 else 0.0,
        "bytes": received,
        "non_2xx": non_2xx,
        "errors": errors,
        "reconnects": reconnects,
    }


def main() -> None:
    """Parse arguments, run, print the JSON result."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loadgen")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True, action="append", help="repeat to take several in turn")
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=0.3)
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    args = parser.parse_args()
    result = run(
        args.host, args.port, args.path, args.connections, min(args.duration, 600.0),
        args.warmup, args.max_requests,
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
