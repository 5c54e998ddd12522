"""Sans-IO tests of the AscendEX spot plugin: handlers called with plain requests, sessions fed strings."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockfeed.exchanges.ascend_ex import AscendExSpot
from mockfeed.exchanges.ascend_ex.streams import AscendExSession
from mockfeed.exchanges.base import (
    Action,
    Close,
    RestRequest,
    RestResponse,
    Send,
    Subscribe,
    Subscription,
    Unsubscribe,
    WsReject,
)
from mockfeed.market import Candle, Interval, MarketModel, pair_spec

PAIRS = tuple(pair_spec(p) for p in ("BTC-USDT", "ETH-USDT", "SOL-USDT"))
NOW = 1_767_225_617_123  # 2026-01-01T00:00:17.123Z
MINUTE = 60_000
HOUR = 3_600_000
BARHIST = "/api/pro/v1/barhist"
ERROR_KEYS = {"code", "reason", "message"}


@pytest.fixture
def plugin() -> AscendExSpot:
    """A fresh AscendEX spot plugin over BTC, ETH and SOL against USDT."""
    return AscendExSpot(MarketModel(PAIRS, seed=3), PAIRS)


def call(plugin: AscendExSpot, path: str, *query: tuple[str, str], now: int = NOW) -> RestResponse:
    """Run the plugin's GET handler for ``path``."""
    return plugin.routes()[("GET", path)](RestRequest("GET", path, tuple(query), b"", now, "10.0.0.7"))


def body(response: RestResponse) -> Any:
    """The decoded JSON body."""
    return json.loads(response.body)


def bars(plugin: AscendExSpot, *query: tuple[str, str], now: int = NOW) -> list[dict[str, Any]]:
    """A successful barhist answer's rows (the envelope is checked on the way)."""
    response = call(plugin, BARHIST, *query, now=now)
    assert response.status == 200
    payload = body(response)
    assert set(payload) == {"code", "data"}, payload
    assert payload["code"] == 0
    rows: list[dict[str, Any]] = payload["data"]
    return rows


def times(rows: list[dict[str, Any]]) -> list[int]:
    """The bar start times of barhist rows."""
    return [r["data"]["ts"] for r in rows]


def btc(*extra: tuple[str, str], interval: str = "1") -> tuple[tuple[str, str], ...]:
    """A BTC/USDT barhist query."""
    return (("symbol", "BTC/USDT"), ("interval", interval), *extra)


def assert_error(response: RestResponse, code: int, reason: str, status: int = 200) -> str:
    """AscendEX's rich error body with ``code`` and ``reason``; returns the detail message."""
    assert response.status == status
    payload = body(response)
    assert set(payload) == ERROR_KEYS, payload
    assert payload["code"] == code and payload["reason"] == reason
    assert isinstance(payload["message"], str) and payload["message"]
    return str(payload["message"])


def expected_bar(candle: Candle, symbol: str, name: str, p: int, v: int) -> dict[str, Any]:
    """A bar built independently of the plugin: ``ts`` int, prices and base volume as strings."""
    return {
        "m": "bar",
        "s": symbol,
        "data": {
            "i": name,
            "ts": candle.open_time,
            "o": f"{candle.open:.{p}f}",
            "c": f"{candle.close:.{p}f}",
            "h": f"{candle.high:.{p}f}",
            "l": f"{candle.low:.{p}f}",
            "v": f"{candle.volume:.{v}f}",
        },
    }


# -- barhist: rows, defaults and range rules -------------------------------------------------------


def test_default_is_ten_newest_bars_oldest_first_with_forming_bar(plugin: AscendExSpot) -> None:
    """No n/from/to: the 10 newest 1-minute bars, ascending, the forming one last."""
    rows = bars(plugin, *btc())
    now_open = NOW // MINUTE * MINUTE
    assert times(rows) == [now_open - (9 - i) * MINUTE for i in range(10)]
    model = plugin.model
    for row in rows:
        candle = model.candle("BTC-USDT", Interval.parse("1m"), row["data"]["ts"], NOW)
        assert candle is not None
        assert row == expected_bar(candle, "BTC/USDT", "1", 2, 5)
    forming = model.candle("BTC-USDT", Interval.parse("1m"), now_open, NOW)
    assert forming is not None and not forming.closed


def test_row_types(plugin: AscendExSpot) -> None:
    """ts is an int in ms; every other bar field is a string; high/low bound open/close."""
    for row in bars(plugin, *btc(("n", "50"))):
        data = row["data"]
        assert type(data["ts"]) is int
        assert all(isinstance(data[k], str) for k in ("i", "o", "c", "h", "l", "v"))
        o, c, h, low = (Decimal(data[k]) for k in ("o", "c", "h", "l"))
        assert low <= min(o, c) <= max(o, c) <= h


@pytest.mark.parametrize(("n", "expected"), [("1", 1), ("37", 37), ("500", 500), ("501", 500), ("100000", 500)])
def test_n_is_capped_at_500(plugin: AscendExSpot, n: str, expected: int) -> None:
    """n bars come back, never more than 500."""
    rows = bars(plugin, *btc(("n", n)))
    assert len(rows) == expected
    assert times(rows)[-1] == NOW // MINUTE * MINUTE


def test_to_is_the_start_of_the_last_bar(plugin: AscendExSpot) -> None:
    """to (ms) is honoured inclusively: a bar starting exactly at to is the last one."""
    to = NOW - 10 * HOUR
    aligned = to // MINUTE * MINUTE
    assert times(bars(plugin, *btc(("to", str(aligned)), ("n", "3")))) == [
        aligned - 2 * MINUTE, aligned - MINUTE, aligned
    ]
    assert times(bars(plugin, *btc(("to", str(aligned + 59_999)), ("n", "1")))) == [aligned]


def test_from_only_is_inclusive_range_to_now(plugin: AscendExSpot) -> None:
    """from alone: every bar from `from` up to to (default now), the forming bar included."""
    start = NOW // MINUTE * MINUTE - 20 * MINUTE
    assert times(bars(plugin, *btc(("from", str(start))))) == [start + i * MINUTE for i in range(21)]


def test_from_mid_bar_starts_at_next_bar(plugin: AscendExSpot) -> None:
    """from is the start of the first bar: a bar opening before it is not included."""
    start = NOW // MINUTE * MINUTE - 5 * MINUTE
    assert times(bars(plugin, *btc(("from", str(start + 1)))))[0] == start + MINUTE


def test_wide_from_is_raised_to_500_bars(plugin: AscendExSpot) -> None:
    """A [from, to] range wider than 500 bars keeps the newest 500 (from is raised, to honoured)."""
    to = NOW // MINUTE * MINUTE - 1000 * MINUTE
    rows = bars(plugin, *btc(("from", str(to - 2000 * MINUTE)), ("to", str(to))))
    assert times(rows) == [to - (499 - i) * MINUTE for i in range(500)]


def test_ccxt_since_request_shape(plugin: AscendExSpot) -> None:
    """ccxt 4.5.63 asks from=since, to=since+limit*60000+1: limit+1 bars are in range."""
    since = NOW // MINUTE * MINUTE - 3 * 1440 * MINUTE
    small = bars(plugin, *btc(("from", str(since)), ("to", str(since + 3 * MINUTE + 1))))
    assert times(small) == [since + i * MINUTE for i in range(4)]
    full = bars(plugin, *btc(("from", str(since)), ("to", str(since + 500 * MINUTE + 1))))
    assert times(full) == [since + (i + 1) * MINUTE for i in range(500)]


@pytest.mark.parametrize(("n", "span", "expected"), [(5, 20, 5), (20, 5, 6)])
def test_from_and_n_pick_fewer(plugin: AscendExSpot, n: int, span: int, expected: int) -> None:
    """With both from and n the server answers whichever yields fewer bars, ending at to."""
    to = NOW // MINUTE * MINUTE - 100 * MINUTE
    rows = bars(plugin, *btc(("from", str(to - span * MINUTE)), ("to", str(to)), ("n", str(n))))
    assert times(rows) == [to - (expected - 1 - i) * MINUTE for i in range(expected)]


def test_from_after_to_is_empty(plugin: AscendExSpot) -> None:
    """A range that ends before it starts holds no bars."""
    assert bars(plugin, *btc(("from", str(NOW - HOUR)), ("to", str(NOW - 2 * HOUR)))) == []


def test_before_history_is_empty(plugin: AscendExSpot) -> None:
    """Bars before the model's first candle do not exist."""
    assert bars(plugin, *btc(("to", "1000000"))) == []


@pytest.mark.parametrize(
    ("name", "code"),
    [("1", "1m"), ("5", "5m"), ("15", "15m"), ("30", "30m"), ("60", "1h"), ("120", "2h"), ("240", "4h"),
     ("360", "6h"), ("720", "12h"), ("1d", "1d"), ("1w", "1w"), ("1m", "1M")],
)
def test_interval_names(plugin: AscendExSpot, name: str, code: str) -> None:
    """Every documented interval name maps to its interval; ``1m`` is one month, ``1`` one minute."""
    interval = Interval.parse(code)
    rows = bars(plugin, *btc(("n", "3"), interval=name))
    assert [r["data"]["i"] for r in rows] == [name] * 3
    assert times(rows)[-1] == interval.floor(NOW)
    assert times(rows)[-2] == interval.prev(interval.floor(NOW))


def test_barhist_info_lists_intervals(plugin: AscendExSpot) -> None:
    """barhist/info lists the interval names with their nominal lengths."""
    payload = body(call(plugin, "/api/pro/v1/barhist/info"))
    assert payload["code"] == 0
    info = {i["name"]: i["intervalInMillis"] for i in payload["data"]}
    assert info["1"] == MINUTE and info["60"] == HOUR and info["1w"] == 7 * 86_400_000
    assert info["1m"] == 30 * 86_400_000
    assert len(info) == 12


# -- barhist: errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code", "reason", "needle"),
    [
        ((("interval", "1"),), 100004, "INVALID_REQUEST_DATA", "symbol"),
        ((("symbol", ""), ("interval", "1")), 100004, "INVALID_REQUEST_DATA", "symbol"),
        ((("symbol", "BTC/USDT"),), 100004, "INVALID_REQUEST_DATA", "interval"),
        ((("symbol", "BTCUSDT"), ("interval", "1")), 100008, "SYMBOL_ERROR", "BTCUSDT"),
        ((("symbol", "btc/usdt"), ("interval", "1")), 100008, "SYMBOL_ERROR", "btc/usdt"),
        ((("symbol", "DOGE/USDT"), ("interval", "1")), 100008, "SYMBOL_ERROR", "DOGE/USDT"),
        (btc(interval="1M"), 100006, "INVALID_ARGUMENT", "1M"),
        (btc(interval="3"), 100006, "INVALID_ARGUMENT", "interval"),
        (btc(("n", "0")), 100006, "INVALID_ARGUMENT", "n"),
        (btc(("n", "-4")), 100006, "INVALID_ARGUMENT", "n"),
        (btc(("n", "ten")), 100013, "INVALID_NUM_FORMAT", "n"),
        (btc(("n", "1.5")), 100013, "INVALID_NUM_FORMAT", "n"),
        (btc(("n", "")), 100013, "INVALID_NUM_FORMAT", "n"),
        (btc(("from", "yesterday")), 100011, "INVALID_TIMESTAMP", "from"),
        (btc(("to", "-1")), 100011, "INVALID_TIMESTAMP", "to"),
        (btc(("to", "1.7e12")), 100011, "INVALID_TIMESTAMP", "to"),
        (btc(("n", "5"), ("n", "6")), 100004, "INVALID_REQUEST_DATA", "n"),
    ],
)
def test_barhist_errors(
    plugin: AscendExSpot, query: tuple[tuple[str, str], ...], code: int, reason: str, needle: str
) -> None:
    """Malformed requests get AscendEX's code/reason/message body (HTTP 200), never an exception."""
    message = assert_error(call(plugin, BARHIST, *query), code, reason)
    assert needle in message


def test_not_found_and_internal_error_are_native(plugin: AscendExSpot) -> None:
    """Unknown paths, wrong methods and handler failures answer the native error body."""
    request = RestRequest("GET", "/api/pro/v1/nope", (), b"", NOW)
    assert_error(plugin.not_found(request), 100001, "INVALID_HTTP_INPUT", 404)
    assert_error(plugin.method_not_allowed(request), 100001, "INVALID_HTTP_INPUT", 405)
    assert_error(plugin.internal_error(request), 510001, "SERVER_ERROR", 500)


_values = st.one_of(
    st.text(max_size=12),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["BTC/USDT", "ETH/USDT", "1", "1m", "1w", "1d", "60", "500", "0", ""]),
)
_names = st.sampled_from(["symbol", "interval", "n", "from", "to", "other"])


@settings(max_examples=30, deadline=None, database=None)
@given(query=st.lists(st.tuples(_names, _values), max_size=7))
def test_barhist_fuzz_native_shape(query: list[tuple[str, str]]) -> None:
    """Any query gives either a code-0 list of bars or the native error body, never an exception."""
    plugin = AscendExSpot(MarketModel(PAIRS, seed=1), PAIRS)
    response = call(plugin, BARHIST, *query)
    assert response.status == 200
    payload = body(response)
    if payload["code"] == 0:
        assert set(payload) == {"code", "data"}
        assert isinstance(payload["data"], list) and len(payload["data"]) <= 500
        assert times(payload["data"]) == sorted(set(times(payload["data"])))
    else:
        assert set(payload) == ERROR_KEYS
        assert payload["code"] in {100004, 100006, 100008, 100011, 100013}


# -- metadata and time -------------------------------------------------------------------------------


def test_success_bodies_never_carry_message(plugin: AscendExSpot) -> None:
    """Every metadata answer is {"code":0,"data":...} and has no 'message' (ccxt would raise)."""
    for (method, path), handler in plugin.routes().items():
        assert method == "GET"
        query = (("requestTime", str(NOW - 5)),) if path.endswith("exchange-info") else ()
        if path == BARHIST:
            query = btc()
        payload = body(handler(RestRequest("GET", path, query, b"", NOW)))
        assert payload["code"] == 0, path
        assert "message" not in payload, path
        assert set(payload) == {"code", "data"}


def test_products_list_configured_pairs(plugin: AscendExSpot) -> None:
    """products and cash/products list every pair with a slash symbol, Normal status and steps."""
    products = body(call(plugin, "/api/pro/v1/products"))["data"]
    cash = body(call(plugin, "/api/pro/v1/cash/products"))["data"]
    assert [p["symbol"] for p in products] == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    assert [p["symbol"] for p in cash] == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    for pair, old, new in zip(PAIRS, products, cash, strict=True):
        assert old["baseAsset"] == pair.base and old["quoteAsset"] == pair.quote
        assert old["status"] == "Normal" and new["statusCode"] == "Normal"
        assert new["domain"] != "LeveragedETF"
        for entry in (old, new):
            assert Decimal(entry["tickSize"]) == pair.tick_size
            assert Decimal(entry["lotSize"]) == pair.lot_size
        assert new["priceScale"] == pair.price_decimals and new["qtyScale"] == pair.volume_decimals
        assert Decimal(new["minQty"]) == pair.lot_size


def test_assets_and_empty_product_types(plugin: AscendExSpot) -> None:
    """v2/assets lists each base and quote once; unserved product types answer empty lists."""
    assets = body(call(plugin, "/api/pro/v2/assets"))["data"]
    assert [a["assetCode"] for a in assets] == ["BTC", "USDT", "ETH", "SOL"]
    assert all(isinstance(a["nativeScale"], int) and a["blockChain"] == [] for a in assets)
    for path in ("/api/pro/v2/futures/contract", "/api/pro/v1/futures/contracts", "/api/pro/v1/margin/products"):
        assert body(call(plugin, path)) == {"code": 0, "data": []}


def test_exchange_info_reports_receive_time(plugin: AscendExSpot) -> None:
    """exchange-info echoes requestTime and reports when the request arrived (ccxt fetch_time)."""
    payload = body(call(plugin, "/api/pro/v1/exchange-info", ("requestTime", str(NOW - 13))))
    assert payload == {
        "code": 0,
        "data": {"requestTimeEcho": NOW - 13, "requestReceiveAt": NOW, "latency": 13},
    }
    assert_error(call(plugin, "/api/pro/v1/exchange-info"), 100004, "INVALID_REQUEST_DATA")
    assert_error(call(plugin, "/api/pro/v1/exchange-info", ("requestTime", "now")), 100011, "INVALID_TIMESTAMP")


def test_risk_limit_info(plugin: AscendExSpot) -> None:
    """v1 and v2 risk-limit-info report the caller's IP, no ban, and the WS thresholds."""
    v1 = body(call(plugin, "/api/pro/v1/risk-limit-info"))["data"]
    assert v1["ip"] == "10.0.0.7" and v1["webSocket"]["isBanned"] is False
    v2 = body(call(plugin, "/api/pro/v2/risk-limit-info"))["data"]["webSocket"]
    assert v2["status"]["isBanned"] is False
    assert v2["limits"] == {"maxWebSocketSessionsPerIpAccountGroup": 20, "maxWebSocketSessionsPerIpTotal": 300}
    assert v2["messageThreshold"]["level1OpThreshold"]["sub"] == 150
    assert v2["messageThreshold"]["level2OpThreshold"]["sub"] == 200


# -- WebSocket: paths, pushes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api/pro/v1/stream", "/0/api/pro/v1/stream", "/api/pro/v2/stream", "/6/api/pro/v2/stream",
     "/api/pro/v1/websocket-for-hummingbot-liq-mining/stream"],
)
def test_stream_paths_accepted(plugin: AscendExSpot, path: str) -> None:
    """The documented, ccxt and hummingbot stream paths all open a session."""
    assert isinstance(plugin.open_session(path, ""), AscendExSession)


@pytest.mark.parametrize("path", ["/", "/ws", "/api/pro/v3/stream", "/x/api/pro/v1/stream", "/api/pro/v1/stream/x"])
def test_other_paths_rejected(plugin: AscendExSpot, path: str) -> None:
    """Any other path is refused at the handshake with 404."""
    rejected = plugin.open_session(path, "")
    assert isinstance(rejected, WsReject) and rejected.status == 404


def test_push_is_a_bar_message_equal_to_the_rest_row(plugin: AscendExSpot) -> None:
    """A push of a closed candle is byte-for-byte the bar REST serves for it afterwards."""
    minute = Interval.parse("1m")
    open_ms = NOW // MINUTE * MINUTE - MINUTE
    final = plugin.model.candle("BTC-USDT", minute, open_ms, open_ms + MINUTE)
    assert final is not None and final.closed
    push = json.loads(plugin.encode_push(Subscription("BTC-USDT", minute), final, open_ms + MINUTE))
    rest = bars(plugin, *btc(("to", str(open_ms)), ("n", "1")), now=NOW + 5 * MINUTE)
    assert rest == [push]
    assert push == expected_bar(final, "BTC/USDT", "1", 2, 5)
    assert plugin.push_period(Subscription("BTC-USDT", minute)) == 1.0
    assert plugin.heartbeat is None  # no protocol pings: the heartbeat is JSON


# -- WebSocket: the op protocol ----------------------------------------------------------------------


def session(plugin: AscendExSpot) -> tuple[AscendExSession, list[Action]]:
    """A session on ccxt's path and what it says on open."""
    opened = plugin.open_session("/api/pro/v2/stream", "")
    assert isinstance(opened, AscendExSession)
    opened.wall_ms = NOW
    return opened, opened.on_open(NOW)


def sent(actions: list[Action]) -> list[Any]:
    """The decoded messages among actions."""
    return [json.loads(a.message) for a in actions if isinstance(a, Send)]


def op(s: AscendExSession, now: int = NOW, **message: Any) -> list[Action]:
    """Feed one JSON message at ``now``, market and monotonic time alike."""
    s.wall_ms = now
    return s.on_text(json.dumps(message), now)


def test_open_says_connected(plugin: AscendExSpot) -> None:
    """A new session is told it is connected, unauthenticated."""
    _, opened = session(plugin)
    assert sent(opened) == [{"m": "connected", "type": "unauth"}]


def test_sub_acks_and_subscribes(plugin: AscendExSpot) -> None:
    """sub bar:1:BTC/USDT subscribes the 1-minute stream and acks with code 0 and the echoed id."""
    s, _ = session(plugin)
    actions = op(s, op="sub", id="abc123", ch="bar:1:BTC/USDT")
    assert actions[0] == Subscribe(Subscription("BTC-USDT", Interval.parse("1m")))
    assert sent(actions) == [{"m": "sub", "id": "abc123", "ch": "bar:1:BTC/USDT", "code": 0}]
    assert op(s, op="sub", id="2", ch="bar:1:BTC/USDT")[:-1] == []  # already subscribed: ack only


def test_sub_several_symbols_in_one_channel(plugin: AscendExSpot) -> None:
    """Comma-separated symbols subscribe each, acked once; no id means none is echoed."""
    s, _ = session(plugin)
    actions = op(s, op="sub", ch="bar:1m:BTC/USDT,ETH/USDT")
    month = Interval(months=1)
    assert [a for a in actions if isinstance(a, Subscribe)] == [
        Subscribe(Subscription("BTC-USDT", month)), Subscribe(Subscription("ETH-USDT", month))
    ]
    assert sent(actions) == [{"m": "sub", "ch": "bar:1m:BTC/USDT,ETH/USDT", "code": 0}]


@pytest.mark.parametrize(
    ("ch", "code", "reason"),
    [
        ("bar:3:BTC/USDT", 100006, "INVALID_ARGUMENT"),
        ("bar:1:BTCUSDT", 100008, "SYMBOL_ERROR"),
        ("bar:1:BTC/USDT,NOPE/USDT", 100008, "SYMBOL_ERROR"),
        ("bar:1", 100005, "INVALID_WS_REQUEST_DATA"),
        ("bar:1:" + ",".join(["BTC/USDT"] * 11), 100006, "INVALID_ARGUMENT"),
        ("candles:1:BTC/USDT", 100005, "INVALID_WS_REQUEST_DATA"),
        ("order:cash", 100009, "AUTHORIZATION_NEEDED"),
    ],
)
def test_sub_refusals(plugin: AscendExSpot, ch: str, code: int, reason: str) -> None:
    """A refused sub is one ack with a non-zero code, reason and explanation; nothing subscribes."""
    s, _ = session(plugin)
    actions = op(s, op="sub", id="9", ch=ch)
    assert not any(isinstance(a, Subscribe) for a in actions)
    [ack] = sent(actions)
    assert ack["m"] == "sub" and ack["id"] == "9" and ack["code"] == code and ack["reason"] == reason
    assert ack["info"]


def test_other_public_channels_ack_silently(plugin: AscendExSpot) -> None:
    """Public channels other than bar are acknowledged (mockfeed feeds candles only)."""
    s, _ = session(plugin)
    actions = op(s, op="sub", id="1", ch="depth:BTC/USDT")
    assert sent(actions) == [{"m": "sub", "id": "1", "ch": "depth:BTC/USDT", "code": 0}]
    assert len(actions) == 1


@pytest.mark.parametrize(
    ("ch", "left"),
    [
        ("bar:1:BTC/USDT", {("5", "BTC/USDT"), ("1", "ETH/USDT")}),
        ("bar:*:BTC/USDT", {("1", "ETH/USDT")}),
        ("bar:1", {("5", "BTC/USDT")}),
        ("bar:1:*", {("5", "BTC/USDT")}),
        ("bar", set()),
        ("bar:1:SOL/USDT", {("1", "BTC/USDT"), ("5", "BTC/USDT"), ("1", "ETH/USDT")}),
    ],
)
def test_unsub_with_wildcards(plugin: AscendExSpot, ch: str, left: set[tuple[str, str]]) -> None:
    """unsub removes exactly the matching streams (``*`` or a missing part matches all) and acks."""
    s, _ = session(plugin)
    op(s, op="sub", ch="bar:1:BTC/USDT,ETH/USDT")
    op(s, op="sub", ch="bar:5:BTC/USDT")
    before = dict(s.streams)
    actions = op(s, op="unsub", id="u", ch=ch)
    assert set(s.streams) == left
    gone = {Unsubscribe(before[k]) for k in set(before) - left}
    assert {a for a in actions if isinstance(a, Unsubscribe)} == gone
    assert sent(actions) == [{"m": "unsub", "id": "u", "ch": ch}]


@pytest.mark.parametrize(
    ("text", "code", "reason", "has_id"),
    [
        ("{not json", 150001, "INVALID_JSON_FORMAT", False),
        ("[1, 2]", 150001, "INVALID_JSON_FORMAT", False),
        ('{"id": "7", "ch": "bar:1:BTC/USDT"}', 100005, "INVALID_WS_REQUEST_DATA", True),
        ('{"op": "subscribe", "id": "7"}', 100005, "INVALID_WS_REQUEST_DATA", True),
        ('{"op": "sub", "id": "7"}', 100005, "INVALID_WS_REQUEST_DATA", True),
        ('{"op": "req", "id": "7", "action": "depth-snapshot"}', 100005, "INVALID_WS_REQUEST_DATA", True),
        ('{"op": 5}', 100005, "INVALID_WS_REQUEST_DATA", False),
    ],
)
def test_malformed_requests_get_error_message(
    plugin: AscendExSpot, text: str, code: int, reason: str, has_id: bool
) -> None:
    """Malformed or unsupported requests get ``{"m":"error",...}`` with the echoed id."""
    s, _ = session(plugin)
    [error] = sent(s.on_text(text, NOW))
    assert error["m"] == "error" and error["code"] == code and error["reason"] == reason
    assert ("id" in error) is has_id
    assert isinstance(error["info"], str) and error["info"]


def test_auth_is_refused(plugin: AscendExSpot) -> None:
    """A public session cannot authenticate: the auth answer carries a non-zero code."""
    s, _ = session(plugin)
    [answer] = sent(op(s, op="auth", id="a1", t=NOW, key="k", sig="s"))
    assert answer["m"] == "auth" and answer["id"] == "a1" and answer["code"] == 100009


# -- WebSocket: heartbeat ----------------------------------------------------------------------------


def ticks(s: AscendExSession, start: int, stop: int, step: int = 1000) -> list[tuple[int, Any]]:
    """Tick the session every ``step`` ms over [start, stop); (time, message-or-close) in order."""
    out: list[tuple[int, Any]] = []
    for now in range(start, stop, step):
        s.wall_ms = now  # heartbeats run on the runtime's monotonic time
        for action in s.on_tick(now):
            out.append((now, json.loads(action.message) if isinstance(action, Send) else action))
    return out


def test_quiet_client_is_pinged_then_disconnected(plugin: AscendExSpot) -> None:
    """Silence: pings every 15 s with falling hp; two unanswered pings end the session."""
    s, _ = session(plugin)
    assert s.tick_period == 1.0
    events = ticks(s, NOW, NOW + 60_000)
    assert events[:2] == [(NOW + 15_000, {"m": "ping", "hp": 3}), (NOW + 30_000, {"m": "ping", "hp": 2})]
    (when, disconnected), (_, close) = events[2:]
    assert when == NOW + 45_000
    assert disconnected["m"] == "disconnected" and disconnected["code"] == 100005
    assert close == Close(1000, "missing pong")


def test_pong_keeps_the_session(plugin: AscendExSpot) -> None:
    """Answering each ping with ccxt's {"op":"pong","hp":N} keeps the session open indefinitely."""
    s, _ = session(plugin)
    now = NOW
    for _ in range(6):
        events = ticks(s, now, now + 16_000)
        [(now, ping)] = events
        assert ping == {"m": "ping", "hp": 3}
        assert op(s, now, op="pong", hp=ping["hp"]) == []


def test_client_ping_gets_pong_and_suppresses_server_pings(plugin: AscendExSpot) -> None:
    """{"op":"ping"} is answered with a pong and no server ping follows for 30 s."""
    s, _ = session(plugin)
    [pong] = sent(op(s, NOW + 1000, op="ping"))
    assert pong == {"m": "pong", "code": 0, "ts": NOW + 1000, "hp": 3}
    events = ticks(s, NOW + 1000, NOW + 40_000)
    assert events == [(NOW + 31_000, {"m": "ping", "hp": 3})]


def test_any_client_message_resets_the_idle_clock(plugin: AscendExSpot) -> None:
    """A client that keeps talking is never pinged."""
    s, _ = session(plugin)
    for k in range(1, 6):
        assert ticks(s, NOW + (k - 1) * 10_000, NOW + k * 10_000) == []
        op(s, NOW + k * 10_000, op="sub", ch="depth:BTC/USDT")


def test_rules_are_data(plugin: AscendExSpot) -> None:
    """The session takes its timings from the plugin's rules (tests shorten them)."""
    plugin.stream_rules = attrs.evolve(plugin.stream_rules, idle_s=1.0, tick_s=0.1)
    s, _ = session(plugin)
    assert s.tick_period == 0.1
    assert ticks(s, NOW, NOW + 1500, 100) == [(NOW + 1000, {"m": "ping", "hp": 3})]
