"""Binance spot and USDⓈ-M perpetual kline streams over real sockets (trio-websocket clients)."""

from __future__ import annotations

import json
from typing import Any

import attrs
import httpx
import pytest
import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    WebSocketConnection,
    connect_websocket_url,
    open_websocket_url,
)

import mockfeed
from mockfeed import Server

pytestmark = pytest.mark.mockfeed(exchanges=["binance_spot", "binance_perpetual"], seed=9)


@attrs.frozen
class Product:
    """Where one product streams, and a fast stream to watch on it."""

    exchange: str
    prefix: str  # WS path prefix: "" for spot, "/market" for USDⓈ-M klines
    stream: str
    other: str
    interval: str
    period: float  # seconds between pushes of that stream


SPOT = Product("binance_spot", "", "btcusdt@kline_1s", "ethusdt@kline_1s", "1s", 1.0)
PERP = Product("binance_perpetual", "/market", "btcusdt@kline_1m", "ethusdt@kline_1m", "1m", 0.25)
PRODUCTS = {"spot": SPOT, "perp": PERP}


@pytest.fixture(params=["spot", "perp"])
def product(request: pytest.FixtureRequest) -> Product:
    """Each Binance product in turn."""
    return PRODUCTS[str(request.param)]


def url(server: Server, product: Product, path: str) -> str:
    """The WebSocket URL of ``path`` on one product's listener."""
    return server[product.exchange].ws_url + path


def is_push(message: Any) -> bool:
    """A kline push, raw or wrapped in a combined envelope."""
    return isinstance(message, dict) and ("e" in message or "stream" in message)


async def receive(ws: WebSocketConnection, timeout: float = 3.0) -> Any:
    """The next message, decoded."""
    with trio.fail_after(timeout):
        return json.loads(await ws.get_message())


async def reply(ws: WebSocketConnection, timeout: float = 3.0) -> Any:
    """The next control reply, skipping pushes."""
    with trio.fail_after(timeout):
        while True:
            message = json.loads(await ws.get_message())
            if not is_push(message):
                return message


async def push(ws: WebSocketConnection, timeout: float = 3.0) -> Any:
    """The next push, failing on any control reply in between."""
    message = await receive(ws, timeout)
    assert is_push(message), message
    return message


async def call(ws: WebSocketConnection, method: str, params: Any = None, id: Any = 1) -> Any:
    """Send a control request and return its reply."""
    request: dict[str, Any] = {"method": method, "id": id}
    if params is not None:
        request["params"] = params
    await ws.send_message(json.dumps(request))
    return await reply(ws)


async def silent_for(ws: WebSocketConnection, seconds: float) -> None:
    """Nothing at all arrives for ``seconds``."""
    with trio.move_on_after(seconds):
        message = await ws.get_message()
        raise AssertionError(f"unexpected message {message}")


def check_kline(event: Any, symbol: str, interval: str) -> None:
    """A raw kline event with Binance's field names and types."""
    assert event["e"] == "kline"
    assert isinstance(event["E"], int)
    assert event["s"] == symbol
    k = event["k"]
    assert k["s"] == symbol and k["i"] == interval
    for key in ("t", "T", "f", "L", "n"):
        assert type(k[key]) is int, key
    for key in ("o", "c", "h", "l", "v", "q", "V", "Q", "B"):
        assert isinstance(k[key], str), key
    assert type(k["x"]) is bool
    assert k["T"] > k["t"]


# -- access modes ------------------------------------------------------------------------------------


async def test_raw_stream_in_url_pushes(mockfeed_server: Server, product: Product) -> None:
    """A raw /ws/<stream> connection receives kline pushes for that stream."""
    async with open_websocket_url(
        url(mockfeed_server, product, f"{product.prefix}/ws/{product.stream}")
    ) as ws:
        for _ in range(2):
            check_kline(await push(ws), "BTCUSDT", product.interval)


async def test_subscribe_list_unsubscribe(mockfeed_server: Server, product: Product) -> None:
    """/ws then SUBSCRIBE acks {"result":null,"id":1} and pushes; LIST reports; UNSUBSCRIBE silences."""
    async with open_websocket_url(url(mockfeed_server, product, f"{product.prefix}/ws")) as ws:
        await ws.send_message(json.dumps({"method": "SUBSCRIBE", "params": [product.stream], "id": 1}))
        assert await receive(ws) == {"result": None, "id": 1}
        check_kline(await push(ws), "BTCUSDT", product.interval)
        assert await call(ws, "LIST_SUBSCRIPTIONS", id=3) == {"result": [product.stream], "id": 3}
        assert await call(ws, "UNSUBSCRIBE", [product.stream], id=4) == {"result": None, "id": 4}
        await silent_for(ws, product.period * 1.5 + 0.2)
        assert await call(ws, "LIST_SUBSCRIPTIONS", id=5) == {"result": [], "id": 5}


async def test_combined_stream_wraps_pushes(mockfeed_server: Server, product: Product) -> None:
    """/stream?streams=a/b wraps every push as {"stream": name, "data": event}, both streams arriving."""
    path = f"{product.prefix}/stream?streams={product.stream}/{product.other}"
    seen: set[str] = set()
    async with open_websocket_url(url(mockfeed_server, product, path)) as ws:
        with trio.fail_after(4):
            while seen != {product.stream, product.other}:
                message = await push(ws)
                assert set(message) == {"stream", "data"}
                symbol = message["stream"].split("@")[0].upper()
                check_kline(message["data"], symbol, product.interval)
                seen.add(message["stream"])
        assert await call(ws, "LIST_SUBSCRIPTIONS", id=1) == {
            "result": [product.stream, product.other],
            "id": 1,
        }


async def test_set_property_combined(mockfeed_server: Server, product: Product) -> None:
    """SET_PROPERTY combined true switches a raw connection to wrapped pushes; GET_PROPERTY reports it."""
    async with open_websocket_url(
        url(mockfeed_server, product, f"{product.prefix}/ws/{product.stream}")
    ) as ws:
        assert "e" in await push(ws)
        assert await call(ws, "GET_PROPERTY", ["combined"], id=1) == {"result": False, "id": 1}
        assert await call(ws, "SET_PROPERTY", ["combined", True], id=2) == {"result": None, "id": 2}
        assert await call(ws, "GET_PROPERTY", ["combined"], id=3) == {"result": True, "id": 3}
        message = await push(ws)
        assert message["stream"] == product.stream
        check_kline(message["data"], "BTCUSDT", product.interval)
        assert await call(ws, "SET_PROPERTY", ["combined", False], id=4) == {"result": None, "id": 4}
        assert "e" in await push(ws)


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("spot", "/ws/0"),
        ("spot", "/stream/ws/0"),
        ("spot", "/ws/7"),
        ("perp", "/market/ws/0"),
        ("perp", "/ws/0"),
    ],
)
async def test_ccxt_style_paths_accept_subscribe(mockfeed_server: Server, kind: str, path: str) -> None:
    """ccxt's /ws/<n> and /stream/ws/<n> (and /market/ws/<n>) accept SUBSCRIBE and then push."""
    product = PRODUCTS[kind]
    async with open_websocket_url(url(mockfeed_server, product, path)) as ws:
        assert await call(ws, "SUBSCRIBE", [product.stream], id=11) == {"result": None, "id": 11}
        check_kline(await push(ws), "BTCUSDT", product.interval)


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("spot", "/"),
        ("spot", "/nope"),
        ("spot", "/market/stream?streams=btcusdt@kline_1m"),
        ("perp", "/market"),
        ("perp", "/private/nope"),
    ],
)
async def test_unknown_path_is_rejected(mockfeed_server: Server, kind: str, path: str) -> None:
    """A handshake on an unknown path is refused with HTTP 404."""
    with trio.fail_after(5), pytest.raises(ConnectionRejected) as rejected:
        async with open_websocket_url(url(mockfeed_server, PRODUCTS[kind], path)):
            pass
    assert rejected.value.status_code == 404


async def test_unknown_stream_is_acknowledged_and_silent(mockfeed_server: Server) -> None:
    """SUBSCRIBE to a well-formed stream that serves nothing is acked; no data arrives."""
    async with open_websocket_url(url(mockfeed_server, SPOT, "/ws")) as ws:
        assert await call(ws, "SUBSCRIBE", ["dogeusdt@kline_1s"], id=1) == {"result": None, "id": 1}
        await silent_for(ws, 1.2)


# -- errors ------------------------------------------------------------------------------------------

BAD = [
    ("not json{", 3, None),
    ('{"method":"FOO","params":[],"id":7}', 2, 7),
    ('{"method":"SUBSCRIBE","params":"btcusdt@kline_1s","id":8}', 2, 8),
    ('{"method":"SUBSCRIBE","params":[1,2],"id":9}', 2, 9),
    ('{"method":"SUBSCRIBE","params":["nonsense"],"id":10}', 2, 10),
    ('{"method":"SUBSCRIBE","params":["btcusdt@kline_1s"],"id":1.5}', 2, None),
    ('{"method":"SUBSCRIBE","params":["btcusdt@kline_1s"],"id":true}', 2, None),
    ('{"method":"SUBSCRIBE","params":["btcusdt@kline_1s"],"id":"not-alnum"}', 2, None),
    ('{"method":"SET_PROPERTY","params":["combined","yes"],"id":12}', 2, 12),
    ("[1,2,3]", 2, None),
]


async def test_control_errors_keep_connection_usable(mockfeed_server: Server, product: Product) -> None:
    """Invalid JSON is code 3, bad method/params/id code 2; after each the connection still works."""
    async with open_websocket_url(url(mockfeed_server, product, f"{product.prefix}/ws")) as ws:
        for n, (text, code, request_id) in enumerate(BAD):
            await ws.send_message(text)
            error = await reply(ws)
            assert error["code"] == code, (text, error)
            assert isinstance(error["msg"], str) and error["msg"]
            assert error.get("id") == request_id
            assert await call(ws, "LIST_SUBSCRIPTIONS", id=100 + n) == {"result": [], "id": 100 + n}
        await ws.send_message(b"\xff\xfe binary junk")
        assert (await reply(ws))["code"] == 3
        assert await call(ws, "SUBSCRIBE", [product.stream], id=1) == {"result": None, "id": 1}
        check_kline(await push(ws), "BTCUSDT", product.interval)


async def test_misbehaving_connection_does_not_affect_another(mockfeed_server: Server) -> None:
    """Garbage, an oversized frame and an abrupt drop on one connection leave another one streaming."""
    good_url = url(mockfeed_server, SPOT, f"/ws/{SPOT.stream}")
    async with trio.open_nursery() as nursery:
        good = await connect_websocket_url(nursery, good_url)
        bad = await connect_websocket_url(nursery, good_url, max_message_size=2**22)
        await push(good)
        await push(bad)
        for junk in ("{", "[]", '{"method":null}', "\x00" * 1000):
            await bad.send_message(junk)
        with trio.fail_after(5):
            try:
                await bad.send_message("x" * (2**20 + 1))  # over the server's 1 MiB frame limit
                while True:
                    await bad.get_message()
            except ConnectionClosed as closed:
                assert closed.reason.code == 1009
        assert await call(good, "LIST_SUBSCRIPTIONS", id=1) == {"result": [SPOT.stream], "id": 1}
        for _ in range(2):
            check_kline(await push(good), "BTCUSDT", "1s")
        await good.aclose()


# -- push semantics ----------------------------------------------------------------------------------


async def test_final_push_once_per_candle_and_equal_to_rest(mockfeed_server: Server) -> None:
    """Over ~4 s of 1s klines each candle closes (x=true) exactly once, with REST's values."""
    pushes: list[dict[str, Any]] = []
    async with open_websocket_url(url(mockfeed_server, SPOT, f"/ws/{SPOT.stream}")) as ws:
        with trio.move_on_after(4.2):
            while True:
                pushes.append((await receive(ws))["k"])
    finals = [k for k in pushes if k["x"]]
    assert len(finals) >= 3, pushes
    opens = [k["t"] for k in finals]
    assert len(set(opens)) == len(opens), "a candle was closed twice"
    assert opens == [opens[0] + 1000 * i for i in range(len(opens))], "a closed candle was skipped"
    closed: set[int] = set()
    for k in pushes:
        assert k["t"] not in closed, "an update arrived after the candle's final push"
        if k["x"]:
            closed.add(k["t"])
    last_open = max(k["t"] for k in pushes)
    assert {k["t"] for k in pushes} - {last_open} <= closed, "a candle never got its final push"
    rest_url = mockfeed_server[SPOT.exchange].rest_url
    async with httpx.AsyncClient(base_url=rest_url, timeout=5) as client:
        with trio.fail_after(10):
            for k in finals:
                params = {"symbol": "BTCUSDT", "interval": "1s", "startTime": k["t"], "limit": 1}
                [r] = (await client.get("/api/v3/klines", params=params)).json()
                assert [r[0], r[6]] == [k["t"], k["T"]]
                assert [k["o"], k["h"], k["l"], k["c"], k["v"], k["q"], k["n"], k["V"], k["Q"]] == [
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    r[5],
                    r[7],
                    r[8],
                    r[9],
                    r[10],
                ]


async def test_perp_forming_pushes_every_quarter_second(mockfeed_server: Server) -> None:
    """USDⓈ-M pushes the forming 1m candle about every 250 ms with x=false."""
    async with open_websocket_url(url(mockfeed_server, PERP, f"/market/ws/{PERP.stream}")) as ws:
        await push(ws)
        start = trio.current_time()
        count = 0
        with trio.move_on_after(1.1):
            while True:
                message = await push(ws)
                count += 1
                if not message["k"]["x"]:
                    assert message["k"]["t"] <= message["E"] <= message["k"]["T"]
    assert trio.current_time() - start >= 1.0
    assert 3 <= count <= 6, count


# -- shutdown ----------------------------------------------------------------------------------------


async def test_shutdown_closes_streams_with_1001() -> None:
    """Leaving mockfeed.serve sends serverShutdown, then closes every WebSocket with code 1001."""
    async with trio.open_nursery() as nursery:
        async with mockfeed.serve(
            exchanges=["binance_spot", "binance_perpetual"], port=0, ws_port=0
        ) as server:
            sockets = [
                await connect_websocket_url(nursery, url(server, SPOT, f"/ws/{SPOT.stream}")),
                await connect_websocket_url(
                    nursery, url(server, PERP, f"/market/stream?streams={PERP.stream}")
                ),
            ]
            for ws in sockets:
                await push(ws)
        for ws in sockets:
            farewell = None
            with trio.fail_after(5), pytest.raises(ConnectionClosed) as closed:
                while True:
                    message = json.loads(await ws.get_message())
                    if not is_push(message) or message.get("e") == "serverShutdown":
                        farewell = message
            assert closed.value.reason.code == 1001
            assert farewell is not None and farewell["e"] == "serverShutdown"
            assert isinstance(farewell["E"], int)
