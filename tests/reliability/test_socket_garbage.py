"""Garbage on the sockets: non-HTTP bytes, truncated and trickled requests, idle handshakes, resets.

Each is answered or cut off within a bound, and the server keeps serving everyone else meanwhile.
The bounds come from the server's settings: hypercorn's ``keep_alive_timeout`` (5 s) closes a REST
connection whose request headers are not complete; trio-websocket's ``connect_timeout`` (10 s) one
whose upgrade request is not; :data:`mockfeed.runtime.rest.BODY_TIMEOUT` one whose body is not.
"""

from __future__ import annotations

import struct

import httpx
import pytest
import trio

from mockfeed import Server
from mockfeed.runtime import rest
from tests.reliability.support import RawOutcome, handshake, raw_exchange
from tests.reliability.wsclient import alive, connect

REST_HEADER_TIMEOUT = 5.0  # hypercorn's keep_alive_timeout: idle or incomplete request headers
WS_HANDSHAKE_TIMEOUT = 10.0  # the WS listener's connect_timeout
MARGIN = 5.0  # generous: two shared cores
GARBAGE = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not HTTP at all \x00\xff\r\n\r\n"

pytestmark = pytest.mark.mockfeed(exchanges=["binance_spot"])


def _ports(server: Server) -> tuple[int, int]:
    exchange = server.first
    return exchange.rest_port, exchange.ws_port


async def _bystander_served(server: Server) -> None:
    """A REST request and a WebSocket ping, both answered in time."""
    with trio.fail_after(10):
        async with httpx.AsyncClient(base_url=server.rest_url) as client:
            assert (await client.get("/api/v3/ping")).status_code == 200
        async with connect(server.first.ws_port, "/ws") as ws:
            assert await alive(ws)


async def test_non_http_bytes_are_refused_at_once(mockfeed_server: Server) -> None:
    """A TLS hello or random bytes on either port: 400 and the connection closed, immediately."""
    rest_port, ws_port = _ports(mockfeed_server)
    for port in (rest_port, ws_port):
        outcome = await raw_exchange(port, [GARBAGE], wait=10)
        assert outcome.data.startswith(b"HTTP/1.1 400"), outcome.data[:100]
        assert outcome.closed and outcome.seconds < 2
    await _bystander_served(mockfeed_server)


async def test_incomplete_requests_are_cut_off_while_others_are_served(mockfeed_server: Server) -> None:
    """Truncated headers, slowloris trickles, silent connections and an upgrade that never ends.

    All run at once (so the suite waits for the longest bound only), next to a bystander.
    """
    rest_port, ws_port = _ports(mockfeed_server)
    trickle = [b"GET /api/v3/time HTTP/1.1\r\n", *(b"X-Slow-%d: y\r\n" % i for i in range(60))]
    ws_trickle = [handshake("/ws")[:-2], *(b"X-Slow-%d: y\r\n" % i for i in range(60))]
    cases: dict[str, tuple[int, list[bytes], float, float]] = {
        # name: (port, chunks, pause between chunks, bound)
        "REST: headers cut short": (rest_port, [b"GET /api/v3/time HTTP/1.1\r\nHost: x\r\n"], 0,
                                    REST_HEADER_TIMEOUT),
        "REST: a header line every 0.5 s": (rest_port, trickle, 0.5, REST_HEADER_TIMEOUT),
        "REST: connect and say nothing": (rest_port, [], 0, REST_HEADER_TIMEOUT),
        "WS: upgrade request cut short": (ws_port, [handshake("/ws")[:40]], 0, WS_HANDSHAKE_TIMEOUT),
        "WS: a header line every 0.5 s": (ws_port, ws_trickle, 0.5, WS_HANDSHAKE_TIMEOUT),
        "WS: connect and say nothing": (ws_port, [], 0, WS_HANDSHAKE_TIMEOUT),
    }
    outcomes: dict[str, RawOutcome] = {}

    async def run(name: str) -> None:
        port, chunks, pause, bound = cases[name]
        outcomes[name] = await raw_exchange(port, chunks, wait=bound + MARGIN, pause=pause)

    async with trio.open_nursery() as nursery:
        for name in cases:
            nursery.start_soon(run, name)
        await trio.sleep(1)
        await _bystander_served(mockfeed_server)
    for name, (_, _, _, bound) in cases.items():
        outcome = outcomes[name]
        assert outcome.closed, f"{name}: still open after {outcome.seconds:.1f} s"
        assert outcome.seconds < bound + MARGIN, name
        assert b"101 Switching" not in outcome.data, name


async def test_a_body_that_never_arrives_gets_408(
    mockfeed_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Content-Length announced, a few bytes sent, then nothing: 408 after BODY_TIMEOUT, closed."""
    monkeypatch.setattr(rest, "BODY_TIMEOUT", 0.5)
    rest_port, _ = _ports(mockfeed_server)
    request = b"POST /api/v3/ping HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"
    outcome = await raw_exchange(rest_port, [request], wait=10)
    assert outcome.data.startswith(b"HTTP/1.1 408"), outcome.data[:100]
    assert outcome.closed and outcome.seconds < 5


async def test_an_announced_oversized_body_is_refused_before_it_is_sent(mockfeed_server: Server) -> None:
    """Content-Length of 100 GB: 413 at once, without waiting for the bytes, and closed."""
    rest_port, _ = _ports(mockfeed_server)
    request = b"POST /api/v3/ping HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n"
    outcome = await raw_exchange(rest_port, [request], wait=10)
    assert outcome.data.startswith(b"HTTP/1.1 413"), outcome.data[:100]
    assert outcome.closed and outcome.seconds < 2


async def test_header_size_limits(mockfeed_server: Server) -> None:
    """Headers above the limits: REST 431, WebSocket 400; a thousand small headers pass.

    Both rest on h11's 16 KiB bound on an incomplete request, checked between reads: REST reads
    64 KiB at a time and trio-websocket 4 KiB, so the effective limits are about 64 and 20 KiB.
    """
    rest_port, ws_port = _ports(mockfeed_server)
    big = b"X-Big: " + b"a" * 70_000 + b"\r\n"
    outcome = await raw_exchange(rest_port, [b"GET /api/v3/time HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n"],
                                 wait=10)
    assert outcome.data.startswith(b"HTTP/1.1 431") and outcome.closed
    outcome = await raw_exchange(ws_port, [handshake("/ws", b"X-Big: " + b"a" * 40_000 + b"\r\n")], wait=10)
    assert outcome.data.startswith(b"HTTP/1.1 400") and outcome.closed
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(1000))
    outcome = await raw_exchange(rest_port, [b"GET /api/v3/ping HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"],
                                 wait=10, stop_at=b"{}")
    assert outcome.data.startswith(b"HTTP/1.1 200")


async def _reset_after(port: int, data: bytes) -> None:
    """Connect, send ``data``, and reset the connection (RST, no FIN)."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    stream.socket.setsockopt(trio.socket.SOL_SOCKET, trio.socket.SO_LINGER, struct.pack("ii", 1, 0))
    await stream.send_all(data)
    await stream.aclose()


async def test_a_reset_right_after_the_upgrade_request_harms_nobody(mockfeed_server: Server) -> None:
    """Clients that send an upgrade request (valid or refused path) and reset at once: server lives."""
    _, ws_port = _ports(mockfeed_server)
    for index in range(100):
        await _reset_after(ws_port, handshake("/ws" if index % 2 else "/nope"))
    await trio.sleep(0.5)
    await _bystander_served(mockfeed_server)
