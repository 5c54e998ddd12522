"""OKX WebSocket through real sockets: trio_websocket against the ``mockfeed_server`` fixture."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed, ConnectionRejected, WebSocketConnection, open_websocket_url

from mockfeed import Server
from mockfeed.exchanges.okx import OkxSpot

PRODUCTS = [
    pytest.param("BTC-USDT", marks=pytest.mark.mockfeed(exchanges=["okx_spot"]), id="okx_spot"),
    pytest.param("BTC-USDT-SWAP", marks=pytest.mark.mockfeed(exchanges=["okx_perpetual"]), id="okx_perpetual"),
]
BUSINESS = "/ws/v5/business"


async def send(ws: WebSocketConnection, op: str, channel: str, inst_id: str, request_id: str) -> None:
    """Send one subscribe/unsubscribe request."""
    message = {"id": request_id, "op": op, "args": [{"channel": channel, "instId": inst_id}]}
    await ws.send_message(json.dumps(message))


async def receive(ws: WebSocketConnection) -> Any:
    """The next message, decoded."""
    return json.loads(await ws.get_message())


@pytest.mark.parametrize("inst_id", PRODUCTS)
async def test_subscribe_ack_pushes_and_unsubscribe(mockfeed_server: Server, inst_id: str) -> None:
    """Ack, then pushes of the forming 1m candle about once a second; after the unsubscribe ack, silence."""
    arg = {"channel": "candle1m", "instId": inst_id}
    with trio.fail_after(15):
        async with open_websocket_url(mockfeed_server.ws_url + BUSINESS) as ws:
            await send(ws, "subscribe", "candle1m", inst_id, "1")
            ack = await receive(ws)
            assert ack == {"id": "1", "event": "subscribe", "arg": arg, "connId": ack["connId"]}
            started = trio.current_time()
            pushes = [await receive(ws) for _ in range(3)]
            assert trio.current_time() - started >= 1.5  # the cadence is one push a second
            for push in pushes:
                assert push["arg"] == arg and len(push["data"]) == 1 and len(push["data"][0]) == 9
            assert len({p["data"][0][0] for p in pushes}) <= 2  # one candle (two across a minute)
            await send(ws, "unsubscribe", "candle1m", inst_id, "2")
            while (message := await receive(ws)).get("event") != "unsubscribe":
                assert "data" in message
            assert message == {"id": "2", "event": "unsubscribe", "arg": arg, "connId": ack["connId"]}
            with trio.move_on_after(1.5) as quiet:
                await ws.get_message()
            assert quiet.cancelled_caught, "a push arrived after the unsubscribe ack"


@pytest.mark.mockfeed(exchanges=["okx_spot"])
async def test_final_push_equals_the_rest_row(mockfeed_server: Server) -> None:
    """The confirm-1 push of a 1s candle is byte for byte the row history-candles serves afterwards."""
    with trio.fail_after(15):
        async with open_websocket_url(mockfeed_server.ws_url + BUSINESS) as ws:
            await send(ws, "subscribe", "candle1s", "BTC-USDT", "1")
            assert (await receive(ws))["event"] == "subscribe"
            while (row := (await receive(ws))["data"][0])[8] != "1":
                pass
        async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
            response = await client.get("/api/v5/market/history-candles", params={
                "instId": "BTC-USDT", "bar": "1s", "after": int(row[0]) + 1, "limit": 1,
            })
    assert response.json()["data"] == [row]


@pytest.mark.mockfeed(exchanges=["okx_spot"])
async def test_candles_on_the_public_url_are_60018(mockfeed_server: Server) -> None:
    """Subscribing a candle channel on /ws/v5/public fails with 60018, as on OKX."""
    with trio.fail_after(10):
        async with open_websocket_url(mockfeed_server.ws_url + "/ws/v5/public") as ws:
            await send(ws, "subscribe", "candle1m", "BTC-USDT", "3")
            error = await receive(ws)
    assert (error["id"], error["event"], error["code"]) == ("3", "error", "60018")
    assert error["msg"].startswith("Wrong URL or channel:candle1m,instId:BTC-USDT doesn't exist.")


@pytest.mark.mockfeed(exchanges=["okx_spot"])
async def test_malformed_request_is_60012(mockfeed_server: Server) -> None:
    """Text that is not a request gets 60012 and the connection stays usable."""
    with trio.fail_after(10):
        async with open_websocket_url(mockfeed_server.ws_url + BUSINESS) as ws:
            await ws.send_message("{oops")
            error = await receive(ws)
            assert (error["event"], error["code"], error["msg"]) == ("error", "60012", "Illegal request: {oops")
            await ws.send_message("ping")
            assert await ws.get_message() == "pong"


@pytest.mark.mockfeed(exchanges=["okx_spot"])
async def test_pings_keep_an_idle_connection_and_silence_cuts_it(mockfeed_server: Server) -> None:
    """With the idle limit shortened: pings answered with pong keep it open; then silence closes 4004."""
    plugin = mockfeed_server["okx_spot"].plugin
    assert isinstance(plugin, OkxSpot)
    plugin.idle_timeout_s = 1.0
    with trio.fail_after(10):
        async with open_websocket_url(mockfeed_server.ws_url + BUSINESS) as ws:
            for _ in range(6):  # 1.8 s in all, longer than the limit
                await trio.sleep(0.3)
                await ws.send_message("ping")
                assert await ws.get_message() == "pong"
            with pytest.raises(ConnectionClosed) as closed:
                await ws.get_message()
    reason = closed.value.reason
    assert reason is not None and (reason.code, reason.reason) == (4004, "No data received in 30s")


@pytest.mark.mockfeed(exchanges=["okx_spot"])
async def test_unknown_path_is_refused(mockfeed_server: Server) -> None:
    """A path other than /ws/v5/{business,public,private} is refused at the handshake with 404."""
    with trio.fail_after(10), pytest.raises(ConnectionRejected) as rejected:
        async with open_websocket_url(mockfeed_server.ws_url + "/ws/v5/candles"):
            pass
    assert rejected.value.status_code == 404
