"""Sans-IO tests of the Bybit spot and linear perpetual plugin: handlers and sessions, no sockets."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
from mockfeed.exchanges.bybit import BybitPerpetual, BybitSpot
from mockfeed.exchanges.bybit.plugin import _Bybit
from mockfeed.exchanges.bybit.streams import BybitSession
from mockfeed.market import Candle, Interval, MarketModel, pair_spec

PAIRS = tuple(pair_spec(p) for p in ("BTC-USDT", "ETH-USDT", "SOL-USDT"))
NOW = 1_767_225_617_123  # 2026-01-01T00:00:17.123Z, a Thursday
MINUTE = 60_000
KLINE = "/v5/market/kline"
INFO = "/v5/market/instruments-info"
CATEGORY = {"spot": "spot", "perp": "linear"}
WS_PATH = {"spot": "/v5/public/spot", "perp": "/v5/public/linear"}
CODES = {
    "1": "1m", "3": "3m", "5": "5m", "15": "15m", "30": "30m", "60": "1h", "120": "2h",
    "240": "4h", "360": "6h", "720": "12h", "D": "1d", "W": "1w", "M": "1M",
}  # fmt: skip


def make(kind: str) -> _Bybit:
    """A fresh plugin of one product over the default test pairs."""
    model = MarketModel(PAIRS, seed=0)
    return BybitSpot(model, PAIRS) if kind == "spot" else BybitPerpetual(model, PAIRS)


@pytest.fixture(params=["spot", "perp"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each Bybit product in turn."""
    return str(request.param)


@pytest.fixture
def plugin(kind: str) -> _Bybit:
    """A fresh plugin of the product under test."""
    return make(kind)


def call(plugin: _Bybit, path: str, *query: tuple[str, str], now: int = NOW) -> RestResponse:
    """Run the plugin's GET handler for ``path`` on a plain request."""
    handler = plugin.routes()[("GET", path)]
    return handler(RestRequest("GET", path, tuple(query), b"", now))


def ok(response: RestResponse, now: int = NOW) -> Any:
    """The ``result`` of a successful v5 envelope (HTTP 200, retCode 0)."""
    assert response.status == 200
    payload = json.loads(response.body)
    assert payload == {"retCode": 0, "retMsg": "OK", "result": payload["result"], "retExtInfo": {},
                       "time": now}
    return payload["result"]


def refused(response: RestResponse) -> str:
    """Bybit's native error: HTTP 200, retCode 10001, empty result; returns retMsg."""
    assert response.status == 200
    payload = json.loads(response.body)
    assert set(payload) == {"retCode", "retMsg", "result", "retExtInfo", "time"}
    assert payload["retCode"] == 10001
    assert payload["result"] == {} and payload["retExtInfo"] == {} and payload["time"] == NOW
    assert isinstance(payload["retMsg"], str) and payload["retMsg"]
    return str(payload["retMsg"])


def kline(plugin: _Bybit, kind: str, **params: str) -> RestResponse:
    """A kline request in the product's own category for BTCUSDT 1m, with overrides."""
    query = {"category": CATEGORY[kind], "symbol": "BTCUSDT", "interval": "1", **params}
    return call(plugin, KLINE, *query.items())


def plain(value: Decimal) -> str:
    """How a decimal should read on the wire, derived independently of the plugin."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def row(candle: Candle) -> list[str]:
    """The 7-field Bybit row a model candle should be served as."""
    values = (candle.open, candle.high, candle.low, candle.close, candle.volume, candle.quote_volume)
    return [str(candle.open_time), *(plain(v) for v in values)]


# -- time ----------------------------------------------------------------------------------------------


def test_time_answers_seconds_and_nanos_with_envelope_time(plugin: _Bybit) -> None:
    """/v5/market/time: timeSecond/timeNano strings; ccxt reads the envelope's integer ``time``."""
    result = ok(call(plugin, "/v5/market/time"))
    assert result == {"timeSecond": str(NOW // 1000), "timeNano": str(NOW * 1_000_000)}


# -- kline -----------------------------------------------------------------------------------------------


def test_kline_default_page_newest_first_with_forming(plugin: _Bybit, kind: str) -> None:
    """200 rows by default, newest first, the forming candle at the top, every value a string."""
    result = ok(kline(plugin, kind))
    assert result["symbol"] == "BTCUSDT" and result["category"] == CATEGORY[kind]
    rows = result["list"]
    assert len(rows) == 200
    assert all(len(r) == 7 and all(isinstance(v, str) for v in r) for r in rows)
    opens = [int(r[0]) for r in rows]
    assert opens == [NOW // MINUTE * MINUTE - i * MINUTE for i in range(200)]
    candles = plugin.model.candles("BTC-USDT", Interval.parse("1m"), now_ms=NOW, limit=200)
    assert rows == [row(c) for c in reversed(candles)]
    assert not candles[-1].closed  # the top row is the forming candle


def test_kline_prices_drop_trailing_zeros() -> None:
    """Prices and sizes read like Bybit's: no exponent and no trailing zeros."""
    rows = ok(kline(make("perp"), "perp", limit="1000"))["list"]
    values = [v for r in rows for v in r[1:]]
    assert all("e" not in v.lower() and not (("." in v) and v.endswith("0")) for v in values)


def test_kline_category_defaults_to_linear() -> None:
    """Without category the request is linear: the perpetual serves it, spot does not list it."""
    query = (("symbol", "BTCUSDT"), ("interval", "1"), ("limit", "2"))
    assert ok(call(make("perp"), KLINE, *query))["category"] == "linear"
    assert refused(call(make("spot"), KLINE, *query)) == "Not supported symbols"


def test_kline_other_category_lists_no_symbol(kind: str, plugin: _Bybit) -> None:
    """A category this product does not serve knows no symbol (spot vs linear vs inverse)."""
    for category in {"spot", "linear", "inverse"} - {CATEGORY[kind]}:
        assert refused(kline(plugin, kind, category=category)) == "Not supported symbols"


@pytest.mark.parametrize(("value", "rows"), [("1", 1), ("1000", 1000), ("1001", 1000), ("50000", 1000)])
def test_kline_limit_range(plugin: _Bybit, kind: str, value: str, rows: int) -> None:
    """limit is [1, 1000]; larger values are capped at 1000."""
    assert len(ok(kline(plugin, kind, limit=value))["list"]) == rows


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", "99999999999999999999"])
def test_kline_bad_limit(plugin: _Bybit, kind: str, value: str) -> None:
    """A limit below 1 or not an integer is 10001."""
    assert refused(kline(plugin, kind, limit=value)) == "params error: limit invalid"


def test_kline_start_anchors_page_and_includes_its_candle(plugin: _Bybit, kind: str) -> None:
    """With start: the oldest ``limit`` candles from the one containing start, still newest first."""
    start = NOW - 100 * MINUTE + 30_000  # mid-candle
    first = start // MINUTE * MINUTE
    rows = ok(kline(plugin, kind, start=str(start), limit="5"))["list"]
    assert [int(r[0]) for r in rows] == [first + i * MINUTE for i in range(4, -1, -1)]


def test_kline_end_anchors_page(plugin: _Bybit, kind: str) -> None:
    """With end only: the newest ``limit`` candles opening at or before end."""
    end = NOW - 10 * MINUTE
    rows = ok(kline(plugin, kind, end=str(end), limit="3"))["list"]
    top = end // MINUTE * MINUTE
    assert [int(r[0]) for r in rows] == [top, top - MINUTE, top - 2 * MINUTE]
    candles = plugin.model.candles("BTC-USDT", Interval.parse("1m"), now_ms=NOW, limit=1, end_ms=end)
    assert rows[0] == row(candles[0]) and candles[0].closed


def test_kline_start_and_end_window(plugin: _Bybit, kind: str) -> None:
    """start and end bound the page; the future is empty."""
    start = NOW - 60 * MINUTE
    rows = ok(kline(plugin, kind, start=str(start), end=str(start + 4 * MINUTE)))["list"]
    first = start // MINUTE * MINUTE
    assert [int(r[0]) for r in rows] == [first + i * MINUTE for i in range(4, -1, -1)]
    assert ok(kline(plugin, kind, start=str(NOW + 5 * MINUTE)))["list"] == []


@pytest.mark.parametrize(("name", "value"), [("start", "x"), ("end", "-5"), ("start", "1e12")])
def test_kline_bad_times(plugin: _Bybit, kind: str, name: str, value: str) -> None:
    """A start or end that is not a non-negative integer is 10001 naming it."""
    assert refused(kline(plugin, kind, **{name: value})) == f"params error: {name} invalid"


def test_kline_start_after_end(plugin: _Bybit, kind: str) -> None:
    """start after end is refused."""
    message = refused(kline(plugin, kind, start=str(NOW), end=str(NOW - MINUTE)))
    assert "start" in message and "end" in message


@pytest.mark.parametrize(("code", "ours"), list(CODES.items()))
def test_kline_interval_codes(plugin: _Bybit, kind: str, code: str, ours: str) -> None:
    """Every Bybit code maps to its interval: 60 is an hour, D a UTC day, W a Monday week, M a month."""
    rows = ok(kline(plugin, kind, interval=code, limit="2"))["list"]
    interval = Interval.parse(ours)
    assert [int(r[0]) for r in rows] == [interval.floor(NOW), interval.prev(interval.floor(NOW))]
    if code == "W":
        assert int(rows[0][0]) == 1_766_966_400_000  # Monday 2025-12-29
    if code == "M":
        assert int(rows[1][0]) == 1_764_547_200_000  # 2025-12-01


@pytest.mark.parametrize("value", ["1m", "2", "d", "1h", "60m", "w"])
def test_kline_bad_interval(plugin: _Bybit, kind: str, value: str) -> None:
    """An interval outside Bybit's codes is ``Invalid period!``."""
    assert refused(kline(plugin, kind, interval=value)) == "Invalid period!"


def test_kline_missing_and_unknown_params(plugin: _Bybit, kind: str) -> None:
    """Missing symbol, missing interval, unknown/lowercase symbol and bad category have their errors."""
    category = ("category", CATEGORY[kind])
    assert refused(call(plugin, KLINE, category, ("interval", "1"))) == "params error: symbol invalid"
    assert refused(call(plugin, KLINE, category, ("symbol", "BTCUSDT"))) == "Invalid period!"
    assert refused(kline(plugin, kind, symbol="NOPEUSDT")) == "Not supported symbols"
    assert refused(kline(plugin, kind, symbol="btcusdt")) == "Not supported symbols"
    assert refused(kline(plugin, kind, symbol="")) == "params error: symbol invalid"
    for category_value in ("option", "futures", "SPOT"):
        assert refused(kline(plugin, kind, category=category_value)) == "Illegal category"


@given(
    category=st.sampled_from(["spot", "linear", "inverse", "option", "", "x"]),
    symbol=st.sampled_from(["BTCUSDT", "ETHUSDT", "btcusdt", "NOPE", ""]) | st.text(max_size=8),
    interval=st.sampled_from([*CODES, "1m", "0", ""]) | st.text(max_size=4),
    start=st.none() | st.integers(-10, 2**64).map(str) | st.text(max_size=6),
    end=st.none() | st.integers(-10, 2**64).map(str) | st.text(max_size=6),
    limit=st.none() | st.integers(-5, 5000).map(str) | st.text(max_size=4),
)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_kline_fuzz_native_answers(
    plugin: _Bybit,
    category: str,
    symbol: str,
    interval: str,
    start: str | None,
    end: str | None,
    limit: str | None,
) -> None:
    """Any query gets the v5 envelope: retCode 0 with a newest-first list, or 10001; never a crash."""
    query = [("category", category), ("symbol", symbol), ("interval", interval)]
    query += [(k, v) for k, v in (("start", start), ("end", end), ("limit", limit)) if v is not None]
    response = call(plugin, KLINE, *query)
    assert response.status == 200
    payload = json.loads(response.body)
    assert set(payload) == {"retCode", "retMsg", "result", "retExtInfo", "time"}
    if payload["retCode"] == 0:
        opens = [int(r[0]) for r in payload["result"]["list"]]
        assert opens == sorted(opens, reverse=True)
        assert len(opens) <= 1000
    else:
        assert payload["retCode"] == 10001 and payload["result"] == {}


# -- instruments-info ------------------------------------------------------------------------------------


def test_instruments_list_pairs_with_fields_ccxt_reads(plugin: _Bybit, kind: str) -> None:
    """The product's category lists every pair with coins, status and filters from the pair spec."""
    result = ok(call(plugin, INFO, ("category", CATEGORY[kind])))
    assert result["category"] == CATEGORY[kind]
    items = {i["symbol"]: i for i in result["list"]}
    assert list(items) == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    for pair in PAIRS:
        item = items[pair.base + pair.quote]
        assert (item["baseCoin"], item["quoteCoin"], item["status"]) == (pair.base, pair.quote, "Trading")
        assert Decimal(item["priceFilter"]["tickSize"]) == pair.tick_size
        lots = item["lotSizeFilter"]
        step = lots["basePrecision"] if kind == "spot" else lots["qtyStep"]
        assert Decimal(step) == pair.lot_size == Decimal(lots["minOrderQty"])
        if kind == "perp":
            assert item["contractType"] == "LinearPerpetual"
            assert item["settleCoin"] == pair.quote
            assert item["priceScale"] == str(pair.price_decimals)
    assert ("nextPageCursor" in result) == (kind == "perp")
    if kind == "perp":
        assert result["nextPageCursor"] == ""


@pytest.mark.parametrize(
    "query",
    [
        (("category", "spot"),),
        (("category", "linear"), ("limit", "1000")),
        (("category", "linear"), ("limit", "1000"), ("status", "PreLaunch")),
        (("category", "inverse"), ("limit", "1000")),
        (("category", "inverse"), ("limit", "1000"), ("status", "PreLaunch")),
        *((("category", "option"), ("baseCoin", c)) for c in ("BTC", "ETH", "SOL", "XRP", "MNT", "DOGE")),
    ],
)
def test_instruments_every_ccxt_load_markets_call_succeeds(plugin: _Bybit, kind: str, query: Any) -> None:
    """Each of ccxt's 11 default load_markets calls answers retCode 0 with a list (maybe empty)."""
    result = ok(call(plugin, INFO, *query))
    category = query[0][1]
    assert result["category"] == category
    listed = category == CATEGORY[kind] and ("status", "PreLaunch") not in query
    assert len(result["list"]) == (3 if listed else 0)
    assert result.get("nextPageCursor", "") == ""


def test_instruments_pagination_with_cursor() -> None:
    """Linear pages by limit and hands back an opaque cursor until the last page."""
    perp = make("perp")
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        query = [("category", "linear"), ("limit", "2")] + ([("cursor", cursor)] if cursor else [])
        result = ok(call(perp, INFO, *query))
        seen += [i["symbol"] for i in result["list"]]
        cursor = result["nextPageCursor"]
        if not cursor:
            break
    assert seen == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    bad_cursor = call(perp, INFO, ("category", "linear"), ("cursor", "zz"))
    assert refused(bad_cursor) == "params error: cursor invalid"


def test_instruments_filters(plugin: _Bybit, kind: str) -> None:
    """symbol and baseCoin filter; an unknown symbol is 10001 on linear and an empty list on spot."""
    category = ("category", CATEGORY[kind])
    by_symbol = ok(call(plugin, INFO, category, ("symbol", "ETHUSDT")))["list"]
    assert [i["symbol"] for i in by_symbol] == ["ETHUSDT"]
    by_base = ok(call(plugin, INFO, category, ("baseCoin", "SOL")))["list"]
    assert [i["symbol"] for i in by_base] == ["SOLUSDT"]
    unknown = call(plugin, INFO, category, ("symbol", "NOPEUSDT"))
    if kind == "spot":
        assert ok(unknown)["list"] == []
    else:
        assert refused(unknown) == "params error: symbol invalid"


def test_instruments_category_required(plugin: _Bybit) -> None:
    """instruments-info needs a known category."""
    assert refused(call(plugin, INFO)) == "Illegal category"
    assert refused(call(plugin, INFO, ("category", "perp"))) == "Illegal category"
    zero = call(plugin, INFO, ("category", "linear"), ("limit", "0"))
    assert refused(zero) == "params error: limit invalid"


def test_unknown_path_and_internal_error(plugin: _Bybit) -> None:
    """Unknown paths are a plain 404; a crash is Bybit's 10016 envelope, never a traceback."""
    request = RestRequest("GET", "/v5/market/nope", (), b"", NOW)
    assert plugin.not_found(request).status == 404
    failure = plugin.internal_error(request)
    payload = json.loads(failure.body)
    assert payload["retCode"] == 10016 and payload["result"] == {}


# -- WebSocket session -----------------------------------------------------------------------------------


def session(plugin: _Bybit, kind: str) -> BybitSession:
    """A session on the product's own path."""
    opened = plugin.open_session(WS_PATH[kind], "")
    assert isinstance(opened, BybitSession)
    opened.wall_ms = NOW
    assert opened.on_open(NOW) == []
    return opened


def at(s: BybitSession, wall_ms: int) -> BybitSession:
    """``s`` with the runtime's monotonic clock at ``wall_ms``: protocol timers run on it, not on market time."""
    s.wall_ms = wall_ms
    return s


def send(s: BybitSession, message: Any, now: int = NOW) -> list[Action]:
    """Feed one JSON (or raw string) message."""
    return s.on_text(message if isinstance(message, str) else json.dumps(message), now)


def replies(actions: list[Action]) -> list[Any]:
    """The decoded messages among the actions."""
    return [json.loads(a.message) for a in actions if isinstance(a, Send)]


def sub(pair: str = "BTC-USDT", code: str = "1m") -> Subscription:
    """The subscription a kline topic stands for."""
    return Subscription(pair, Interval.parse(code))


def test_ws_paths(plugin: _Bybit, kind: str) -> None:
    """Only the product's own /v5/public/<category> path opens; the query string is ignored."""
    assert isinstance(plugin.open_session(WS_PATH[kind], "a=b"), BybitSession)
    other = WS_PATH["perp" if kind == "spot" else "spot"]
    for path in (other, "/v5/public/inverse", "/ws", "/v5/public/spot/", "/"):
        assert isinstance(plugin.open_session(path, ""), WsReject)


def test_ws_conn_ids_are_unique_uuids(plugin: _Bybit, kind: str) -> None:
    """Every connection gets its own UUID-shaped conn_id."""
    ids = {session(plugin, kind).conn_id for _ in range(5)}
    assert len(ids) == 5
    assert all(len(i) == 36 and i.count("-") == 4 for i in ids)


def test_ws_subscribe_ack_per_product(plugin: _Bybit, kind: str) -> None:
    """One ack for the request (spot ret_msg "subscribe", linear ""), req_id echoed as a string."""
    s = session(plugin, kind)
    actions = send(s, {"op": "subscribe", "req_id": 7, "args": ["kline.1.BTCUSDT", "kline.D.ETHUSDT"]})
    assert isinstance(actions[0], Send)
    assert replies(actions) == [{
        "success": True, "ret_msg": "subscribe" if kind == "spot" else "", "conn_id": s.conn_id,
        "req_id": "7", "op": "subscribe",
    }]  # fmt: skip
    assert actions[1:] == [Subscribe(sub()), Subscribe(sub("ETH-USDT", "1d"))]
    assert list(s.topics) == ["kline.1.BTCUSDT", "kline.D.ETHUSDT"]
    [ack] = replies(send(s, {"op": "subscribe", "args": ["kline.W.SOLUSDT"]}))
    assert ack["req_id"] == "" and ack["success"] is True


def test_ws_already_subscribed_and_atomic_refusal(plugin: _Bybit, kind: str) -> None:
    """A topic already subscribed (or twice in one request) refuses the whole request."""
    s = session(plugin, kind)
    send(s, {"op": "subscribe", "args": ["kline.1.BTCUSDT"]})
    actions = send(s, {"op": "subscribe", "req_id": "a", "args": ["kline.5.ETHUSDT", "kline.1.BTCUSDT"]})
    message = "error:already subscribed,topic:kline.1.BTCUSDT"
    assert replies(actions) == [{"success": False, "ret_msg": message, "conn_id": s.conn_id,
                                 "req_id": "a", "op": "subscribe"}]
    assert len(actions) == 1 and list(s.topics) == ["kline.1.BTCUSDT"]
    [twice] = replies(send(s, {"op": "subscribe", "args": ["kline.3.SOLUSDT", "kline.3.SOLUSDT"]}))
    assert twice["ret_msg"] == "error:already subscribed,topic:kline.3.SOLUSDT"


def test_ws_bad_topics(plugin: _Bybit, kind: str) -> None:
    """Unknown symbols differ per gateway; bad intervals and other families are "handler not found"."""
    s = session(plugin, kind)
    unknown = "Invalid symbol :[kline.1.NOPEUSDT]" if kind == "spot" else (
        "error:handler not found,topic:kline.1.NOPEUSDT")
    cases = {
        "kline.1.NOPEUSDT": unknown,
        "kline.1m.BTCUSDT": "error:handler not found,topic:kline.1m.BTCUSDT",
        "kline.1.btcusdt": unknown.replace("NOPEUSDT", "btcusdt"),
        "tickers.BTCUSDT": "error:handler not found,topic:tickers.BTCUSDT",
        "kline.1.BTCUSDT.x": "error:handler not found,topic:kline.1.BTCUSDT.x",
    }
    for topic, message in cases.items():
        actions = send(s, {"op": "subscribe", "req_id": "r", "args": ["kline.5.BTCUSDT", topic]})
        assert replies(actions) == [{"success": False, "ret_msg": message, "conn_id": s.conn_id,
                                     "req_id": "r", "op": "subscribe"}]
        assert len(actions) == 1
    assert s.topics == {}


def test_ws_spot_takes_at_most_ten_args() -> None:
    """Spot refuses more than 10 topics in one subscribe; linear takes them."""
    topics = [f"kline.{code}.BTCUSDT" for code in CODES][:11]
    spot = session(make("spot"), "spot")
    assert replies(send(spot, {"op": "subscribe", "args": topics}))[0]["ret_msg"] == "args size >10"
    assert spot.topics == {}
    assert len(send(spot, {"op": "subscribe", "args": topics[:10]})) == 11
    perp = session(make("perp"), "perp")
    actions = send(perp, {"op": "subscribe", "args": topics})
    assert replies(actions)[0]["success"] is True and len(actions) == 12


def test_ws_unsubscribe(plugin: _Bybit, kind: str) -> None:
    """unsubscribe acks with ret_msg "" and stops the named topics; unknown ones are ignored."""
    s = session(plugin, kind)
    send(s, {"op": "subscribe", "args": ["kline.1.BTCUSDT", "kline.5.ETHUSDT"]})
    actions = send(s, {"op": "unsubscribe", "req_id": 3, "args": ["kline.1.BTCUSDT", "kline.1.SOLUSDT"]})
    assert replies(actions) == [{"success": True, "ret_msg": "", "conn_id": s.conn_id, "req_id": "3",
                                 "op": "unsubscribe"}]
    assert actions[1:] == [Unsubscribe(sub())]
    assert list(s.topics) == ["kline.5.ETHUSDT"]
    assert len(send(s, {"op": "subscribe", "args": ["kline.1.BTCUSDT"]})) == 2  # subscribable again


def test_ws_ping_pong_shape_ccxt_recognises(plugin: _Bybit, kind: str) -> None:
    """The pong carries ret_msg "pong" (what ccxt checks); linear echoes req_id, spot does not."""
    s = session(plugin, kind)
    [pong] = replies(send(s, {"req_id": "100001", "op": "ping"}))
    expected: dict[str, object] = {"success": True, "ret_msg": "pong", "conn_id": s.conn_id, "op": "ping"}
    if kind == "perp":
        expected["req_id"] = "100001"
    assert pong == expected
    [numeric] = replies(send(s, {"req_id": 12, "op": "ping"}))
    assert numeric["ret_msg"] == "pong" and numeric.get("req_id", "12") == "12"


@pytest.mark.parametrize(
    ("text", "ret_msg"),
    [
        ("hello", "Failed to decode incoming data:readObjectStart: expect { or n, but found h"),
        ("[1, 2]", "Failed to decode incoming data:readObjectStart: expect { or n, but found ["),
        ("", "Failed to decode incoming data:readObjectStart: expect { or n, but found EOF"),
        ('{"op": "ping"', None),
        ('{"op": "nope"}', "error:invalid op"),
        ('{"op": 5}', "error:invalid op"),
        ("null", "error:invalid op"),
        ('{"op": "subscribe", "args": "kline.1.BTCUSDT"}', "error:args must be a non-empty list of topics"),
        ('{"op": "subscribe", "args": []}', "error:args must be a non-empty list of topics"),
        ('{"op": "unsubscribe", "args": [1]}', "error:args must be a non-empty list of topics"),
        ('{"op": "ping", "req_id": {"a": 1}}', None),
    ],
)
def test_ws_malformed_requests_answer_and_keep_open(plugin: _Bybit, kind: str, text: str,
                                                     ret_msg: str | None) -> None:
    """Malformed requests get one success:false reply and never close the connection."""
    s = session(plugin, kind)
    actions = send(s, text)
    [reply] = replies(actions)
    assert len(actions) == 1 and reply["success"] is False and reply["conn_id"] == s.conn_id
    if ret_msg is None:
        assert reply["ret_msg"].startswith("Failed to decode incoming data:")
    else:
        assert reply["ret_msg"] == ret_msg


def test_ws_idle_connection_is_closed_once(plugin: _Bybit, kind: str) -> None:
    """Nothing subscribed and nothing sent for the idle timeout closes; messages reset the timer."""
    s = session(plugin, kind)
    idle = round(plugin.idle_timeout_s * 1000)
    assert s.tick_period == plugin.idle_check_s
    assert at(s, NOW + idle - 1).on_tick(NOW) == []
    send(at(s, NOW + idle - 1), {"op": "ping"})
    assert at(s, NOW + idle + 1).on_tick(NOW) == []
    closing = at(s, NOW + 2 * idle).on_tick(NOW)
    assert len(closing) == 1 and isinstance(closing[0], Close)
    assert at(s, NOW + 3 * idle).on_tick(NOW) == []


def test_ws_subscribed_connection_is_never_idle(plugin: _Bybit, kind: str) -> None:
    """A subscribed connection receives data, so it is kept however quiet the client is."""
    s = session(plugin, kind)
    send(s, {"op": "subscribe", "args": ["kline.1.BTCUSDT"]})
    assert at(s, NOW + 10 * round(plugin.idle_timeout_s * 1000)).on_tick(NOW) == []


# -- pushes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("closed", [False, True])
def test_push_encoding(plugin: _Bybit, closed: bool) -> None:
    """topic/type/ts/data with numbers for times, strings for values and confirm for the close."""
    interval = Interval.parse("1m")
    open_ms = NOW // MINUTE * MINUTE
    at = open_ms + MINUTE if closed else NOW
    candle = plugin.model.candle("ETH-USDT", interval, open_ms, at)
    assert candle is not None and candle.closed is closed
    message = json.loads(plugin.encode_push(sub("ETH-USDT"), candle, at + 5))
    assert message == {
        "topic": "kline.1.ETHUSDT",
        "type": "snapshot",
        "ts": at + 5,
        "data": [{
            "start": open_ms, "end": open_ms + MINUTE - 1, "interval": "1",
            "open": plain(candle.open), "close": plain(candle.close), "high": plain(candle.high),
            "low": plain(candle.low), "volume": plain(candle.volume), "turnover": plain(candle.quote_volume),
            "confirm": closed, "timestamp": min(at + 5, open_ms + MINUTE - 1),
        }],
    }  # fmt: skip


@pytest.mark.parametrize(("code", "ours"), list(CODES.items()))
def test_push_topic_uses_bybit_codes(plugin: _Bybit, code: str, ours: str) -> None:
    """Pushes name the interval with Bybit's code, in the topic and in data.interval."""
    interval = Interval.parse(ours)
    candle = plugin.model.candle("SOL-USDT", interval, NOW, NOW)
    assert candle is not None
    message = json.loads(plugin.encode_push(sub("SOL-USDT", ours), candle, NOW))
    assert message["topic"] == f"kline.{code}.SOLUSDT" and message["data"][0]["interval"] == code


def test_push_period_and_no_server_heartbeat(plugin: _Bybit) -> None:
    """Forming candles are pushed every second; Bybit sends no protocol pings and no farewell."""
    assert plugin.push_period(sub()) == 1.0
    assert plugin.heartbeat is None
    assert plugin.farewell(NOW) is None
