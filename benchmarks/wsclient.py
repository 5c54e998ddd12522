"""WebSocket subscriber pools for the fan-out benchmark, which must never be the bottleneck.

``python -m benchmarks.wsclient --port Q --path /ws/btcusdt@kline_1m --n N``:

1. opens N connections and does each handshake by hand, all in flight at once;
2. prints ``ready N`` and keeps reading (answering pings);
3. for each ``window T0 T1`` line on stdin (epoch seconds) counts the data frames received in
   ``[T0, T1)`` and their lag, receive time minus the push's ``"E"`` (client and server share the
   clock; ``"E"`` has millisecond resolution, so lags read up to 1 ms high), and once ``T1`` has
   passed prints one JSON line: count, lag percentiles, closed connections;
4. exits on ``quit`` or end of input.

The pool is a small C program (epoll, a streaming frame parser) compiled at bench time with the
system compiler and cached; without a compiler the same protocol runs in Python, which keeps up
with light loads only. ``--stuck`` instead opens one connection with a tiny receive buffer that
never reads, and reports on ``report`` whether and when the server dropped it (from the TCP
state, without reading).

Every wait is bounded: the handshakes, each window, and the whole process (``--max-seconds``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import percentile

RECV_SIZE = 1 << 16
_E = b'"E":'
_TCP_ESTABLISHED = 1
_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="

C_SOURCE = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { HANDSHAKE, OPEN, CLOSED };
typedef struct {
    int fd, state;
    unsigned char hdr[14]; int hdr_len, hdr_need;
    unsigned long long left; int opcode, fin;
    unsigned char pfx[128]; int pfx_len;
    char http[4096]; int http_len;
} conn_t;

static double now_s(void) {
    struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}
static double t0 = 1e300, t1 = 1e300, max_end;
static long long count, frames, closes;
static double *lags; static size_t nlags, caplags;

static void add_lag(double v) {
    if (nlags == caplags) { caplags = caplags ? caplags * 2 : 1 << 16; lags = realloc(lags, caplags * sizeof *lags); }
    lags[nlags++] = v;
}
static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y;
}
static double pct(double q) {
    if (!nlags) return -1;
    double pos = (nlags - 1) * q / 100.0; size_t lo = (size_t)pos, hi = lo + 1 < nlags ? lo + 1 : lo;
    return lags[lo] + (lags[hi] - lags[lo]) * (pos - lo);
}
static void report(void) {
    qsort(lags, nlags, sizeof *lags, cmp);
    printf("{\"count\": %lld, \"frames\": %lld, \"closes\": %lld, \"lags\": %zu, \"lag_p50_ms\": %.3f, "
           "\"lag_p99_ms\": %.3f, \"lag_max_ms\": %.3f}\n",
           count, frames, closes, nlags, pct(50), pct(99), nlags ? lags[nlags - 1] : -1.0);
    fflush(stdout);
    count = 0; nlags = 0; t0 = t1 = 1e300;
}
static void frame_done(conn_t *c, double now) {
    if (c->opcode == 9) {  /* ping: masked pong (mask 0) with the same payload */
        unsigned char out[6 + 125]; int n = c->pfx_len;
        out[0] = 0x8A; out[1] = 0x80 | n; memset(out + 2, 0, 4); memcpy(out + 6, c->pfx, n);
        if (send(c->fd, out, 6 + n, MSG_NOSIGNAL) < 0) {}
    } else if (c->opcode == 8) {
        c->state = CLOSED; closes++;
    } else if (c->fin && c->opcode <= 2) {
        frames++;
        if (now >= t0 && now < t1) {
            count++;
            unsigned char *e = memmem(c->pfx, c->pfx_len, "\"E\":", 4);
            if (e) {
                char *end; long long ev = strtoll((char *)e + 4, &end, 10);
                if (end != (char *)e + 4) add_lag(now * 1000.0 - (double)ev);
            }
        }
    }
}
static void feed(conn_t *c, unsigned char *p, ssize_t n, double now) {
    while (n > 0) {
        if (c->hdr_need) {
            while (n > 0 && c->hdr_len < c->hdr_need) { c->hdr[c->hdr_len++] = *p++; n--; }
            if (c->hdr_len < c->hdr_need) return;
            if (c->hdr_need == 2) {
                int sz = c->hdr[1] & 0x7F;
                if (sz == 126) { c->hdr_need = 4; continue; }
                if (sz == 127) { c->hdr_need = 10; continue; }
                c->left = sz;
            } else if (c->hdr_need == 4) {
                c->left = ((unsigned)c->hdr[2] << 8) | c->hdr[3];
            } else {
                c->left = 0; for (int i = 2; i < 10; i++) c->left = (c->left << 8) | c->hdr[i];
            }
            c->opcode = c->hdr[0] & 0x0F; c->fin = c->hdr[0] >> 7;
            c->hdr_need = 0; c->pfx_len = 0;
            if (c->left == 0) { frame_done(c, now); c->hdr_need = 2; c->hdr_len = 0; }
            continue;
        }
        ssize_t take = (unsigned long long)n < c->left ? n : (ssize_t)c->left;
        if (c->pfx_len < (int)sizeof c->pfx) {
            int room = sizeof c->pfx - c->pfx_len; int k = take < room ? take : room;
            memcpy(c->pfx + c->pfx_len, p, k); c->pfx_len += k;
        }
        p += take; n -= take; c->left -= take;
        if (c->left == 0) { frame_done(c, now); c->hdr_need = 2; c->hdr_len = 0; }
    }
}
static int handshake(conn_t *c, unsigned char *p, ssize_t n, double now) {
    int room = sizeof c->http - 1 - c->http_len; if (n > room) n = room;
    memcpy(c->http + c->http_len, p, n); c->http_len += n; c->http[c->http_len] = 0;
    char *end = strstr(c->http, "\r\n\r\n");
    if (!end) return c->http_len < (int)sizeof c->http - 1 ? 0 : -1;
    if (strncmp(c->http, "HTTP/1.1 101", 12) != 0) return -1;
    c->state = OPEN; c->hdr_need = 2; c->hdr_len = 0;
    int used = end + 4 - c->http; if (used < c->http_len) feed(c, (unsigned char *)c->http + used, c->http_len - used, now);
    return 1;
}
int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: HOST PORT PATH N MAX_SECONDS\n"); return 2; }
    const char *host = argv[1]; int port = atoi(argv[2]); const char *path = argv[3]; int n = atoi(argv[4]);
    max_end = now_s() + atof(argv[5]);
    conn_t *conns = calloc(n, sizeof *conns);
    int ep = epoll_create1(0);
    struct sockaddr_in sa = {0}; sa.sin_family = AF_INET; sa.sin_port = htons(port); inet_pton(AF_INET, host, &sa.sin_addr);
    char req[1024];
    int rl = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path, host, port);
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("connect"); return 1; }
        if (send(fd, req, rl, MSG_NOSIGNAL) != rl) { perror("send"); return 1; }
        conns[i].fd = fd; conns[i].state = HANDSHAKE;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    struct epoll_event in = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &in);
    static unsigned char buf[1 << 18]; static char line[256]; int line_len = 0, pending = n, ready_sent = 0;
    struct epoll_event evs[1024];
    for (;;) {
        double now = now_s();
        if (now > max_end) { fprintf(stderr, "wsclient: time limit reached\n"); return 1; }
        if (!ready_sent && pending == 0) { printf("ready %d\n", n); fflush(stdout); ready_sent = 1; }
        if (t1 < 1e300 && now >= t1) report();
        int k = epoll_wait(ep, evs, 1024, 20);
        now = now_s();
        for (int i = 0; i < k; i++) {
            conn_t *c = evs[i].data.ptr;
            if (!c) {
                ssize_t r = read(0, line + line_len, sizeof line - 1 - line_len);
                if (r <= 0) return 0;
                line_len += r; line[line_len] = 0;
                char *nl;
                while ((nl = strchr(line, '\n'))) {
                    *nl = 0;
                    if (strncmp(line, "window ", 7) == 0) { sscanf(line + 7, "%lf %lf", &t0, &t1); count = 0; nlags = 0; }
                    else if (strncmp(line, "quit", 4) == 0) return 0;
                    memmove(line, nl + 1, line_len - (nl + 1 - line) + 1); line_len -= nl + 1 - line;
                }
                continue;
            }
            ssize_t r = recv(c->fd, buf, sizeof buf, 0);
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (r <= 0) {
                if (c->state == HANDSHAKE) { fprintf(stderr, "wsclient: closed during handshake\n"); return 1; }
                if (c->state != CLOSED) closes++;
                c->state = CLOSED; epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd);
                continue;
            }
            if (c->state == HANDSHAKE) {
                int h = handshake(c, buf, r, now);
                if (h < 0) { fprintf(stderr, "wsclient: handshake refused: %.200s\n", c->http); return 1; }
                if (h > 0) pending--;
            } else if (c->state == OPEN) {
                feed(c, buf, r, now);
            }
        }
    }
}
"""


def compiled_client() -> Path | None:
    """The C pool, compiled once per source version into the temp directory; None without a compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None or not sys.platform.startswith("linux"):
        return None
    digest = hashlib.sha256(C_SOURCE.encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "mockfeed-bench"
    binary = folder / f"wsclient-{digest}"
    if binary.exists():
        return binary
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"wsclient-{digest}.c"
    source.write_text(C_SOURCE)
    partial = folder / f"wsclient-{digest}.{os.getpid()}.tmp"
    try:
        subprocess.run(
            [compiler, "-O2", "-o", str(partial), str(source)], check=True, capture_output=True, timeout=120
        )
    except (OSError, subprocess.SubprocessError):
        return None
    partial.replace(binary)
    return binary


def pool_cmd(port: int, path: str, n: int, max_seconds: float, host: str = "127.0.0.1") -> list[str]:
    """The command of a subscriber pool: the C program when it compiles, else this module."""
    binary = compiled_client()
    if binary is not None:
        return [str(binary), host, str(port), path, str(n), str(max_seconds)]
    return [
        sys.executable, "-m", "benchmarks.wsclient", "--host", host, "--port", str(port),
        "--path", path, "--n", str(n), "--max-seconds", str(max_seconds),
    ]


class _Sub:
    """One subscriber connection of the Python pool."""

    __slots__ = ("buf", "closed", "open", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        self.open = False
        self.closed = False


class Pool:
    """The Python pool: N subscribers, the counts of the current window."""

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
            sock.sendall(_request(host, port, path))
            sock.setblocking(False)
            sub = _Sub(sock)
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
                if not sub.buf.startswith(b"HTTP/1.1 101"):
                    raise RuntimeError(f"handshake refused: {sub.buf[:200]!r}")
                rest, sub.buf = sub.buf[end + 4:], b""
                sub.open = True
                pending -= 1
                if rest:
                    self._frames(sub, rest, time.time())

    def serve(self, deadline: float) -> None:
        """Answer ``window`` lines from stdin until ``quit``, end of input or ``deadline``."""
        self.selector.register(sys.stdin.fileno(), selectors.EVENT_READ, None)
        while time.time() < deadline:
            if time.time() >= self.end:
                self._report()
            for key, _ in self.selector.select(timeout=0.02):
                sub: _Sub | None = key.data
                if sub is None:
                    line = sys.stdin.readline()
                    if not line or line.startswith("quit"):
                        return
                    if line.startswith("window "):
                        start, end = line.split()[1:3]
                        self.start, self.end = float(start), float(end)
                        self.count, self.lags = 0, []
                    continue
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
        raise RuntimeError("time limit reached")

    def _report(self) -> None:
        lags = self.lags
        print(json.dumps({
            "count": self.count, "frames": self.frames, "closes": self.closes, "lags": len(lags),
            "lag_p50_ms": percentile(lags, 50), "lag_p99_ms": percentile(lags, 99),
            "lag_max_ms": max(lags) if lags else -1.0,
        }), flush=True)
        self.start = self.end = float("inf")
        self.count, self.lags = 0, []

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
            elif opcode == 9:  # ping: a pong with a zero mask carries the payload unchanged
                sub.sock.send(bytes([0x8A, 0x80 | size]) + b"\0\0\0\0" + buf[start:stop])
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


def _request(host: str, port: int, path: str) -> bytes:
    return (
        b"GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
        % (path.encode(), host.encode(), port, _KEY)
    )


def stuck(host: str, port: int, path: str, deadline: float) -> None:
    """One subscriber that never reads; on ``report``, whether and when the server dropped it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    sock.settimeout(10)
    sock.connect((host, port))
    sock.sendall(_request(host, port, path))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)  # byte by byte: read nothing past the handshake
        if not chunk:
            raise RuntimeError("closed during the handshake")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"handshake refused: {head[:200]!r}")
    print("ready 1", flush=True)
    dropped_at: float | None = None
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ)
    while time.time() < deadline:
        if dropped_at is None:
            info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
            if info[0] != _TCP_ESTABLISHED:
                dropped_at = time.time()
        if selector.select(timeout=0.02):
            line = sys.stdin.readline()
            if not line or line.startswith("quit"):
                break
            if line.startswith("report"):
                print(json.dumps({"dropped": dropped_at is not None, "dropped_at": dropped_at}), flush=True)
    with contextlib.suppress(OSError):
        sock.close()


def main() -> None:
    """Run a pool (or the stuck subscriber) until told to quit."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.wsclient")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--n", type=int, default=1)
    parser.add_argument("--stuck", action="store_true", help="one subscriber that never reads")
    parser.add_argument("--handshake-timeout", type=float, default=60.0)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    args = parser.parse_args()
    deadline = time.time() + args.max_seconds
    if args.stuck:
        stuck(args.host, args.port, args.path, deadline)
        return
    pool = Pool(args.host, args.port, args.path, args.n)
    try:
        pool.handshake(args.handshake_timeout)
        print(f"ready {len(pool.subs)}", flush=True)
        pool.serve(deadline)
    finally:
        pool.close()


if __name__ == "__main__":
    main()

