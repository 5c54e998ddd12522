"""Gate spot and USDT perpetual candlestick streams over real sockets (trio-websocket and wsproto)."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import attrs
import httpx
import pytest
import trio
from trio_websocket import ConnectionRejected, WebSocketConnection, open_websocket_url
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, Request

import mockfeed
from mockfeed import Server
from mockfeed.exchanges.base import Heartbeat
from mockfeed.exchanges.gate_io import GateIoPerpetual, GateIoSpot
from mockfeed.market import Interval

pytestmark = pytest.mark.mockfeed(exchanges=["gate_io_spot", "gate_io_perpetual"], seed=13)

MINUTE = 60_000
EXCHANGE = {"spot": "gate_io_spot", "perp": "gate_io_perpetual"}
PATH = {"spot": "/ws/v4/", "perp": "/v4/ws/usdt"}
PREFIX = {"spot": "spot", "perp": "futures"}
CANDLES_REST = {"spot": "/api/v4/spot/candlesticks", "perp": "/api/v4/futures/usdt/candlesticks"}
MARKET = {"spot": "currency_pair", "perp": "contract"}
_ids = itertools.count(1)


@pytest.fixture(params=["spot", "perp"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each Gate product in turn."""
    return str(request.param)


def plugin_of(server: Server, kind: str) -> GateIoSpot | GateIoPerpetual:
    """The plugin instance a server runs for one product."""
    plugin = server[EXCHANGE[kind]].plugin
    assert isinstance(plugin, GateIoSpot | GateIoPerpetual)
    return plugin


def faster(server: Server, kind: str, period: float) -> None:
    """Shorten one product's push cadence (tests that are not about the cadence itself)."""
    plugin = plugin_of(server, kind)
    stream = attrs.evolve(plugin.product.stream, push_period=period)
    plugin.product = attrs.evolve(plugin.product, stream=stream)


def is_push(message: Any) -> bool:
    """A candlestick update."""
    return isinstance(message, dict) and message.get("event") == "update"


def result(kind: str, push: Any) -> Any:
    """The one candle of a push (spot: an object, futures: a one-element list)."""
    if kind == "spot":
        return push["result"]
    [candle] = push["result"]
    return candle


async def receive(ws: WebSocketConnection, timeout: float = 4.0) -> Any:
    """The next message, decoded."""
    with trio.fail_after(timeout):
        return json.loads(await ws.get_message())


async def reply(ws: WebSocketConnection, timeout: float = 4.0) -> Any:
    """The next message that is not a push."""
    with trio.fail_after(timeout):
        while True:
            message = json.loads(await ws.get_message())
            if not is_push(message):
                return message


async def push(ws: WebSocketConnection, timeout: float = 4.0) -> Any:
    """The next push, skipping anything else."""
    with trio.fail_after(timeout):
        while True:
            message = json.loads(await ws.get_message())
            if is_push(message):
                return message


async def request(ws: WebSocketConnection, kind: str, event: str, payload: Any, channel: str = "") -> Any:
    """Send a request as ccxt writes it and return the reply to it."""
    request_id = next(_ids)
    await ws.send_message(json.dumps({
        "id": request_id, "time": int(time.time()), "channel": channel or f"{PREFIX[kind]}.candlesticks",
        "event": event, "payload": payload,
    }))
    answer = await reply(ws)
    assert answer["id"] == request_id
    return answer


async def test_subscribe_pushes_at_the_documented_cadence(mockfeed_server: Server, kind: str) -> None:
    """Ack, then the forming 1m candle every 2 s, each push equal to the model at its event time."""
    url = mockfeed_server[EXCHANGE[kind]].ws_url + PATH[kind]
    async with open_websocket_url(url) as ws:
        ack = await request(ws, kind, "subscribe", ["1m", "BTC_USDT"])
        assert ack["result"] == {"status": "success"} and "error" not in ack
        assert ack["channel"] == f"{PREFIX[kind]}.candlesticks" and ack["payload"] == ["1m", "BTC_USDT"]
        pushes, arrivals = [], []
        for _ in range(2):
            pushes.append(await push(ws, 5.0))
            arrivals.append(trio.current_time())
    for message in pushes:
        assert message["channel"] == f"{PREFIX[kind]}.candlesticks"
        candle = result(kind, message)
        assert candle["n"] == "1m_BTC_USDT"
        open_ms = int(candle["t"]) * 1000
        model = mockfeed_server.model.candle("BTC-USDT", Interval.parse("1m"), open_ms, message["time_ms"])
        assert model is not None and model.open_time == open_ms
        assert candle["o"] == f"{model.open.normalize():f}" and candle["c"] == f"{model.close.normalize():f}"
        assert candle["h"] == f"{model.high.normalize():f}" and candle["l"] == f"{model.low.normalize():f}"
        assert candle["w"] is model.closed
    if not result(kind, pushes[1])["w"]:  # a minute closing in between pushes at once, off-cadence
        assert 1.5 < arrivals[1] - arrivals[0] < 2.7, arrivals


async def test_unsubscribe_stops_pushes(mockfeed_server: Server, kind: str) -> None:
    """After the unsubscribe ack no push of that stream arrives; other streams keep flowing."""
    faster(mockfeed_server, kind, 0.2)
    url = mockfeed_server[EXCHANGE[kind]].ws_url + PATH[kind]
    async with open_websocket_url(url) as ws:
        await request(ws, kind, "subscribe", ["1m", "BTC_USDT"])
        await request(ws, kind, "subscribe", ["5m", "ETH_USDT"])
        names = {result(kind, await push(ws))["n"] for _ in range(6)}
        assert names == {"1m_BTC_USDT", "5m_ETH_USDT"}
        ack = await request(ws, kind, "unsubscribe", ["1m", "BTC_USDT"])
        assert ack["event"] == "unsubscribe" and ack["result"] == {"status": "success"}
        after = {result(kind, await push(ws))["n"] for _ in range(5)}
        assert after == {"5m_ETH_USDT"}


async def test_errors_keep_the_connection(mockfeed_server: Server, kind: str) -> None:
    """Bad requests get Gate's error frames (code 1 struct, code 2 argument); the socket stays usable."""
    url = mockfeed_server[EXCHANGE[kind]].ws_url + PATH[kind]
    unknown_market = {"spot": "unknown currency pair: FOO_USDT", "perp": "unknown contract FOO_USDT"}[kind]
    async with open_websocket_url(url) as ws:
        bad = await request(ws, kind, "subscribe", ["1m", "FOO_USDT"])
        assert bad["error"] == {"code": 2, "message": unknown_market}
        assert bad["result"] == {"status": "fail"} and bad["payload"] == ["1m", "FOO_USDT"]
        interval = await request(ws, kind, "subscribe", ["3m", "BTC_USDT"])
        assert interval["error"]["code"] == 2
        await ws.send_message("{not json")
        garbage = await reply(ws)
        assert garbage["error"]["code"] == 1 and garbage["result"] == {"status": "fail"}
        ok = await request(ws, kind, "subscribe", ["1m", "BTC_USDT"])
        assert ok["result"] == {"status": "success"}
        assert result(kind, await push(ws))["n"] == "1m_BTC_USDT"


async def test_application_ping(mockfeed_server: Server, kind: str) -> None:
    """{"channel": "<prefix>.ping"} answers <prefix>.pong with an empty event and null result."""
    url = mockfeed_server[EXCHANGE[kind]].ws_url + PATH[kind]
    async with open_websocket_url(url) as ws:
        await ws.send_message(json.dumps({"time": int(time.time()), "channel": f"{PREFIX[kind]}.ping"}))
        pong = await receive(ws)
    assert pong["channel"] == f"{PREFIX[kind]}.pong"
    assert pong["event"] == "" and pong["result"] is None and pong["error"] is None
    assert abs(pong["time_ms"] - time.time_ns() // 1_000_000) < 5_000


async def test_unknown_paths_are_refused(mockfeed_server: Server, kind: str) -> None:
    """Only the product's own WebSocket path upgrades; others get HTTP 404."""
    other = PATH["perp" if kind == "spot" else "spot"]
    for path in (other, "/v4/ws/btc", "/nope"):
        with pytest.raises(ConnectionRejected) as refused, trio.fail_after(5):
            async with open_websocket_url(mockfeed_server[EXCHANGE[kind]].ws_url + path):
                pass  # pragma: no cover
        assert refused.value.status_code == 404


async def _raw_session(server: Server, kind: str, answer_pings: bool, seconds: float) -> list[Any]:
    """A bare wsproto client: the events it sees in ``seconds`` (or until the server closes)."""
    host, port = server[EXCHANGE[kind]].ws_url.removeprefix("ws://").rsplit(":", 1)
    stream = await trio.open_tcp_stream(host, int(port))
    ws = WSConnection(ConnectionType.CLIENT)
    seen: list[Any] = []
    async with stream:
        await stream.send_all(ws.send(Request(host=host, target=PATH[kind])))
        with trio.move_on_after(seconds):
            while not any(isinstance(e, CloseConnection) for e in seen):
                data = await stream.receive_some()
                if not data:
                    break
                ws.receive_data(data)
                for event in ws.events():
                    seen.append(event)
                    if isinstance(event, Ping) and answer_pings:
                        await stream.send_all(ws.send(event.response()))
    return seen


async def test_server_pings_and_drops_a_silent_client(mockfeed_server: Server, kind: str) -> None:
    """The server sends protocol pings; unanswered, it closes with 1008 (heartbeat shortened)."""
    plugin_of(mockfeed_server, kind).heartbeat = Heartbeat(interval=0.2, timeout=0.3)
    seen = await _raw_session(mockfeed_server, kind, answer_pings=False, seconds=5)
    assert isinstance(seen[0], AcceptConnection)
    assert any(isinstance(e, Ping) for e in seen)
    closes = [e for e in seen if isinstance(e, CloseConnection)]
    assert closes and closes[0].code == 1008


async def test_answered_pings_keep_the_connection(mockfeed_server: Server, kind: str) -> None:
    """Pongs (what ccxt and any WebSocket library send) keep the connection open across pings."""
    plugin_of(mockfeed_server, kind).heartbeat = Heartbeat(interval=0.15, timeout=0.3)
    seen = await _raw_session(mockfeed_server, kind, answer_pings=True, seconds=1.0)
    assert sum(isinstance(e, Ping) for e in seen) >= 3
    assert not any(isinstance(e, CloseConnection) for e in seen)


@attrs.define
class NudgedClock:
    """Real time plus an offset the test sets (to bring a minute boundary close)."""

    offset_ms: int = 0

    def now_ms(self) -> int:
        """Shifted wall-clock time."""
        return time.time_ns() // 1_000_000 + self.offset_ms


async def test_final_push_flags_the_close_and_equals_rest(kind: str) -> None:
    """The last push of a 1m candle has w=true and the candle REST serves afterwards; then the next one."""
    clock = NudgedClock()
    config = mockfeed.ServerConfig(exchanges=[EXCHANGE[kind]], port=0, ws_port=0, seed=4)
    async with mockfeed.serve(config, clock=clock) as server:
        faster(server, kind, 0.3)
        async with open_websocket_url(server.ws_url + PATH[kind]) as ws:
            await request(ws, kind, "subscribe", ["1m", "BTC_USDT"])
            first = result(kind, await push(ws))
            left = MINUTE - clock.now_ms() % MINUTE
            if left > 1_000:  # jump ahead within the same minute: the boundary is 0.6 s away
                clock.offset_ms += left - 600
            pushes = [first]
            with trio.fail_after(6):
                while int(pushes[-1]["t"]) == int(first["t"]):
                    pushes.append(result(kind, await push(ws)))
            final, after = pushes[-2], pushes[-1]
            assert final["w"] is True and after["w"] is False
            assert all(p["w"] is False for p in pushes[:-2])
            assert int(after["t"]) == int(final["t"]) + 60
        async with httpx.AsyncClient(base_url=server.rest_url, timeout=10) as client:
            response = await client.get(
                CANDLES_REST[kind],
                params={MARKET[kind]: "BTC_USDT", "interval": "1m", "from": final["t"], "to": final["t"]},
            )
    [row] = response.json()
    if kind == "spot":
        assert row == [final["t"], final["v"], final["c"], final["h"], final["l"], final["o"], final["a"], "true"]
    else:
        assert {k: row[k] for k in ("t", "v", "c", "h", "l", "o")} == {k: final[k] for k in row if k != "sum"}
