"""The control endpoint's per-connection view: list connections, give one its own conditions, end one."""

from __future__ import annotations

import json

import httpx
import pytest
import trio
import trio.testing
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

from mockfeed import Server

STREAM = "/ws/btcusdt@kline_1m"
pytestmark = pytest.mark.mockfeed(exchanges=["binance_spot"], start="2024-03-01T00:00:00Z", speed=0,
                                  control_port=0)


async def _drain(ws: WebSocketConnection, request_id: int) -> int:
    """Pushes received before the reply to a LIST_SUBSCRIPTIONS barrier."""
    await ws.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": request_id}))
    pushes = 0
    while json.loads(await ws.get_message()).get("id") != request_id:
        pushes += 1
    return pushes


async def test_one_connection_gets_its_own_loss_and_the_other_is_untouched(mockfeed_server: Server) -> None:
    """GET lists both with their subscriptions; PATCH loss=1 silences one; PUT {} restores it."""
    hub = mockfeed_server["binance_spot"].hub
    hub.plugin.push_period = lambda subscription: 3600.0  # type: ignore[method-assign]  # only ours
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as one, \
            open_websocket_url(mockfeed_server.ws_url + STREAM) as two, \
            httpx.AsyncClient(base_url=mockfeed_server.control_url) as control:
        # The stream's first pass has pushed (to whoever had subscribed by then); both are
        # subscribed once their replies come. A later subscriber waits for the cadence, slowed here
        # to once an hour, so from now on only our push_now() calls push.
        with trio.fail_after(10):
            while not hub.pushes:
                await trio.sleep(0.001)
        await _drain(one, 0)
        await _drain(two, 0)
        listed = (await control.get("/connections")).json()["binance_spot"]
        assert [c["path"] for c in listed] == [STREAM, STREAM]
        assert all([(s["pair"], s["interval"]) for s in c["subscriptions"]] == [("BTC-USDT", "1m")] for c in listed)
        first = listed[0]["id"]
        answer = await control.patch(f"/connections/binance_spot/{first}", json={"loss": 1})
        assert answer.status_code == 200
        assert answer.json()["overrides"] == {"loss": 1} and answer.json()["conditions"]["loss"] == 1.0
        for _ in range(3):
            mockfeed_server.advance(1)
            hub.push_now()
        counts = {await _drain(one, 1), await _drain(two, 1)}
        assert counts == {0, 3}  # which socket is "first" depends on accept order; one got none
        await control.put(f"/connections/binance_spot/{first}", json={})
        hub.push_now()
        assert (await _drain(one, 2), await _drain(two, 2)) == (1, 1)
        assert mockfeed_server.conditions.loss == 0  # the exchange's own never changed


@pytest.mark.mockfeed(exchanges=["binance_spot"], control_port=0)
async def test_one_connection_gets_its_own_latency(
    autojump_clock: trio.testing.MockClock, mockfeed_server: Server
) -> None:
    """latency_ms on one connection delays its replies only."""
    async with open_websocket_url(mockfeed_server.ws_url + "/ws") as slow, \
            open_websocket_url(mockfeed_server.ws_url + "/ws") as fast, \
            httpx.AsyncClient(base_url=mockfeed_server.control_url) as control:
        ids = [c["id"] for c in (await control.get("/connections/binance_spot")).json()]
        for connection_id in ids:  # find which id is the slow socket by asking both
            await control.put(f"/connections/binance_spot/{connection_id}", json={})
        await control.patch(f"/connections/binance_spot/{ids[0]}", json={"latency_ms": 80})
        times = []
        for ws in (slow, fast):
            sent = trio.current_time()
            await _drain(ws, 9)
            times.append(round((trio.current_time() - sent) * 1000))
        assert sorted(times) == [0, 80]


async def test_end_one_connection(mockfeed_server: Server) -> None:
    """POST .../disconnect closes one connection with the asked code; the other stays."""
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as one, \
            open_websocket_url(mockfeed_server.ws_url + STREAM) as two, \
            httpx.AsyncClient(base_url=mockfeed_server.control_url) as control:
        await one.get_message()
        await two.get_message()
        ids = [c["id"] for c in (await control.get("/connections/binance_spot")).json()]
        answer = await control.post(f"/connections/binance_spot/{ids[0]}/disconnect", json={"code": 4000})
        assert answer.json() == {"disconnected": ids[0]}
        closed = []
        for ws in (one, two):
            with trio.move_on_after(2):
                try:
                    await _drain(ws, 3)
                except ConnectionClosed as error:
                    closed.append(error.reason.code)
        assert closed == [4000]
        assert len((await control.get("/connections/binance_spot")).json()) == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "fragment"),
    [
        ("PATCH", "/connections/binance_spot/{id}", b'{"error_rate": 1}', 400, "cannot be set per connection"),
        ("PATCH", "/connections/binance_spot/{id}", b'{"loss": 3}', 400, "loss must be a probability"),
        ("PATCH", "/connections/binance_spot/{id}", b"[1]", 400, "JSON object"),
        ("GET", "/connections/binance_spot/999", b"", 404, "no open connection"),
        ("PUT", "/connections/binance_spot/999", b"[1]", 404, "no open connection"),  # before the body
        ("GET", "/connections/binance_spot/abc", b"", 404, "no open connection"),
        ("GET", "/connections/okx_spot", b"", 404, "no exchange 'okx_spot'"),
        ("DELETE", "/connections/binance_spot/{id}", b"", 405, "not allowed"),
        ("POST", "/connections/binance_spot/{id}/disconnect", b'{"mode": "x"}', 400, "mode must be"),
    ],
)
async def test_bad_connection_requests_are_refused(
    mockfeed_server: Server, method: str, path: str, body: bytes, status: int, fragment: str
) -> None:
    """Bad keys, values, ids and exchanges: a JSON error naming the problem; the connection is intact."""
    async with open_websocket_url(mockfeed_server.ws_url + STREAM) as ws, \
            httpx.AsyncClient(base_url=mockfeed_server.control_url) as control:
        await ws.get_message()
        [info] = (await control.get("/connections/binance_spot")).json()
        answer = await control.request(method, path.format(id=info["id"]), content=body)
        assert answer.status_code == status
        assert fragment in answer.json()["error"]
        assert (await control.get(f"/connections/binance_spot/{info['id']}")).json()["overrides"] == {}
        assert await _drain(ws, 4) >= 0
