"""Sans-IO tests of the MEXC spot and contract plugin: handlers and sessions, no sockets."""

from __future__ import annotations

import json
from collections.abc import Mapping
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
    WsSession,
)
from mockfeed.exchanges.mexc import MexcPerpetual, MexcSpot
from mockfeed.exchanges.mexc.plugin import _Mexc
from mockfeed.exchanges.mexc.proto import mexc_push_pb2 as pb
from mockfeed.exchanges.mexc.streams import ContractSession, SpotSession
from mockfeed.market import Candle, Interval, MarketModel, pair_spec

PAIRS = tuple(pair_spec(p) for p in ("BTC-USDT", "ETH-USDT", "SOL-USDT"))
NOW = 1_767_225_617_123  # 2026-01-01T00:00:17.123Z
MINUTE = 60_000
MODEL = MarketModel(PAIRS, seed=0)
BTC = PAIRS[0]
M1 = Interval.parse("1m")
SPOT_KLINES = "/api/v3/klines"
CONTRACT_KLINES = "/api/v1/contract/kline/{symbol}"
CHANNEL = "spot@public.kline.v3.api.pb@BTCUSDT@Min1"


@pytest.fixture
def spot() -> MexcSpot:
    """A fresh spot plugin."""
    return MexcSpot(MODEL, PAIRS)


@pytest.fixture
def perp() -> MexcPerpetual:
    """A fresh perpetual plugin."""
    return MexcPerpetual(MODEL, PAIRS)


def call(
    plugin: _Mexc,
    path: str,
    *query: tuple[str, str],
    now: int = NOW,
    path_params: Mapping[str, str] | None = None,
) -> RestResponse:
    """Run the plugin's GET handler for ``path`` on a plain request."""
    handler = plugin.routes()[("GET", path)]
    return handler(RestRequest("GET", path, tuple(query), b"", now, path_params=path_params or {}))


def contract(plugin: _Mexc, symbol: str, *query: tuple[str, str], now: int = NOW) -> RestResponse:
    """A contract kline request for ``symbol`` (the path segment)."""
    return call(plugin, CONTRACT_KLINES, *query, now=now, path_params={"symbol": symbol})


def body(response: RestResponse) -> Any:
    """The decoded JSON body."""
    return json.loads(response.body)


def assert_spot_error(response: RestResponse, code: int, msg: str | None = None) -> None:
    """The spot envelope ``{"msg", "code", "_extend": null}`` with HTTP 400."""
    assert response.status == 400
    payload = body(response)
    assert list(payload) == ["msg", "code", "_extend"]
    assert payload["code"] == code and payload["_extend"] is None
    if msg is not None:
        assert payload["msg"] == msg


def assert_contract_error(response: RestResponse, code: int, message: str) -> None:
    """The contract envelope ``{"success": false, "code", "message"}`` with HTTP 200."""
    assert response.status == 200
    assert body(response) == {"success": False, "code": code, "message": message}


def spot_row(candle: Candle) -> list[object]:
    """The 8-field row a model candle is served as (written out independently of the plugin)."""
    def s(value: Decimal) -> str:
        return format(value.normalize(), "f")

    return [
        candle.open_time, s(candle.open), s(candle.high), s(candle.low), s(candle.close),
        s(candle.volume), candle.close_time + 1, s(candle.quote_volume),
    ]


# -- spot REST ----------------------------------------------------------------------------------


def test_spot_klines_default_page_is_latest_500_with_the_forming_candle(spot: MexcSpot) -> None:
    """No times: the newest 500 candles, oldest first, the last one still forming at NOW."""
    rows = body(call(spot, SPOT_KLINES, ("symbol", "BTCUSDT"), ("interval", "1m")))
    assert len(rows) == 500
    assert rows[-1][0] == NOW // MINUTE * MINUTE
    assert [r[0] for r in rows] == [rows[0][0] + i * MINUTE for i in range(500)]
    expected = MODEL.candles("BTC-USDT", M1, now_ms=NOW, limit=500)
    assert rows == [spot_row(c) for c in expected]
    assert not expected[-1].closed


def test_spot_row_layout(spot: MexcSpot) -> None:
    """Eight fields: ms times (close = next open), plain decimal strings without trailing zeros."""
    [row] = body(call(spot, SPOT_KLINES, ("symbol", "ETHUSDT"), ("interval", "60m"), ("limit", "1")))
    assert len(row) == 8
    assert isinstance(row[0], int) and row[6] == row[0] + 3_600_000
    assert all(isinstance(v, str) and v == format(Decimal(v).normalize(), "f") for v in [*row[1:6], row[7]])


@pytest.mark.parametrize(
    ("code", "model"),
    [("1m", "1m"), ("5m", "5m"), ("15m", "15m"), ("30m", "30m"), ("60m", "1h"), ("4h", "4h"),
     ("1d", "1d"), ("1W", "1w"), ("1M", "1M")],
)
def test_spot_interval_codes(spot: MexcSpot, code: str, model: str) -> None:
    """MEXC's codes map onto the model's intervals (60m is an hour, 1W a Monday week)."""
    [row] = body(call(spot, SPOT_KLINES, ("symbol", "BTCUSDT"), ("interval", code), ("limit", "1")))
    interval = Interval.parse(model)
    assert row[0] == interval.floor(NOW)
    assert row[6] == interval.next(row[0])


@pytest.mark.parametrize("code", ["1h", "1w", "8h", "1s", "Min1", "3m", "1m "])
def test_spot_bad_interval_is_1121(spot: MexcSpot, code: str) -> None:
    """Codes MEXC spot does not know (including Binance's 1h and 1w) are -1121 Invalid interval."""
    response = call(spot, SPOT_KLINES, ("symbol", "BTCUSDT"), ("interval", code))
    assert_spot_error(response, -1121, "Invalid interval.")


@pytest.mark.parametrize("symbol", ["BTC-USDT", "btcusdt", "BTC_USDT", "DOGEUSDT", "X" * 40])
def test_spot_bad_symbol_is_1121(spot: MexcSpot, symbol: str) -> None:
    """A symbol not listed is -1121 Invalid symbol."""
    response = call(spot, SPOT_KLINES, ("symbol", symbol), ("interval", "1m"))
    assert_spot_error(response, -1121, "Invalid symbol.")


@pytest.mark.parametrize(
    ("query", "code", "msg"),
    [
        ((("interval", "1m"),), -1102,
         "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."),
        ((("symbol", "BTCUSDT"),), -1102,
         "Mandatory parameter 'interval' was not sent, was empty/null, or malformed."),
        ((("symbol", ""), ("interval", "1m")), -1102, None),
        ((("symbol", "BTCUSDT"), ("interval", "")), -1102, None),
        ((("symbol", "BTCUSDT"), ("interval", "1m"), ("limit", "ten")), -1100,
         "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'."),
        ((("symbol", "BTCUSDT"), ("interval", "1m"), ("limit", "-5")), -1100, None),
        ((("symbol", "BTCUSDT"), ("interval", "1m"), ("limit", "5"), ("limit", "6")), -1100, None),
        ((("symbol", "BTCUSDT"), ("interval", "1m"), ("startTime", "1.5")), -1100, None),
        ((("symbol", "BTCUSDT"), ("interval", "1m"), ("endTime", "")), -1102, None),
        ((("symbol", "BTCUSDT"), ("interval", "1m"), ("limit", "0")), -1130,
         "Data sent for parameter 'limit' is not valid."),
        ((("symbol", "BTCUSDT"), ("interval", "1m"), ("startTime", "200"), ("endTime", "100")), -1128,
         "Combination of optional parameters invalid."),
    ],
)
def test_spot_malformed_queries(
    spot: MexcSpot, query: tuple[tuple[str, str], ...], code: int, msg: str | None
) -> None:
    """Missing, empty, non-numeric, repeated and contradictory parameters get native errors."""
    assert_spot_error(call(spot, SPOT_KLINES, *query), code, msg)


def test_spot_limit_is_capped_at_1000(spot: MexcSpot) -> None:
    """An oversized limit serves the maximum, 1000 rows."""
    rows = body(call(spot, SPOT_KLINES, ("symbol", "BTCUSDT"), ("interval", "1m"), ("limit", "5000")))
    assert len(rows) == 1000


def test_spot_start_time_pages_forward_and_end_time_is_exclusive(spot: MexcSpot) -> None:
    """startTime: the oldest candles opening at or after it; endTime excludes a candle opening at it."""
    start = NOW // MINUTE * MINUTE - 100 * MINUTE
    base = (("symbol", "BTCUSDT"), ("interval", "1m"))
    rows = body(call(spot, SPOT_KLINES, *base, ("startTime", str(start + 1)), ("limit", "3")))
    assert [r[0] for r in rows] == [start + MINUTE * i for i in (1, 2, 3)]
    window = (("startTime", str(start)), ("endTime", str(start + 3 * MINUTE)))
    rows = body(call(spot, SPOT_KLINES, *base, *window))
    assert [r[0] for r in rows] == [start, start + MINUTE, start + 2 * MINUTE]
    rows = body(call(spot, SPOT_KLINES, *base, ("endTime", str(start + 1)), ("limit", "2")))
    assert [r[0] for r in rows] == [start - MINUTE, start]


def test_spot_unknown_parameters_are_ignored(spot: MexcSpot) -> None:
    """Names the endpoint does not take change nothing."""
    base = (("symbol", "BTCUSDT"), ("interval", "1m"), ("limit", "3"))
    assert call(spot, SPOT_KLINES, *base, ("timeZone", "8")).body == call(spot, SPOT_KLINES, *base).body


def test_spot_exchange_info_lists_pairs_with_the_fields_ccxt_reads(spot: MexcSpot) -> None:
    """status "1", isSpotTradingAllowed, assets, precisions as digit counts, minimums as strings."""
    info = body(call(spot, "/api/v3/exchangeInfo"))
    assert info["timezone"] == "CST" and info["serverTime"] == NOW
    assert info["rateLimits"] == [] and info["exchangeFilters"] == []
    by_symbol = {s["symbol"]: s for s in info["symbols"]}
    assert list(by_symbol) == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    btc = by_symbol["BTCUSDT"]
    assert (btc["status"], btc["isSpotTradingAllowed"]) == ("1", True)
    assert (btc["baseAsset"], btc["quoteAsset"]) == ("BTC", "USDT")
    assert (btc["baseAssetPrecision"], btc["quoteAssetPrecision"]) == (5, 2)
    assert btc["baseSizePrecision"] == "0.00001"
    for key in ("makerCommission", "takerCommission", "maxQuoteAmount", "quoteAmountPrecision"):
        assert isinstance(btc[key], str)


def test_spot_exchange_info_filters(spot: MexcSpot) -> None:
    """``symbol`` and comma-separated ``symbols`` narrow the list; an unknown name is -1121."""
    one = body(call(spot, "/api/v3/exchangeInfo", ("symbol", "ETHUSDT")))
    assert [s["symbol"] for s in one["symbols"]] == ["ETHUSDT"]
    two = body(call(spot, "/api/v3/exchangeInfo", ("symbols", "SOLUSDT,BTCUSDT")))
    assert [s["symbol"] for s in two["symbols"]] == ["BTCUSDT", "SOLUSDT"]
    assert_spot_error(call(spot, "/api/v3/exchangeInfo", ("symbol", "BTC_USDT")), -1121)


def test_each_product_lists_the_other_api_empty(spot: MexcSpot, perp: MexcPerpetual) -> None:
    """ccxt always loads both listings: the API a product does not serve lists nothing, natively."""
    assert body(call(perp, "/api/v3/exchangeInfo"))["symbols"] == []
    assert body(call(spot, "/api/v1/contract/detail")) == {"success": True, "code": 0, "data": []}
    assert ("GET", SPOT_KLINES) not in perp.routes() and ("GET", CONTRACT_KLINES) not in spot.routes()


@pytest.mark.parametrize("kind", ["spot", "perp"])
def test_server_time_on_both_apis(kind: str) -> None:
    """/api/v3/ping, /api/v3/time and /api/v1/contract/ping answer on both products."""
    plugin = MexcSpot(MODEL, PAIRS) if kind == "spot" else MexcPerpetual(MODEL, PAIRS)
    assert body(call(plugin, "/api/v3/ping")) == {}
    assert body(call(plugin, "/api/v3/time")) == {"serverTime": NOW}
    assert body(call(plugin, "/api/v1/contract/ping")) == {"success": True, "code": 0, "data": NOW}


def test_not_found_and_internal_error_use_the_path_s_envelope(spot: MexcSpot) -> None:
    """Unknown paths and handler failures answer in the envelope of the API the path belongs to."""
    def request(path: str) -> RestRequest:
        return RestRequest("GET", path, (), b"", NOW)

    missing = spot.not_found(request("/api/v3/nope"))
    assert missing.status == 404 and body(missing) == {"msg": "Not Found", "code": 404, "_extend": None}
    missing = spot.not_found(request("/api/v1/contract/nope"))
    assert missing.status == 404 and body(missing)["success"] is False
    failed = spot.internal_error(request("/api/v1/contract/kline/BTC_USDT"))
    assert failed.status == 500 and body(failed) == {
        "success": False, "code": 500, "message": "System internal error!"
    }
    assert body(spot.internal_error(request("/api/v3/klines")))["code"] == 500


# -- contract REST ------------------------------------------------------------------------------


def test_contract_klines_are_columnar_seconds_numbers(perp: MexcPerpetual) -> None:
    """Default Min1, the latest 2000 rows as columns; time in s, JSON numbers, vol in contracts."""
    response = contract(perp, "BTC_USDT")
    assert response.status == 200
    payload = body(response)
    assert (payload["success"], payload["code"]) == (True, 0)
    data = payload["data"]
    assert list(data) == ["time", "open", "close", "high", "low", "vol", "amount",
                          "realOpen", "realClose", "realHigh", "realLow"]
    assert all(len(column) == 2000 for column in data.values())
    expected = MODEL.candles("BTC-USDT", M1, now_ms=NOW, limit=2000)
    assert data["time"] == [c.open_time // 1000 for c in expected]
    assert data["time"][-1] == NOW // MINUTE * 60
    assert data["open"] == [float(c.open) for c in expected]
    assert data["high"] == data["realHigh"] == [float(c.high) for c in expected]
    assert data["vol"] == [int(c.volume / BTC.lot_size) for c in expected]
    assert all(isinstance(v, int) for v in data["vol"])
    assert data["amount"] == pytest.approx([float(c.quote_volume) for c in expected])


@pytest.mark.parametrize(
    ("code", "model"),
    [("Min1", "1m"), ("Min5", "5m"), ("Min15", "15m"), ("Min30", "30m"), ("Min60", "1h"),
     ("Hour4", "4h"), ("Hour8", "8h"), ("Day1", "1d"), ("Week1", "1w"), ("Month1", "1M")],
)
def test_contract_interval_codes(perp: MexcPerpetual, code: str, model: str) -> None:
    """Every contract interval name; the newest row is the forming candle."""
    data = body(contract(perp, "ETH_USDT", ("interval", code)))["data"]
    assert data["time"][-1] == Interval.parse(model).floor(NOW) // 1000


def test_contract_windows(perp: MexcPerpetual) -> None:
    """start alone: 2000 from it; end alone: 2000 up to it; both: inclusive, in seconds."""
    start_s = (NOW // MINUTE * MINUTE - 5000 * MINUTE) // 1000
    data = body(contract(perp, "BTC_USDT", ("start", str(start_s))))["data"]
    assert data["time"][0] == start_s and len(data["time"]) == 2000
    data = body(contract(perp, "BTC_USDT", ("end", str(start_s))))["data"]
    assert data["time"][-1] == start_s and len(data["time"]) == 2000
    both = (("start", str(start_s + 1)), ("end", str(start_s + 180)))
    data = body(contract(perp, "BTC_USDT", *both))["data"]
    assert data["time"] == [start_s + 60, start_s + 120, start_s + 180]
    recent = str(NOW // 1000 - 150)
    data = body(contract(perp, "BTC_USDT", ("start", recent)))["data"]
    assert data["time"][-1] == NOW // MINUTE * 60 and len(data["time"]) == 3


@pytest.mark.parametrize(
    "query",
    [(("interval", "1m"),), (("interval", "Min2"),), (("start", "abc"),), (("end", "-1"),),
     (("start", "200"), ("end", "100")), (("interval", "Min1"), ("interval", "Min5"))],
)
def test_contract_bad_parameters_are_600(perp: MexcPerpetual, query: tuple[tuple[str, str], ...]) -> None:
    """Bad intervals, non-numeric or contradictory times: 600 "Param error!" in the success envelope."""
    assert_contract_error(contract(perp, "BTC_USDT", *query), 600, "Param error!")


@pytest.mark.parametrize("symbol", ["BTCUSDT", "btc_usdt", "DOGE_USDT"])
def test_contract_unknown_symbol_is_1001(perp: MexcPerpetual, symbol: str) -> None:
    """A contract that is not listed: 1001 (ccxt's BadSymbol)."""
    assert_contract_error(contract(perp, symbol), 1001, "Contract does not exist!")


def test_contract_ignores_unknown_and_empty_parameters(perp: MexcPerpetual) -> None:
    """Hummingbot's startTime/endTime (ms) and empty values are ignored, as MEXC ignores them."""
    plain = contract(perp, "SOL_USDT", ("interval", "Min60")).body
    assert contract(perp, "SOL_USDT", ("interval", "Min60"), ("startTime", "1"), ("end", "")).body == plain


def test_contract_detail(perp: MexcPerpetual) -> None:
    """Every contract with ccxt's fields (settleCoin, state 0); ``symbol`` gives one object."""
    listed = body(call(perp, "/api/v1/contract/detail"))["data"]
    assert [c["symbol"] for c in listed] == ["BTC_USDT", "ETH_USDT", "SOL_USDT"]
    btc = listed[0]
    assert (btc["baseCoin"], btc["quoteCoin"], btc["settleCoin"], btc["state"]) == ("BTC", "USDT", "USDT", 0)
    assert (btc["contractSize"], btc["priceUnit"], btc["volUnit"]) == (0.00001, 0.01, 1)
    one = body(call(perp, "/api/v1/contract/detail", ("symbol", "ETH_USDT")))["data"]
    assert one == listed[1]
    assert_contract_error(call(perp, "/api/v1/contract/detail", ("symbol", "X_Y")), 1001,
                          "Contract does not exist!")


# -- fuzzing ------------------------------------------------------------------------------------

_values = st.one_of(
    st.sampled_from(["", "0", "1", "500", "1000", "1001", "-1", "abc", "1767225617", "1767225617123",
                     "99999999999999999999", "BTCUSDT", "BTC_USDT", "1m", "60m", "1W", "Min1", "Day1"]),
    st.text(max_size=12),
)
_names = st.sampled_from(["symbol", "interval", "startTime", "endTime", "limit", "start", "end", "x"])
_query = st.lists(st.tuples(_names, _values), max_size=6)


def _spot_well_formed(response: RestResponse) -> None:
    payload = body(response)
    if response.status == 200:
        assert isinstance(payload, list) and all(len(row) == 8 for row in payload)
    else:
        assert response.status == 400 and list(payload) == ["msg", "code", "_extend"], payload
        assert isinstance(payload["code"], int) and isinstance(payload["msg"], str)


def _contract_well_formed(response: RestResponse) -> None:
    payload = body(response)
    assert response.status == 200 and isinstance(payload["code"], int), payload
    if payload["success"]:
        assert payload["code"] == 0 and len({len(column) for column in payload["data"].values()}) == 1
    else:
        assert set(payload) == {"success", "code", "message"} and isinstance(payload["message"], str)


_FUZZ_SPOT = MexcSpot(MODEL, PAIRS)
_FUZZ_PERP = MexcPerpetual(MODEL, PAIRS)


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(symbol=st.sampled_from(["BTCUSDT", "BTC_USDT", "ETH_USDT", "x"]), query=_query)
def test_fuzz_klines_queries(symbol: str, query: list[tuple[str, str]]) -> None:
    """Any kline query answers with rows or the API's native error, never an exception."""
    _spot_well_formed(call(_FUZZ_SPOT, SPOT_KLINES, ("symbol", symbol), *query))
    _contract_well_formed(contract(_FUZZ_PERP, symbol, *query))


# -- WebSocket: sessions ------------------------------------------------------------------------


def session_of(plugin: _Mexc, path: str) -> WsSession:
    """A session on ``path``, opened at NOW."""
    session = plugin.open_session(path, "")
    assert isinstance(session, WsSession)
    session.wall_ms = NOW  # the runtime's monotonic clock, here in step with market time
    assert session.on_open(NOW) == []
    return session


def tick(session: WsSession, ms: int) -> list[Action]:
    """on_tick at ``ms`` of both clocks."""
    session.wall_ms = ms
    return session.on_tick(ms)


def text(session: WsSession, message: str, ms: int) -> list[Action]:
    """on_text at ``ms`` of both clocks."""
    session.wall_ms = ms
    return session.on_text(message, ms)


def sent(actions: list[Action]) -> list[Any]:
    """The JSON messages among ``actions``."""
    return [json.loads(a.message) for a in actions if isinstance(a, Send)]


def test_ws_paths(spot: MexcSpot, perp: MexcPerpetual) -> None:
    """Spot streams on /ws, contract on /edge; anything else is refused with 404."""
    assert isinstance(spot.open_session("/ws", ""), SpotSession)
    assert isinstance(perp.open_session("/edge", ""), ContractSession)
    for plugin, path in ((spot, "/edge"), (perp, "/ws"), (spot, "/ws/x"), (perp, "/")):
        assert plugin.open_session(path, "") == WsReject(404, b"Not Found")
    assert spot.heartbeat is None and perp.heartbeat is None  # client pings only


def test_spot_subscribe_ack_and_unsubscribe(spot: MexcSpot) -> None:
    """The ack echoes the channel with code 0 and the request id; unsubscribe mirrors it."""
    session = session_of(spot, "/ws")
    sub = Subscription("BTC-USDT", M1)
    actions = session.on_text(json.dumps({"method": "SUBSCRIPTION", "params": [CHANNEL], "id": 7}), NOW)
    assert actions[0] == Subscribe(sub)
    assert sent(actions) == [{"id": 7, "code": 0, "msg": CHANNEL}]
    again = session.on_text(json.dumps({"method": "SUBSCRIPTION", "params": [CHANNEL]}), NOW)
    assert again == [Send('{"id":0,"code":0,"msg":"' + CHANNEL + '"}')]  # no second stream
    actions = session.on_text(json.dumps({"method": "UNSUBSCRIPTION", "params": [CHANNEL]}), NOW)
    assert actions[0] == Unsubscribe(sub)
    assert sent(actions) == [{"id": 0, "code": 0, "msg": CHANNEL}]


def test_spot_refusals_are_code_0_with_the_reason_text(spot: MexcSpot) -> None:
    """Unserved or legacy JSON channels: code 0, told apart only by MEXC's exact refusal text."""
    session = session_of(spot, "/ws")
    legacy = "spot@public.kline.v3.api@BTCUSDT@Min1"
    channels = [legacy, "spot@public.kline.v3.api.pb@ETHUSDT@Min5", "spot@public.kline.v3.api.pb@BTCUSDT@1m"]
    actions = session.on_text(json.dumps({"method": "SUBSCRIPTION", "params": channels}), NOW)
    assert actions[0] == Subscribe(Subscription("ETH-USDT", Interval.parse("5m")))
    assert sent(actions) == [
        {"id": 0, "code": 0, "msg": channels[1]},
        {"id": 0, "code": 0, "msg": f"Not Subscribed successfully! [{legacy},{channels[2]}].  Reason： Blocked! "},
    ]


def test_spot_at_most_30_subscriptions() -> None:
    """The 31st channel of a connection is refused; a repeated one is acknowledged, not counted."""
    pairs = tuple(pair_spec(p) for p in ("BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT"))
    session = session_of(MexcSpot(MarketModel(pairs, seed=0), pairs), "/ws")
    codes = ("Min1", "Min5", "Min15", "Min30", "Min60", "Hour4", "Hour8", "Day1", "Week1", "Month1")
    channels = [f"spot@public.kline.v3.api.pb@{p.base}USDT@{code}" for p in pairs for code in codes]
    actions = session.on_text(json.dumps({"method": "SUBSCRIPTION", "params": channels[:30]}), NOW)
    assert sum(isinstance(a, Subscribe) for a in actions) == 30
    actions = session.on_text(json.dumps({"method": "SUBSCRIPTION", "params": channels[29:31]}), NOW)
    assert not any(isinstance(a, Subscribe) for a in actions)
    assert sent(actions) == [
        {"id": 0, "code": 0, "msg": channels[29]},
        {"id": 0, "code": 0, "msg": f"Not Subscribed successfully! [{channels[30]}].  "
                                    "Reason： Exceeded the maximum number of subscriptions! "},
    ]


@pytest.mark.parametrize("method", ["PING", "ping", "Ping"])
def test_spot_ping_in_any_case_gets_pong(spot: MexcSpot, method: str) -> None:
    """ccxt's lowercase ping and the docs' PING both get {"id":0,"code":0,"msg":"PONG"}."""
    session = session_of(spot, "/ws")
    assert sent(session.on_text(json.dumps({"method": method}), NOW)) == [{"id": 0, "code": 0, "msg": "PONG"}]


@pytest.mark.parametrize(
    "text", ["not json", "[]", '{"method": 5}', '{"method": "SUB"}', '{"method": "SUBSCRIPTION"}',
             '{"method": "SUBSCRIPTION", "params": "x"}', '{"method": "UNSUBSCRIPTION", "params": []}'],
)
def test_spot_malformed_messages(spot: MexcSpot, text: str) -> None:
    """Anything else gets a code-0 reply saying the format is invalid, and changes nothing."""
    session = session_of(spot, "/ws")
    assert session.on_text(text, NOW) == [Send('{"id":0,"code":0,"msg":"msg format invalid"}')]


def test_spot_idle_cut_off_without_subscription(spot: MexcSpot) -> None:
    """30 s without a subscription closes; a subscription stops the clock, dropping it restarts it."""
    session = session_of(spot, "/ws")
    assert session.tick_period == 1.0
    assert tick(session, NOW + 29_999) == []
    assert tick(session, NOW + 30_000) == [Close(1000, "idle")]
    session = session_of(spot, "/ws")
    text(session, json.dumps({"method": "SUBSCRIPTION", "params": [CHANNEL]}), NOW + 10_000)
    assert tick(session, NOW + 600_000) == []
    text(session, json.dumps({"method": "UNSUBSCRIPTION", "params": [CHANNEL]}), NOW + 600_000)
    assert tick(session, NOW + 629_999) == []
    assert tick(session, NOW + 630_000) == [Close(1000, "idle")]


def test_spot_lifetime_is_24_hours(spot: MexcSpot) -> None:
    """Even a busy connection is closed after 24 h."""
    session = session_of(spot, "/ws")
    text(session, json.dumps({"method": "SUBSCRIPTION", "params": [CHANNEL]}), NOW)
    assert tick(session, NOW + 86_399_000) == []
    assert tick(session, NOW + 86_400_000) == [Close(1000, "connection lifetime reached")]


def test_spot_push_is_protobuf(spot: MexcSpot) -> None:
    """A binary PushDataV3ApiWrapper: channel, symbol, times in ms, the kline in seconds and strings."""
    candle = MODEL.candle("BTC-USDT", M1, NOW, NOW)
    assert candle is not None
    push = spot.encode_push(Subscription("BTC-USDT", M1), candle, NOW)
    assert isinstance(push, bytes)
    wrapper = pb.PushDataV3ApiWrapper.FromString(push)
    assert (wrapper.channel, wrapper.symbol, wrapper.createTime, wrapper.sendTime) == (CHANNEL, "BTCUSDT", NOW, NOW)
    assert len(wrapper.symbolId) == 32
    kline = wrapper.publicSpotKline
    assert (kline.interval, kline.windowStart, kline.windowEnd) == (
        "Min1", NOW // MINUTE * 60, NOW // MINUTE * 60 + 60,
    )
    row = spot_row(candle)
    assert [kline.openingPrice, kline.highestPrice, kline.lowestPrice, kline.closingPrice, kline.volume,
            kline.amount] == [*row[1:6], row[7]]
    assert spot.push_period(Subscription("BTC-USDT", M1)) == 1.0


def test_contract_subscribe_ack_and_unsubscribe(perp: MexcPerpetual) -> None:
    """sub.kline acks on rs.sub.kline; unsub.kline by symbol and interval, or by symbol alone."""
    session = session_of(perp, "/edge")
    message = {"method": "sub.kline", "param": {"symbol": "BTC_USDT", "interval": "Min60"}}
    actions = session.on_text(json.dumps(message), NOW)
    assert actions[0] == Subscribe(Subscription("BTC-USDT", Interval.parse("1h")))
    assert sent(actions) == [{"channel": "rs.sub.kline", "data": "success", "ts": NOW}]
    actions = session.on_text(json.dumps({"method": "sub.kline", "param": {"symbol": "BTC_USDT"}}), NOW)
    assert actions[0] == Subscribe(Subscription("BTC-USDT", M1))  # the interval defaults to Min1
    unsub = {"method": "unsub.kline", "param": {"symbol": "BTC_USDT", "interval": "Min60"}}
    actions = session.on_text(json.dumps(unsub), NOW)
    assert actions[0] == Unsubscribe(Subscription("BTC-USDT", Interval.parse("1h")))
    assert sent(actions) == [{"channel": "rs.unsub.kline", "data": "success", "ts": NOW}]
    actions = session.on_text(json.dumps({"method": "unsub.kline", "param": {"symbol": "BTC_USDT"}}), NOW)
    assert actions[0] == Unsubscribe(Subscription("BTC-USDT", M1))


@pytest.mark.parametrize(
    ("param", "reason"),
    [({"symbol": "BTCUSDT", "interval": "Min1"}, "contract not exists"),
     ({"interval": "Min1"}, "contract not exists"),
     ({"symbol": "BTC_USDT", "interval": "1m"}, "interval not exists")],
)
def test_contract_subscribe_refusals(perp: MexcPerpetual, param: dict[str, str], reason: str) -> None:
    """An unserved contract or interval is refused on rs.sub.kline and subscribes nothing."""
    session = session_of(perp, "/edge")
    actions = session.on_text(json.dumps({"method": "sub.kline", "param": param}), NOW)
    assert sent(actions) == [{"channel": "rs.sub.kline", "data": reason, "ts": NOW}]
    assert len(actions) == 1


@pytest.mark.parametrize(
    ("text", "data"),
    [("{", "Invalid JSON"), ('{"method": "sub.deal", "param": {}}', "Unknown method: sub.deal"),
     ("[1]", "Invalid JSON")],
)
def test_contract_malformed_messages(perp: MexcPerpetual, text: str, data: str) -> None:
    """Unparseable text or an unknown method: rs.error."""
    session = session_of(perp, "/edge")
    assert sent(session.on_text(text, NOW)) == [{"channel": "rs.error", "data": data, "ts": NOW}]


def test_contract_ping_pong_and_idle_cut_off(perp: MexcPerpetual) -> None:
    """ping gets {"channel":"pong","data":ts}; 60 s without a ping closes, a ping restarts the clock."""
    session = session_of(perp, "/edge")
    assert sent(text(session, '{"method":"ping"}', NOW + 50_000)) == [{"channel": "pong", "data": NOW + 50_000}]
    assert tick(session, NOW + 109_999) == []
    assert tick(session, NOW + 110_000) == [Close(1000, "idle")]
    subscribed = session_of(perp, "/edge")
    text(subscribed, json.dumps({"method": "sub.kline", "param": {"symbol": "BTC_USDT"}}), NOW)
    assert tick(subscribed, NOW + 60_000) == [Close(1000, "idle")]  # pushes do not count


def test_contract_push_is_json_with_numbers(perp: MexcPerpetual) -> None:
    """push.kline: t in seconds, prices as numbers, q in contracts, a in quote units."""
    candle = MODEL.candle("SOL-USDT", M1, NOW, NOW)
    assert candle is not None
    push = perp.encode_push(Subscription("SOL-USDT", M1), candle, NOW)
    assert isinstance(push, str)
    message = json.loads(push)
    assert list(message) == ["channel", "data", "symbol", "ts"]
    assert (message["channel"], message["symbol"], message["ts"]) == ("push.kline", "SOL_USDT", NOW)
    data = message["data"]
    assert (data["symbol"], data["interval"], data["t"]) == ("SOL_USDT", "Min1", NOW // MINUTE * 60)
    assert (data["o"], data["h"], data["l"], data["c"]) == (
        float(candle.open), float(candle.high), float(candle.low), float(candle.close),
    )
    assert (data["ro"], data["rh"], data["rl"], data["rc"]) == (data["o"], data["h"], data["l"], data["c"])
    assert data["q"] == int(candle.volume / PAIRS[2].lot_size)
    assert data["a"] == pytest.approx(float(candle.quote_volume))
    assert perp.push_period(Subscription("SOL-USDT", M1)) == 1.0
