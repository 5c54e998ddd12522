"""WebSocket faults over real sockets: loss, latency and jitter, stalls, lifetimes, maintenance, disconnects.

Clients are raw trio-websocket connections to the Binance product (its protocol is the simplest to
drive); the runtime applies these faults the same way for every exchange. Timing checks run under
pytest-trio's ``autojump_clock``, so delays are exact virtual times, not wall-clock measurements.
"""

from __future__ import annotations

import json
import statistics

import httpx
import pytest
import trio
import trio.testing
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    WebSocketConnection,
    open_websocket_url,
)

from mockfeed import Server
from mockfeed.market.clock import parse_time
from mockfeed.runtime.conditions import Conditions

START = "2024-03-01T00:00:00Z"
START_MS = parse_time(START)
STREAM = "/ws/btcusdt@kline_1m"
PUSHES = 5_000
BATCH = 250


async def _ask(ws: WebSocketConnection, request_id: int) -> float:
    """Send LIST_SUBSCRIPTIONS and wait for its reply, skipping pushes; returns the trio time it came."""
    await ws.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": request_id}))
    while True:
        message = json.loads(await ws.get_message())
        if message.get("id") == request_id:
            return trio.current_time()


async def _pushed_event_times(server: Server, pushes: int) -> list[int]:
    """Drive ``pushes`` forming-candle pushes (market time +1 ms each) to one fresh connection and
    return the event times (E) it received after the subscription's first push, in order.

    The stream's own cadence is slowed to once an hour so that only these pushes are offered: the
    connection's push numbers are then 1 … ``pushes`` (0 was the first push, which may be lost).
    """
    exchange = server["binance_spot"]
    hub = exchange.hub
    hub.plugin.push_period = lambda subscription: 3600.0  # type: ignore[method-assign]
    received: list[int] = []
    async with open_websocket_url(server.ws_url + STREAM) as ws:
        with trio.fail_after(10):
            while not [c for c in exchange.connections if c.outbox.lane.pushes]:
                await trio.sleep(0.001)
        for batch in range(pushes // BATCH):
            for _ in range(BATCH):
                server.advance(1)
                hub.push_now()
            # The reply is queued behind the batch's pushes (loss never drops replies): a barrier.
            await ws.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": batch}))
            while True:
                message = json.loads(await ws.get_message())
                if message.get("id") == batch:
                    break
                if message["E"] != START_MS:  # the first push, should it come late
                    received.append(message["E"])
    return received


@pytest.mark.mockfeed(exchanges=["binance_spot"], start=START, speed=0, loss=0.1, fault_seed=42)
async def test_loss_rate_is_within_three_sigma_and_the_seed_fixes_the_dropped_set(
    mockfeed_server: Server,
) -> None:
    """5,000 pushes at p=0.1: the observed loss is within 3σ, and exactly the draws' prediction;
    reset conditions with the same seed drop the same pushes again."""
    p = 0.1
    offered = [START_MS + n + 1 for n in range(PUSHES)]
    received = await _pushed_event_times(mockfeed_server, PUSHES)
    dropped = sorted(set(offered) - set(received))
    assert received == sorted(received)
    sigma = (p * (1 - p) / PUSHES) ** 0.5
    assert abs(len(dropped) / PUSHES - p) <= 3 * sigma
    conditions = mockfeed_server.conditions
    predicted = [START_MS + n + 1 for n in range(PUSHES) if conditions.drops("binance_spot", 0, n + 1)]
    assert dropped == predicted

    mockfeed_server.conditions = Conditions(loss=p, fault_seed=42)  # connection numbers restart
    mockfeed_server.set_time(START_MS)
    again = await _pushed_event_times(mockfeed_server, PUSHES)
    assert again == received


@pytest.mark.mockfeed(exchanges=["binance_spot"], start=START, speed=0, loss=0.02, loss_burst=5,
                      fault_seed=3)
async def test_burst_loss_drops_runs_of_consecutive_pushes(mockfeed_server: Server) -> None:
    """With loss_burst=5 every loss event drops 5 pushes in a row."""
    offered = [START_MS + n + 1 for n in range(2_000)]
    received = set(await _pushed_event_times(mockfeed_server, 2_000))
    runs: list[int] = []
    run = 0
    for event_time in offered:
        if event_time in received:
            if run:
                runs.append(run)
            run = 0
        else:
            run += 1
    assert runs, "no loss event in 2,000 pushes at p=0.02"
    assert all(r % 5 == 0 for r in runs)  # back-to-back events merge into a multiple of 5


@pytest.mark.mockfeed(exchanges=["binance_spot"], start=START, latency_ms=40)
async def test_latency_delays_replies_and_pushes_by_exactly_l(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """Fixed latency L: every reply comes L after its request, every push L after its event time."""
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws:
        for request_id in range(5):
            sent = trio.current_time()
            assert await _ask(ws, request_id) - sent == pytest.approx(0.040, abs=1e-3)
        lags = []
        for _ in range(5):
            push = json.loads(await ws.get_message())
            lags.append(mockfeed_server.now_ms() - push["E"])
        assert lags == pytest.approx([40] * 5, abs=1)


@pytest.mark.mockfeed(exchanges=["binance_spot"], start=START, latency_ms=20, jitter_ms=30,
                      fault_seed=5)
async def test_jitter_draws_each_delay_from_the_seed(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """Latency 20 + jitter 30: each reply's delay is the seeded draw in [20, 50) ms."""
    conditions = mockfeed_server.conditions
    async with open_websocket_url(mockfeed_server.ws_url + "/ws") as ws:  # no stream: only replies
        observed = []
        for request_id in range(40):
            sent = trio.current_time()
            observed.append((await _ask(ws, request_id) - sent) * 1000)
    predicted = [conditions.ws_delay_ms("binance_spot", 0, n) for n in range(40)]
    assert observed == pytest.approx(predicted, abs=1)
    assert all(20 <= d < 50 for d in predicted)
    assert statistics.pstdev(predicted) > 3  # the draws do vary


@pytest.mark.mockfeed(exchanges=["binance_spot"], start=START, speed=0, jitter_ms=100, fault_seed=9)
async def test_jitter_keeps_each_connections_order(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """Pushes 1 ms apart with up to 100 ms of jitter still arrive in the order they were sent."""
    hub = mockfeed_server["binance_spot"].hub
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws:
        first = json.loads(await ws.get_message())  # the subscription's first push
        for _ in range(50):
            mockfeed_server.advance(1)
            hub.push_now()
            await trio.sleep(0.001)
        times = [json.loads(await ws.get_message())["E"] for _ in range(50)]
    assert times == [first["E"] + n + 1 for n in range(50)]


@pytest.mark.mockfeed(exchanges=["binance_spot"], start=START)
async def test_a_stalled_stream_stays_open_and_resumes(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """stall=True: no pushes for as long as it lasts, while requests are still answered."""
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws:
        await ws.get_message()
        mockfeed_server.conditions = Conditions(stall=True)
        with trio.move_on_after(3):  # let a push already on its way arrive
            while True:
                await ws.get_message()
        with trio.move_on_after(120) as quiet:
            await ws.get_message()
        assert quiet.cancelled_caught, "a push arrived during the stall"
        await _ask(ws, 1)  # the connection is alive and answers
        mockfeed_server.conditions = Conditions()
        with trio.fail_after(5):
            assert json.loads(await ws.get_message())["e"] == "kline"


@pytest.mark.mockfeed(exchanges=["binance_spot"], start=START, ws_lifetime_s=5)
async def test_connections_close_after_the_configured_lifetime(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """ws_lifetime_s=5: the server closes the connection 5 s after it opened, with 1001."""
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws:
        opened = trio.current_time()
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await ws.get_message()
        assert trio.current_time() - opened == pytest.approx(5, abs=0.1)
        assert closed.value.reason.code == 1001


@pytest.mark.mockfeed(exchanges=["binance_spot"], start=START)
async def test_binance_closes_connections_after_24_hours(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """Binance's own limit: a connection is valid for 24 hours (pings keep it alive until then)."""
    async with open_websocket_url(mockfeed_server.ws_url + "/ws") as ws:
        opened = trio.current_time()
        with pytest.raises(ConnectionClosed):
            await ws.get_message()
        assert trio.current_time() - opened == pytest.approx(24 * 3600, abs=1)


@pytest.mark.mockfeed(exchanges=["binance_spot"], start=START, control_port=0)
async def test_maintenance_closes_websockets_and_refuses_new_ones(mockfeed_server: Server) -> None:
    """Maintenance on: open WebSockets get 1001, handshakes get 503 with the REST maintenance body."""
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws:
        await ws.get_message()
        async with httpx.AsyncClient(base_url=mockfeed_server.control_url) as control:
            answer = await control.patch("/conditions/binance_spot", json={"maintenance": True})
            assert answer.json()["maintenance"] is True
        with pytest.raises(ConnectionClosed) as closed, trio.fail_after(10):
            while True:
                await ws.get_message()
        assert closed.value.reason.code == 1001
    with pytest.raises(ConnectionRejected) as rejected:
        async with open_websocket_url(mockfeed_server.ws_url + STREAM):
            pass
    assert rejected.value.status_code == 503
    assert b"Traceback" not in (rejected.value.body or b"")
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as rest:
        response = await rest.get("/api/v3/time")
    assert response.status_code >= 500 and b"Traceback" not in response.content
    mockfeed_server.conditions = Conditions()
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws:
        assert json.loads(await ws.get_message())["e"] == "kline"


async def _closed_with(ws: WebSocketConnection) -> int | None:
    with pytest.raises(ConnectionClosed) as closed, trio.fail_after(10):
        while True:
            await ws.get_message()
    return closed.value.reason.code


@pytest.mark.mockfeed(exchanges=["binance_spot", "okx_spot"], start=START, control_port=0)
async def test_disconnect_everyone_from_the_control_endpoint(mockfeed_server: Server) -> None:
    """POST /disconnect/{exchange}: a close with the asked code, or a reset; other exchanges untouched."""
    okx_url = mockfeed_server["okx_spot"].ws_url + "/ws/v5/business"
    async with httpx.AsyncClient(base_url=mockfeed_server.control_url) as control, \
            open_websocket_url(okx_url) as bystander:
        async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws:
            await ws.get_message()
            answer = await control.post("/disconnect/binance_spot", json={"code": 1012})
            assert answer.json() == {"disconnected": {"binance_spot": 1}}
            assert await _closed_with(ws) == 1012
        async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws:
            await ws.get_message()
            answer = await control.post("/disconnect/binance_spot", json={"mode": "reset"})
            assert answer.status_code == 200
            assert await _closed_with(ws) == 1006  # abnormal: no close frame came
        await bystander.send_message("ping")
        assert await bystander.get_message() == "pong"
        everyone = await control.post("/disconnect")
        assert everyone.json() == {"disconnected": {"binance_spot": 0, "okx_spot": 1}}


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/disconnect", b'{"mode": "explode"}', 400, "mode must be"),
        ("/disconnect", b'{"code": 999}', 400, "code must be"),
        ("/disconnect", b'{"code": "1000"}', 400, "code must be"),
        ("/disconnect", b'{"mode": "reset", "code": 1000}', 400, "reset sends no close frame"),
        ("/disconnect", b'{"who": 1}', 400, "unknown key"),
        ("/disconnect", b"[]", 400, "JSON object"),
        ("/disconnect/kraken_spot", b"", 404, "no control endpoint"),
    ],
)
@pytest.mark.mockfeed(exchanges=["binance_spot"], control_port=0)
async def test_disconnect_refuses_bad_input(
    mockfeed_server: Server, path: str, body: bytes, status: int, fragment: str
) -> None:
    """Bad disconnect requests: a JSON error naming the problem; nobody is disconnected."""
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws, \
            httpx.AsyncClient(base_url=mockfeed_server.control_url) as control:
        answer = await control.post(path, content=body)
        assert answer.status_code == status
        assert fragment in answer.json()["error"]
        await ws.get_message()
        assert await _ask(ws, 7) > 0


@pytest.mark.mockfeed(exchanges=["binance_spot"], start=START, speed=0, duplicate=0.1, fault_seed=8)
async def test_duplicated_pushes_come_twice_in_a_row_as_drawn(mockfeed_server: Server) -> None:
    """duplicate=0.1: exactly the drawn pushes arrive twice, back to back; nothing is lost."""
    received = await _pushed_event_times(mockfeed_server, 1_000)
    conditions = mockfeed_server.conditions
    expected: list[int] = []
    for n in range(1_000):
        copies = 2 if conditions.duplicates("binance_spot", 0, n + 1) else 1
        expected += [START_MS + n + 1] * copies
    assert received == expected
    assert 50 < len(received) - 1_000 < 150


@pytest.mark.mockfeed(exchanges=["binance_spot"], start=START, speed=0, late=0.2, late_ms=300,
                      fault_seed=4)
async def test_late_pushes_are_overtaken(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """late=0.2, late_ms=300: the drawn pushes arrive 300 ms late, after pushes sent later."""
    hub = mockfeed_server["binance_spot"].hub
    hub.plugin.push_period = lambda subscription: 3600.0  # type: ignore[method-assign]
    conditions = mockfeed_server.conditions
    arrivals: list[tuple[float, int]] = []
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws:
        with trio.fail_after(10):
            while not [c for c in mockfeed_server["binance_spot"].connections if c.outbox.lane.pushes]:
                await trio.sleep(0.001)
        started = trio.current_time()

        async def read() -> None:
            while True:
                message = json.loads(await ws.get_message())
                if message["E"] != START_MS:
                    arrivals.append((trio.current_time() - started, message["E"] - START_MS))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(read)
            for _ in range(40):
                mockfeed_server.advance(1)
                hub.push_now()
                await trio.sleep(0.010)
            await trio.sleep(1)
            nursery.cancel_scope.cancel()
    late = {n for n in range(1, 41) if conditions.is_late("binance_spot", 0, n)}
    assert late and len(late) < 40
    assert sorted(n for _, n in arrivals) == list(range(1, 41))  # nothing lost
    for at, n in arrivals:
        sent_at = (n - 1) * 0.010
        assert at - sent_at == pytest.approx(0.300 if n in late else 0.0, abs=0.002)
    order = [n for _, n in arrivals]
    assert order != sorted(order)  # overtaken


@pytest.mark.mockfeed(exchanges=["binance_spot"], start=START, speed=0, latency_ms=300)
async def test_a_shorter_latency_never_lets_a_push_overtake_an_earlier_one(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """Constant latency (the hub's cheapest faulty path): lowered from 300 to 10 ms, later pushes
    still queue behind those already held back, and each arrives at its own latency or after them."""
    hub = mockfeed_server["binance_spot"].hub
    hub.plugin.push_period = lambda subscription: 3600.0  # type: ignore[method-assign]
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws:
        first = json.loads(await ws.get_message())
        sent = trio.current_time()
        for _ in range(5):
            mockfeed_server.advance(1)
            hub.push_now()
        mockfeed_server.conditions = Conditions(latency_ms=10)
        for _ in range(5):
            mockfeed_server.advance(1)
            hub.push_now()
        arrivals = []
        for _ in range(10):
            arrivals.append((json.loads(await ws.get_message())["E"], trio.current_time() - sent))
    assert [e for e, _ in arrivals] == [first["E"] + n + 1 for n in range(10)]
    assert all(t == pytest.approx(0.300, abs=2e-3) for _, t in arrivals)  # none before the first five


@pytest.mark.mockfeed(exchanges=["binance_spot"], start=START, speed=0, loss=1.0, loss_burst=5)
async def test_a_loss_burst_under_way_finishes_after_loss_is_switched_off(mockfeed_server: Server) -> None:
    """Switching to latency alone keeps each connection's lane: a burst already begun still drops
    its remaining pushes, then everything is delivered (late by the latency)."""
    exchange = mockfeed_server["binance_spot"]
    hub = exchange.hub
    hub.plugin.push_period = lambda subscription: 3600.0  # type: ignore[method-assign]
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws:
        with trio.fail_after(10):
            while not [c for c in exchange.connections if c.outbox.lane.pushes]:
                await trio.sleep(0.001)
        mockfeed_server.advance(1)
        hub.push_now()
        [connection] = exchange.connections
        left = connection.outbox.lane.burst_left
        assert left > 0
        mockfeed_server.conditions = Conditions(latency_ms=5)
        for _ in range(left + 2):
            mockfeed_server.advance(1)
            hub.push_now()
        with trio.fail_after(10):
            got = [json.loads(await ws.get_message())["E"] for _ in range(2)]
    assert got == [START_MS + left + 2, START_MS + left + 3]
