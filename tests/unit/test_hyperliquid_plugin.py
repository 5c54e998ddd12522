"""Sans-IO tests of the Hyperliquid spot and perpetual plugins: handlers and sessions fed plain values."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
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
from mockfeed.exchanges.hyperliquid import HyperliquidPerpetual, HyperliquidSpot
from mockfeed.exchanges.hyperliquid.catalog import PERP, SPOT, markets, spot_meta
from mockfeed.exchanges.hyperliquid.plugin import CANDLE_CAP, _Hyperliquid
from mockfeed.exchanges.hyperliquid.streams import WELCOME, HyperliquidSession
from mockfeed.exchanges.hyperliquid.wire import INTERVALS, candle_row, num
from mockfeed.market import Interval, MarketModel, pair_spec

PAIRS = tuple(pair_spec(p) for p in ("BTC-USDT", "ETH-USDT", "SOL-USDT"))
MODEL = MarketModel(PAIRS, seed=3)
NOW = 1_767_225_617_123  # 2026-01-01T00:00:17.123Z, a Thursday
SECOND, MINUTE, HOUR, DAY = 1_000, 60_000, 3_600_000, 86_400_000
DESERIALIZE = b"Failed to deserialize the JSON body into the target type"
PARSE = b"Failed to parse the request body as JSON"
COIN = {"spot": "@0", "perp": "BTC"}


def make(kind: str) -> _Hyperliquid:
    """A fresh plugin of one product over the test pairs."""
    return HyperliquidSpot(MODEL, PAIRS) if kind == "spot" else HyperliquidPerpetual(MODEL, PAIRS)


@pytest.fixture(params=["spot", "perp"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each Hyperliquid product in turn."""
    return str(request.param)


@pytest.fixture
def plugin(kind: str) -> _Hyperliquid:
    """A fresh plugin of the product under test."""
    return make(kind)


def post(plugin: _Hyperliquid, body: Any, now: int = NOW) -> RestResponse:
    """POST /info with ``body`` (bytes as they are, anything else JSON-encoded)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return plugin.routes()[("POST", "/info")](RestRequest("POST", "/info", (), raw, now))


def info(plugin: _Hyperliquid, body: Any, now: int = NOW) -> Any:
    """The decoded JSON of a successful info request."""
    response = post(plugin, body, now)
    assert response.status == 200, response.body
    assert response.content_type == "application/json"
    return json.loads(response.body)


def snapshot(plugin: _Hyperliquid, coin: str, interval: str = "1m", now: int = NOW, **req: Any) -> Any:
    """The rows of one candleSnapshot request."""
    return info(plugin, {"type": "candleSnapshot", "req": {"coin": coin, "interval": interval, **req}}, now)


# -- wire format ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [("61230.00", "61230.0"), ("0.2041", "0.2041"), ("50000", "50000.0"), ("0E-8", "0.0"),
     ("1.20407000", "1.20407"), ("100000000", "100000000.0")],
)
def test_numbers_are_strings_without_trailing_zeros(value: str, text: str) -> None:
    """Prices and sizes as Hyperliquid writes them: no exponent, no trailing zeros, ``.0`` kept."""
    assert num(Decimal(value)) == text


def test_interval_codes_and_thursday_weeks() -> None:
    """The 14 codes of Hyperliquid; weeks open on Thursday 00:00 UTC (epoch-aligned), months on the 1st."""
    assert list(INTERVALS) == ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "3d",
                               "1w", "1M"]
    week = INTERVALS["1w"]
    assert week.code == "1w"
    opened = week.floor(NOW)
    assert opened % (7 * DAY) == 0 and opened == NOW - 17_123  # 2026-01-01 is a Thursday
    assert week.next(opened) == opened + 7 * DAY
    assert INTERVALS["3d"].floor(NOW) % (3 * DAY) == 0
    assert INTERVALS["1M"].floor(NOW + 40 * DAY) == NOW - 17_123 + 31 * DAY  # 2026-02-01


# -- catalog -------------------------------------------------------------------------------------------


def test_spot_catalog_names_pairs_by_universe_index_and_quotes_usdt_as_usdc() -> None:
    """BTC-USDT is tokens BTC/USDC, market ``@0``; USDC is token 0; a clash keeps the first pair."""
    pairs = [pair_spec(p) for p in ("BTC-USDT", "ETH-BTC", "BTC-USDC", "SOL-EUR")]
    spot = markets(pairs, SPOT)
    assert [(m.coin, m.pair.name, m.base, m.quote) for m in spot] == [
        ("@0", "BTC-USDT", "BTC", "USDC"), ("@1", "ETH-BTC", "ETH", "BTC"), ("@2", "SOL-EUR", "SOL", "EUR"),
    ]
    meta = spot_meta(spot)
    tokens = {t["name"]: t for t in meta["tokens"]}
    assert [t["name"] for t in meta["tokens"]] == ["USDC", "BTC", "ETH", "SOL", "EUR"]
    assert [t["index"] for t in meta["tokens"]] == [0, 1, 2, 3, 4]
    assert (tokens["BTC"]["szDecimals"], tokens["BTC"]["weiDecimals"]) == (5, 10)
    assert (tokens["EUR"]["szDecimals"], tokens["EUR"]["weiDecimals"]) == (8, 8)  # a quote-only token
    assert tokens["USDC"]["tokenId"] == "0x6d1e7cde53ba9467b783cb7c530ce054"
    assert meta["universe"] == [
        {"tokens": [1, 0], "name": "@0", "index": 0, "isCanonical": False},
        {"tokens": [2, 1], "name": "@1", "index": 1, "isCanonical": False},
        {"tokens": [3, 4], "name": "@2", "index": 2, "isCanonical": False},
    ]


def test_perp_catalog_names_pairs_by_base() -> None:
    """A perpetual is its base; a second pair with the same base is not served."""
    pairs = [pair_spec(p) for p in ("BTC-USDT", "BTC-USDC", "ETH-USDT")]
    assert [(m.coin, m.index, m.pair.name) for m in markets(pairs, PERP)] == [
        ("BTC", 0, "BTC-USDT"), ("ETH", 1, "ETH-USDT"),
    ]
    assert markets(pairs, None) == ()


# -- REST: candleSnapshot -----------------------------------------------------------------------------


def test_candle_rows_ascending_with_forming_candle_last(plugin: _Hyperliquid, kind: str) -> None:
    """Rows opening at or after startTime, oldest first, ten fields, strings for numbers."""
    rows = snapshot(plugin, COIN[kind], startTime=NOW - 5 * MINUTE)
    assert [r["t"] for r in rows] == [NOW - 17_123 - (4 - i) * MINUTE for i in range(5)]
    for row in rows:
        assert list(row) == ["t", "T", "s", "i", "o", "c", "h", "l", "v", "n"]
        assert row["T"] == row["t"] + MINUTE - 1
        assert (row["s"], row["i"]) == (COIN[kind], "1m")
        assert all(isinstance(row[k], str) for k in "ochlv") and type(row["n"]) is int
        assert Decimal(row["l"]) <= min(Decimal(row["o"]), Decimal(row["c"]))
    forming = MODEL.candle("BTC-USDT", Interval.parse("1m"), NOW, NOW)
    assert forming is not None and not forming.closed
    assert rows[-1] == candle_row(COIN[kind], "1m", forming)


def test_candle_window_is_inclusive_by_open_time(plugin: _Hyperliquid, kind: str) -> None:
    """startTime and endTime select candles by open time, both ends included; null endTime is now."""
    start = NOW - 17_123 - 10 * MINUTE
    rows = snapshot(plugin, COIN[kind], startTime=start, endTime=start + 3 * MINUTE)
    assert [r["t"] for r in rows] == [start + i * MINUTE for i in range(4)]
    rows = snapshot(plugin, COIN[kind], startTime=start + 1, endTime=start + 3 * MINUTE - 1)
    assert [r["t"] for r in rows] == [start + MINUTE, start + 2 * MINUTE]
    assert len(snapshot(plugin, COIN[kind], startTime=start, endTime=None)) == 11
    assert snapshot(plugin, COIN[kind], startTime=start, endTime=start - 1) == []
    assert snapshot(plugin, COIN[kind], startTime=NOW + MINUTE) == []


def test_at_most_5000_candles_the_newest_of_the_window(plugin: _Hyperliquid, kind: str) -> None:
    """startTime 0 gives the latest 5000 candles (as ccxt's fetch_ohlcv without since expects)."""
    rows = snapshot(plugin, COIN[kind], startTime=0)
    assert len(rows) == CANDLE_CAP
    assert rows[-1]["t"] == NOW - 17_123
    assert rows[0]["t"] == NOW - 17_123 - (CANDLE_CAP - 1) * MINUTE
    old = snapshot(plugin, COIN[kind], "1h", startTime=0, endTime=NOW - 400 * DAY)
    assert len(old) == CANDLE_CAP and old[-1]["t"] == (NOW - 400 * DAY) // HOUR * HOUR


@pytest.mark.parametrize("code", list(INTERVALS))
def test_every_interval_is_served_and_aligned(plugin: _Hyperliquid, kind: str, code: str) -> None:
    """Each code answers rows carrying it, aligned to the interval, the forming one last."""
    rows = snapshot(plugin, COIN[kind], code, startTime=NOW - 100 * DAY)
    interval = INTERVALS[code]
    assert rows and rows[-1]["t"] == interval.floor(NOW)
    assert all(r["i"] == code and r["t"] == interval.floor(r["t"]) for r in rows)
    assert all(b["t"] == interval.next(a["t"]) for a, b in itertools.pairwise(rows))


def test_unknown_coin_answers_an_empty_list(plugin: _Hyperliquid, kind: str) -> None:
    """A coin this product does not serve (including the other product's names) gives []."""
    other = {"spot": "BTC", "perp": "@0"}[kind]
    assert snapshot(plugin, other, startTime=NOW - HOUR) == []
    assert snapshot(plugin, "NOPE", startTime=NOW - HOUR) == []


@pytest.mark.parametrize(
    "req",
    [
        None,
        {"interval": "1m", "startTime": 0},
        {"coin": 1, "interval": "1m", "startTime": 0},
        {"coin": "BTC", "interval": "7m", "startTime": 0},
        {"coin": "BTC", "interval": "1H", "startTime": 0},
        {"coin": "BTC", "interval": "6h", "startTime": 0},
        {"coin": "BTC", "interval": 1, "startTime": 0},
        {"coin": "BTC", "interval": "1m"},
        {"coin": "BTC", "interval": "1m", "startTime": None},
        {"coin": "BTC", "interval": "1m", "startTime": "1700000000000"},
        {"coin": "BTC", "interval": "1m", "startTime": -1},
        {"coin": "BTC", "interval": "1m", "startTime": 1.5},
        {"coin": "BTC", "interval": "1m", "startTime": True},
        {"coin": "BTC", "interval": "1m", "startTime": 2**64},
        {"coin": "BTC", "interval": "1m", "startTime": 0, "endTime": "now"},
        [],
        "req",
    ],
)
def test_malformed_requests_get_422_plain_text(plugin: _Hyperliquid, req: Any) -> None:
    """Missing fields, wrong types, bad intervals: HTTP 422 and Hyperliquid's bare text line."""
    body: dict[str, Any] = {"type": "candleSnapshot"}
    if req is not None:
        body["req"] = req
    response = post(plugin, body)
    assert (response.status, response.body) == (422, DESERIALIZE)
    assert response.content_type == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    "body",
    [{}, {"type": "nope"}, {"type": 5}, {"type": "candlesnapshot"}, [], "spotMeta", 1, None,
     {"type": "meta", "dex": 3}],
)
def test_bodies_of_the_wrong_shape_get_422(plugin: _Hyperliquid, body: Any) -> None:
    """A body that is JSON but no known info request is 422."""
    assert (post(plugin, body).status, post(plugin, body).body) == (422, DESERIALIZE)


@pytest.mark.parametrize("raw", [b"", b"{", b"{type: 'meta'}", b"\xff\xfe", b'{"type":NaN}', b"[" * 5000])
def test_bodies_that_are_not_json_get_400(plugin: _Hyperliquid, raw: bytes) -> None:
    """A syntax error is HTTP 400 with axum's line."""
    response = post(plugin, raw)
    assert (response.status, response.body) == (400, PARSE)
    assert response.content_type == "text/plain; charset=utf-8"


def test_extra_fields_are_ignored(plugin: _Hyperliquid, kind: str) -> None:
    """Like serde, unknown fields (a ``limit`` some clients send) change nothing."""
    plain = snapshot(plugin, COIN[kind], startTime=NOW - 3 * MINUTE)
    extra = info(plugin, {"type": "candleSnapshot", "x": 1,
                          "req": {"coin": COIN[kind], "interval": "1m", "startTime": NOW - 3 * MINUTE,
                                  "limit": 1}})
    assert extra == plain


# -- REST: metadata --------------------------------------------------------------------------------------


def test_spot_product_lists_spot_markets_and_an_empty_perp_universe() -> None:
    """Spot: spotMeta lists the pairs, meta/metaAndAssetCtxs list nothing, ctxs follow the universe."""
    plugin = make("spot")
    meta, ctxs = info(plugin, {"type": "spotMetaAndAssetCtxs"})
    assert meta == info(plugin, {"type": "spotMeta"})
    assert [u["name"] for u in meta["universe"]] == ["@0", "@1", "@2"]
    assert [c["coin"] for c in ctxs] == ["@0", "@1", "@2"]
    assert set(ctxs[0]) == {"prevDayPx", "dayNtlVlm", "markPx", "midPx", "coin", "dayBaseVlm"}
    assert info(plugin, {"type": "meta"})["universe"] == []
    assert info(plugin, {"type": "metaAndAssetCtxs"})[1] == []


def test_perp_product_lists_perps_and_only_usdc_in_spot_meta() -> None:
    """Perpetual: meta lists BTC, ETH, SOL with szDecimals and leverage; spotMeta only the USDC token."""
    plugin = make("perp")
    meta, ctxs = info(plugin, {"type": "metaAndAssetCtxs"})
    assert meta == info(plugin, {"type": "meta"}) == info(plugin, {"type": "meta", "dex": ""})
    assert meta["universe"] == [
        {"szDecimals": 5, "name": "BTC", "maxLeverage": 40, "marginTableId": 40},
        {"szDecimals": 4, "name": "ETH", "maxLeverage": 25, "marginTableId": 25},
        {"szDecimals": 3, "name": "SOL", "maxLeverage": 20, "marginTableId": 20},
    ]
    assert [t[0] for t in meta["marginTables"]] == [20, 25, 40]
    assert len(ctxs) == 3
    btc = ctxs[0]
    assert btc["markPx"] == btc["midPx"] == btc["oraclePx"]
    assert [Decimal(p) for p in btc["impactPxs"]] == [Decimal(btc["midPx"]) - Decimal("0.01"),
                                                      Decimal(btc["midPx"]) + Decimal("0.01")]
    spot = info(plugin, {"type": "spotMeta"})
    assert [t["name"] for t in spot["tokens"]] == ["USDC"] and spot["universe"] == []
    assert info(plugin, {"type": "spotMetaAndAssetCtxs"})[1] == []


def test_builder_dexes_list_nothing(plugin: _Hyperliquid) -> None:
    """perpDexs is [null] (the main dex only); a named builder dex has an empty universe."""
    assert info(plugin, {"type": "perpDexs"}) == [None]
    assert info(plugin, {"type": "metaAndAssetCtxs", "dex": "xyz"}) == [
        {"universe": [], "marginTables": [], "collateralToken": 0}, []]


def test_asset_ctx_prices_come_from_the_model(plugin: _Hyperliquid, kind: str) -> None:
    """midPx is the forming candle's close, prevDayPx the price a day ago, volumes of the last 24 hours."""
    ctxs = info(plugin, {"type": "spotMetaAndAssetCtxs" if kind == "spot" else "metaAndAssetCtxs"})[1]
    minute = Interval.parse("1m")
    now = MODEL.candle("BTC-USDT", minute, NOW, NOW)
    ago = MODEL.candle("BTC-USDT", minute, NOW - DAY, NOW)
    assert now is not None and ago is not None
    assert (ctxs[0]["midPx"], ctxs[0]["prevDayPx"]) == (num(now.close), num(ago.close))
    hours = MODEL.candles("BTC-USDT", Interval.parse("1h"), now_ms=NOW, limit=24)
    assert Decimal(ctxs[0]["dayNtlVlm"]) == sum(c.quote_volume for c in hours)
    assert info(plugin, {"type": "allMids"})[COIN[kind]] == num(now.close)


def test_exchange_status_time_is_a_string(plugin: _Hyperliquid) -> None:
    """exchangeStatus (ccxt's fetch_time): the server time in ms, as a string."""
    assert info(plugin, {"type": "exchangeStatus"}) == {"time": str(NOW), "specialStatuses": None}


def test_routes_and_fallbacks(plugin: _Hyperliquid) -> None:
    """Only POST /info; unknown paths 404, wrong methods 405, failures 500, all plain text."""
    assert list(plugin.routes()) == [("POST", "/info")]
    request = RestRequest("GET", "/info", (), b"", NOW)
    assert (plugin.not_found(request).status, plugin.not_found(request).body) == (404, b"")
    assert plugin.method_not_allowed(request).status == 405
    assert plugin.internal_error(request).status == 500
    assert plugin.internal_error(request).content_type.startswith("text/plain")


@settings(max_examples=30, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["coin", "interval", "startTime", "endTime", "limit"]),
        st.one_of(st.none(), st.booleans(), st.integers(-(2**65), 2**65), st.integers(NOW - DAY, NOW + DAY),
                  st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8), st.lists(st.integers(), max_size=2),
                  st.sampled_from(["BTC", "@0", "@1", "1m", "1w", "1M", "7m", ""])),
    ),
    st.sampled_from(["spot", "perp"]),
)
def test_fuzzed_candle_requests_answer_natively(req: dict[str, Any], kind: str) -> None:
    """Any req: a JSON list of ascending rows (200) or the 422 line, never an exception or another status."""
    response = post(make(kind), {"type": "candleSnapshot", "req": req})
    if response.status == 200:
        rows = json.loads(response.body)
        assert isinstance(rows, list) and len(rows) <= CANDLE_CAP
        assert all(a["t"] < b["t"] for a, b in itertools.pairwise(rows))
    else:
        assert (response.status, response.body) == (422, DESERIALIZE)


# -- WebSocket session -----------------------------------------------------------------------------------


def session(plugin: _Hyperliquid) -> HyperliquidSession:
    """A fresh opened session on ``/ws``."""
    opened = plugin.open_session("/ws", "")
    assert isinstance(opened, HyperliquidSession)
    opened.wall_ms = NOW
    assert opened.on_open(NOW) == [Send(WELCOME)]
    return opened


def at(s: HyperliquidSession, wall_ms: int) -> HyperliquidSession:
    """``s`` with the runtime's monotonic clock at ``wall_ms``: protocol timers run on it, not on market time."""
    s.wall_ms = wall_ms
    return s


def sent(actions: list[Action]) -> list[Any]:
    """The decoded messages among ``actions``."""
    return [json.loads(a.message) for a in actions if isinstance(a, Send)]


def candle_request(method: str, coin: str, interval: str = "1m") -> str:
    """A subscribe/unsubscribe request for a candle stream."""
    return json.dumps({"method": method, "subscription": {"type": "candle", "coin": coin, "interval": interval}})


def test_only_the_ws_path_opens(plugin: _Hyperliquid) -> None:
    """``/ws`` opens a session; any other path is refused with 404."""
    assert isinstance(plugin.open_session("/ws", "x=1"), HyperliquidSession)
    for path in ("/", "/ws/", "/info", "/ws/candle"):
        refused = plugin.open_session(path, "")
        assert isinstance(refused, WsReject) and refused.status == 404


def test_subscribe_acks_with_the_parsed_subscription(plugin: _Hyperliquid, kind: str) -> None:
    """An ack echoes {type, coin, interval} (extra fields dropped) and starts the stream."""
    ws = session(plugin)
    request = {"method": "subscribe", "subscription": {"interval": "1m", "extra": 1, "coin": COIN[kind],
                                                       "type": "candle"}}
    actions = ws.on_text(json.dumps(request), NOW)
    expected = {"type": "candle", "coin": COIN[kind], "interval": "1m"}
    assert sent(actions) == [{"channel": "subscriptionResponse",
                              "data": {"method": "subscribe", "subscription": expected}}]
    assert actions[1] == Subscribe(Subscription("BTC-USDT", INTERVALS["1m"]))
    again = ws.on_text(candle_request("subscribe", COIN[kind]), NOW)
    assert sent(again) == [{"channel": "error",
                            "data": f"Already subscribed: {json.dumps(expected, separators=(',', ':'))}"}]


def test_unsubscribe_acks_and_stops(plugin: _Hyperliquid, kind: str) -> None:
    """Unsubscribe acks and stops the stream; a second one reports it is already unsubscribed."""
    ws = session(plugin)
    ws.on_text(candle_request("subscribe", COIN[kind], "1w"), NOW)
    actions = ws.on_text(candle_request("unsubscribe", COIN[kind], "1w"), NOW)
    assert sent(actions)[0]["data"]["method"] == "unsubscribe"
    assert actions[1] == Unsubscribe(Subscription("BTC-USDT", INTERVALS["1w"]))
    again = sent(ws.on_text(candle_request("unsubscribe", COIN[kind], "1w"), NOW))
    assert again[0]["channel"] == "error" and again[0]["data"].startswith("Already unsubscribed: ")


def test_unknown_coin_is_an_invalid_subscription(plugin: _Hyperliquid, kind: str) -> None:
    """A well-formed candle subscription to a coin not served is refused on the error channel."""
    other = {"spot": "BTC", "perp": "@0"}[kind]
    actions = session(plugin).on_text(candle_request("subscribe", other), NOW)
    assert sent(actions) == [{"channel": "error", "data":
                              f'Invalid subscription {{"type":"candle","coin":"{other}","interval":"1m"}}'}]


@pytest.mark.parametrize(
    "text",
    ["{oops", "[]", '"ping"', "{}", '{"method":"PING"}', '{"method":"subscribe"}',
     '{"method":"subscribe","subscription":{"type":"candle","coin":"BTC","interval":"7m"}}',
     '{"method":"subscribe","subscription":{"type":"candle","interval":"1m"}}',
     '{"method":"subscribe","subscription":{"type":"candles","coin":"BTC","interval":"1m"}}',
     '{"method":"post","id":"1","request":{"type":"info","payload":{"type":"meta"}}}',
     '{"method":"post","id":1,"request":{"type":"other","payload":{}}}'],
)
def test_unparsable_requests_are_echoed_on_the_error_channel(plugin: _Hyperliquid, text: str) -> None:
    """Anything that does not parse into a request: ``Error parsing JSON into valid websocket request``."""
    assert sent(session(plugin).on_text(text, NOW)) == [
        {"channel": "error", "data": f"Error parsing JSON into valid websocket request: {text}"}]


def test_ping_is_answered_with_pong(plugin: _Hyperliquid) -> None:
    """{"method":"ping"} gets {"channel":"pong"} (what ccxt and the SDK wait for)."""
    assert session(plugin).on_text('{"method":"ping"}', NOW) == [Send('{"channel":"pong"}')]


def test_other_subscription_types_are_acknowledged_and_silent(plugin: _Hyperliquid) -> None:
    """trades/l2Book... are known to Hyperliquid: acked as sent, no stream, unsubscribable."""
    ws = session(plugin)
    request = {"method": "subscribe", "subscription": {"type": "trades", "coin": "BTC"}}
    actions = ws.on_text(json.dumps(request), NOW)
    assert sent(actions) == [{"channel": "subscriptionResponse", "data": {
        "method": "subscribe", "subscription": {"type": "trades", "coin": "BTC"}}}]
    assert len(actions) == 1
    request["method"] = "unsubscribe"
    assert sent(ws.on_text(json.dumps(request), NOW))[0]["channel"] == "subscriptionResponse"


def test_post_info_answers_on_the_post_channel(plugin: _Hyperliquid, kind: str) -> None:
    """A WebSocket post of an info request answers like REST, wrapped with its id."""
    ws = session(plugin)
    payload = {"type": "candleSnapshot", "req": {"coin": COIN[kind], "interval": "1m",
                                                  "startTime": NOW - 2 * MINUTE}}
    reply = sent(ws.on_text(json.dumps({"method": "post", "id": 7, "request": {"type": "info",
                                                                               "payload": payload}}), NOW))
    assert reply == [{"channel": "post", "data": {"id": 7, "response": {"type": "info", "payload": {
        "type": "candleSnapshot", "data": info(plugin, payload)}}}}]
    bad = sent(ws.on_text(json.dumps({"method": "post", "id": 8, "request": {
        "type": "info", "payload": {"type": "candleSnapshot"}}}), NOW))
    assert bad[0]["data"] == {"id": 8, "response": {"type": "error", "payload": DESERIALIZE.decode()}}
    action = sent(ws.on_text(json.dumps({"method": "post", "id": 9, "request": {
        "type": "action", "payload": {}}}), NOW))
    assert action[0]["data"]["response"]["type"] == "error"


def test_subscriptions_are_capped(plugin: _Hyperliquid, kind: str) -> None:
    """Past ``max_subscriptions`` a subscribe is refused on the error channel."""
    plugin.max_subscriptions = 2
    ws = session(plugin)
    for code in ("1m", "5m"):
        assert sent(ws.on_text(candle_request("subscribe", COIN[kind], code), NOW))[0]["channel"] == (
            "subscriptionResponse")
    refused = sent(ws.on_text(candle_request("subscribe", COIN[kind], "15m"), NOW))
    assert refused[0]["channel"] == "error" and "2" in refused[0]["data"]


def test_idle_connection_is_closed_after_60s_of_silence(plugin: _Hyperliquid, kind: str) -> None:
    """Nothing sent for 60 s closes the connection once; a pong resets the clock; candles keep it open."""
    ws = session(plugin)
    assert ws.tick_period == 1.0
    assert at(ws, NOW + 59 * SECOND).on_tick(NOW) == []
    at(ws, NOW + 59 * SECOND).on_text('{"method":"ping"}', NOW)
    assert at(ws, NOW + 118 * SECOND).on_tick(NOW) == []
    assert at(ws, NOW + 119 * SECOND).on_tick(NOW) == [Close(1000, "")]
    assert at(ws, NOW + 120 * SECOND).on_tick(NOW) == []
    busy = session(plugin)
    busy.on_text(candle_request("subscribe", COIN[kind]), NOW)
    assert at(busy, NOW + 10 * 60 * SECOND).on_tick(NOW) == []


def test_push_is_the_rest_row_on_the_candle_channel(plugin: _Hyperliquid, kind: str) -> None:
    """A push carries the REST row of the same candle state; the 1w stream says ``1w``."""
    for code in ("1m", "1w"):
        candle = MODEL.candle("BTC-USDT", INTERVALS[code], NOW, NOW)
        assert candle is not None
        push = plugin.encode_push(Subscription("BTC-USDT", INTERVALS[code]), candle, NOW)
        assert orjson.loads(push) == {"channel": "candle", "data": candle_row(COIN[kind], code, candle)}
        assert snapshot(plugin, COIN[kind], code, startTime=candle.open_time)[-1] == orjson.loads(push)["data"]
    assert plugin.push_period(Subscription("BTC-USDT", INTERVALS["1m"])) == 1.0
