"""Sans-IO tests of the OKX spot and SWAP plugin: handlers and sessions fed plain values, no sockets."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

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
from mockfeed.exchanges.okx import OkxPerpetual, OkxSpot
from mockfeed.exchanges.okx.bars import CANDLE_BARS, HISTORY_BARS, UTC8_MS, WS_BARS
from mockfeed.exchanges.okx.plugin import _Okx, contract_value, num
from mockfeed.exchanges.okx.streams import OPS_PER_HOUR, OkxSession
from mockfeed.market import Interval, MarketModel, pair_spec

PAIRS = tuple(pair_spec(p) for p in ("BTC-USDT", "ETH-USDT", "SOL-USDT"))
NOW = 1_767_225_617_123  # 2026-01-01T00:00:17.123Z
SECOND, MINUTE, HOUR, DAY = 1_000, 60_000, 3_600_000, 86_400_000
CANDLES = "/api/v5/market/candles"
HISTORY = "/api/v5/market/history-candles"
INSTRUMENTS = "/api/v5/public/instruments"
MODEL = MarketModel(PAIRS, seed=0)
INST = {"spot": "BTC-USDT", "perp": "BTC-USDT-SWAP"}


def make(kind: str) -> _Okx:
    """A fresh plugin of one product over the test pairs."""
    return OkxSpot(MODEL, PAIRS) if kind == "spot" else OkxPerpetual(MODEL, PAIRS)


@pytest.fixture(params=["spot", "perp"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each OKX product in turn."""
    return str(request.param)


@pytest.fixture
def plugin(kind: str) -> _Okx:
    """A fresh plugin of the product under test."""
    return make(kind)


def call(plugin: _Okx, path: str, *query: tuple[str, str], now: int = NOW) -> RestResponse:
    """Run the plugin's GET handler for ``path`` on a plain request."""
    return plugin.routes()[("GET", path)](RestRequest("GET", path, tuple(query), b"", now))


def body(response: RestResponse) -> Any:
    """The decoded JSON body."""
    return json.loads(response.body)


def data(response: RestResponse) -> Any:
    """The ``data`` of a successful answer (asserting the success envelope)."""
    decoded = body(response)
    assert response.status == 200
    assert decoded["code"] == "0" and decoded["msg"] == ""
    return decoded["data"]


def refused(response: RestResponse, status: int, code: str, msg: str) -> None:
    """Assert OKX's error envelope."""
    assert response.status == status
    assert body(response) == {"code": code, "data": [], "msg": msg}


def opens(plugin: _Okx, path: str, *query: tuple[str, str], now: int = NOW) -> list[int]:
    """Open times of a candle answer, in the order served."""
    inst = ("instId", plugin.inst_id(PAIRS[0]))
    return [int(row[0]) for row in data(call(plugin, path, inst, *query, now=now))]


# -- formatting and contract sizes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [("64260.00", "64260"), ("0.50", "0.5"), ("100", "100"), ("0E-8", "0"), ("12.531", "12.531")],
)
def test_numbers_are_plain_without_trailing_zeros(value: str, text: str) -> None:
    """Numbers go out as plain strings without trailing zeros, as OKX writes them."""
    assert num(Decimal(value)) == text


@pytest.mark.parametrize(
    ("base", "ct_val"), [("BTC", "0.01"), ("ETH", "0.1"), ("SOL", "1"), ("DOGE", "1000")]
)
def test_contract_value_matches_okx_for_known_pairs(base: str, ct_val: str) -> None:
    """ctVal reproduces OKX's contract sizes (BTC 0.01, ETH 0.1, SOL 1, DOGE 1000)."""
    assert contract_value(pair_spec(f"{base}-USDT")) == Decimal(ct_val)


# -- simple endpoints --------------------------------------------------------------------------------


def test_routes_are_the_okx_public_paths(plugin: _Okx) -> None:
    """Both products serve the same public paths (OKX has one host for every product)."""
    assert set(plugin.routes()) == {
        ("GET", p)
        for p in (CANDLES, HISTORY, INSTRUMENTS, "/api/v5/public/time", "/api/v5/system/status")
    }


def test_time_is_a_string_of_milliseconds(plugin: _Okx) -> None:
    """/public/time answers [{"ts": "<ms>"}]."""
    assert data(call(plugin, "/api/v5/public/time")) == [{"ts": str(NOW)}]


def test_system_status_has_no_maintenance(plugin: _Okx) -> None:
    """/system/status lists no maintenance."""
    assert data(call(plugin, "/api/v5/system/status")) == []


def test_not_found_method_and_internal_error_bodies(plugin: _Okx) -> None:
    """Unknown path 404, wrong method 50115/405, handler failure 50026/500, all in OKX's envelope."""
    request = RestRequest("POST", CANDLES, (), b"", NOW)
    refused(plugin.not_found(request), 404, "404", "Not Found")
    refused(plugin.method_not_allowed(request), 405, "50115", "Invalid request method.")
    refused(plugin.internal_error(request), 500, "50026", "System error. Try again later")


# -- instruments -------------------------------------------------------------------------------------


def test_spot_instruments_list_the_pairs() -> None:
    """SPOT lists every pair with the fields ccxt reads (instId, baseCcy/quoteCcy, sizes, state)."""
    rows = data(call(make("spot"), INSTRUMENTS, ("instType", "SPOT")))
    assert [r["instId"] for r in rows] == ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    btc = rows[0]
    assert (btc["instType"], btc["baseCcy"], btc["quoteCcy"], btc["settleCcy"]) == ("SPOT", "BTC", "USDT", "")
    assert (btc["tickSz"], btc["lotSz"], btc["minSz"], btc["state"]) == ("0.01", "0.00001", "0.00001", "live")
    assert btc["uly"] == btc["instFamily"] == btc["ctVal"] == ""
    assert btc["listTime"] == str(MODEL.history_start_ms)


def test_spot_pairs_are_margin_pairs_too() -> None:
    """MARGIN lists the same instruments with instType MARGIN."""
    rows = data(call(make("spot"), INSTRUMENTS, ("instType", "MARGIN")))
    assert [(r["instType"], r["instId"]) for r in rows] == [
        ("MARGIN", "BTC-USDT"), ("MARGIN", "ETH-USDT"), ("MARGIN", "SOL-USDT")
    ]


def test_swap_instruments_carry_underlying_settle_and_contract() -> None:
    """SWAP rows have uly/instFamily, settleCcy, ctVal, ctType and empty baseCcy/quoteCcy, like OKX."""
    rows = data(call(make("perp"), INSTRUMENTS, ("instType", "SWAP")))
    assert [r["instId"] for r in rows] == ["BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP"]
    btc = rows[0]
    assert (btc["uly"], btc["instFamily"], btc["settleCcy"]) == ("BTC-USDT", "BTC-USDT", "USDT")
    assert (btc["ctVal"], btc["ctValCcy"], btc["ctType"]) == ("0.01", "BTC", "linear")
    assert (btc["baseCcy"], btc["quoteCcy"]) == ("", "")
    assert btc["lotSz"] == "0.001"  # the model's 0.00001 BTC lot in 0.01 BTC contracts


@pytest.mark.parametrize(
    ("kind", "inst_type"),
    [("spot", "SWAP"), ("spot", "FUTURES"), ("perp", "SPOT"), ("perp", "MARGIN"), ("perp", "FUTURES")],
)
def test_types_not_served_list_nothing(kind: str, inst_type: str) -> None:
    """Instrument types the product does not serve answer an empty list (ccxt's load_markets asks)."""
    assert data(call(make(kind), INSTRUMENTS, ("instType", inst_type))) == []


@pytest.mark.parametrize("underlying", [("uly", "BTC-USD"), ("uly", "ETH-USD"), ("instFamily", "BTC-USD")])
def test_option_with_underlying_lists_nothing(plugin: _Okx, underlying: tuple[str, str]) -> None:
    """OPTION with uly (as ccxt sends it) or instFamily answers an empty list."""
    assert data(call(plugin, INSTRUMENTS, ("instType", "OPTION"), underlying)) == []


def test_instrument_filters(kind: str) -> None:
    """instId selects one row; instFamily/uly filter SWAP rows and are ignored for spot."""
    plugin = make(kind)
    inst_type = plugin.product.inst_type
    eth = plugin.inst_id(PAIRS[1])
    rows = data(call(plugin, INSTRUMENTS, ("instType", inst_type), ("instId", eth)))
    assert [r["instId"] for r in rows] == [eth]
    family = data(call(plugin, INSTRUMENTS, ("instType", inst_type), ("instFamily", "SOL-USDT")))
    expected = ["SOL-USDT-SWAP"] if kind == "perp" else ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    assert [r["instId"] for r in family] == expected


@pytest.mark.parametrize(
    ("query", "status", "code", "msg"),
    [
        ((), 400, "50014", "Parameter instType can not be empty."),
        ((("instType", ""),), 400, "50014", "Parameter instType can not be empty."),
        ((("instType", "spot"),), 400, "51000", "Parameter instType error"),
        ((("instType", "OPTION"),), 400, "50015", "Either parameter uly or instFamily is required."),
        ((("instType", "SPOT"), ("instId", "DOGE-USDT")), 200, "51001",
         "Instrument ID, Instrument ID code or Spread ID doesn't exist."),
        ((("instType", "FUTURES"), ("instId", "BTC-USDT")), 200, "51001",
         "Instrument ID, Instrument ID code or Spread ID doesn't exist."),
    ],
)
def test_instrument_errors(
    plugin: _Okx, query: tuple[tuple[str, str], ...], status: int, code: str, msg: str
) -> None:
    """Missing, malformed and unknown instrument queries get OKX's codes and statuses."""
    refused(call(plugin, INSTRUMENTS, *query), status, code, msg)


# -- candles: shape, order, limits --------------------------------------------------------------------


def test_rows_are_nine_strings_newest_first_forming_first(plugin: _Okx) -> None:
    """Default: 100 rows, newest first, the forming candle first with confirm 0, the rest confirm 1."""
    rows = data(call(plugin, CANDLES, ("instId", plugin.inst_id(PAIRS[0]))))
    assert len(rows) == 100
    assert all(len(r) == 9 and all(isinstance(v, str) for v in r) for r in rows)
    times = [int(r[0]) for r in rows]
    current = NOW // MINUTE * MINUTE
    assert times == [current - i * MINUTE for i in range(100)]
    assert [r[8] for r in rows] == ["0"] + ["1"] * 99


def test_rows_equal_the_model(kind: str) -> None:
    """Prices are the model's; spot vol/volCcy are base/quote, SWAP vol is contracts, volCcy base."""
    plugin = make(kind)
    row = data(call(plugin, CANDLES, ("instId", INST[kind]), ("limit", "2")))[1]
    candle = MODEL.candle("BTC-USDT", Interval.parse("1m"), int(row[0]), NOW)
    assert candle is not None and candle.closed
    prices = [candle.open, candle.high, candle.low, candle.close]
    assert [Decimal(v) for v in row[1:5]] == prices
    vols = [Decimal(v) for v in row[5:8]]
    if kind == "spot":
        assert vols == [candle.volume, candle.quote_volume, candle.quote_volume]
    else:
        assert vols == [candle.volume / Decimal("0.01"), candle.volume, candle.quote_volume]


@pytest.mark.parametrize(("limit", "count"), [("1", 1), ("300", 300), ("301", 300), ("100000", 300)])
def test_limit_is_capped_at_300(plugin: _Okx, limit: str, count: int) -> None:
    """limit up to 300 is honoured; beyond, the answer is capped at 300 rows."""
    assert len(opens(plugin, CANDLES, ("limit", limit))) == count


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "1.5", " 5", "1e2"])
def test_bad_limit_is_51000(plugin: _Okx, limit: str) -> None:
    """A limit that is not a positive integer is refused with 51000 (HTTP 400)."""
    query = (("instId", plugin.inst_id(PAIRS[0])), ("limit", limit))
    refused(call(plugin, CANDLES, *query), 400, "51000", "Parameter limit error")


@pytest.mark.parametrize(
    ("query", "status", "code", "msg"),
    [
        ((), 400, "50014", "Parameter instId can not be empty."),
        ((("instId", ""),), 400, "50014", "Parameter instId can not be empty."),
        ((("instId", "DOGE-USDT"),), 200, "51001",
         "Instrument ID, Instrument ID code or Spread ID doesn't exist."),
        ((("instId", "BTC-USDT"), ("bar", "1h")), 400, "51000", "Parameter bar error"),
        ((("instId", "BTC-USDT"), ("bar", "7m")), 400, "51000", "Parameter bar error"),
        ((("instId", "BTC-USDT"), ("bar", "1s")), 400, "51000", "Parameter bar error"),
        ((("instId", "BTC-USDT"), ("bar", "5D")), 400, "51000", "Parameter bar error"),
        ((("instId", "BTC-USDT"), ("after", "-1")), 400, "51000", "Parameter after error"),
        ((("instId", "BTC-USDT"), ("before", "1.5e12")), 400, "51000", "Parameter before error"),
    ],
)
def test_candle_errors_on_spot(query: tuple[tuple[str, str], ...], status: int, code: str, msg: str) -> None:
    """Malformed candle queries get OKX's native error codes, messages and statuses."""
    refused(call(make("spot"), CANDLES, *query), status, code, msg)


def test_instrument_of_the_other_product_does_not_exist() -> None:
    """The spot mock lists no SWAP and the SWAP mock no spot instrument (51001)."""
    for kind, other in (("spot", "BTC-USDT-SWAP"), ("perp", "BTC-USDT")):
        response = call(make(kind), CANDLES, ("instId", other))
        assert (response.status, body(response)["code"]) == (200, "51001")


def test_bar_codes_per_endpoint() -> None:
    """candles: no 1s and no 5D; history adds 1s; the WS also has 5D/5Dutc; ≥6h come in two zones."""
    assert set(HISTORY_BARS) - set(CANDLE_BARS) == {"1s"}
    assert set(WS_BARS) - set(HISTORY_BARS) == {"5D", "5Dutc"}
    for code in ("6H", "12H", "1D", "2D", "3D", "5D", "1W", "1M", "3M"):
        assert WS_BARS[code].offset_ms == UTC8_MS and WS_BARS[code + "utc"].offset_ms == 0
    assert all(WS_BARS[c].offset_ms == 0 for c in ("1s", "1m", "1H", "4H"))


@pytest.mark.parametrize("code", sorted(HISTORY_BARS))
def test_every_history_bar_is_served(code: str) -> None:
    """Every documented bar answers on history-candles, aligned to its zone, newest first."""
    plugin = make("spot")
    times = opens(plugin, HISTORY, ("bar", code), ("limit", "3"))
    interval = HISTORY_BARS[code]
    assert times[0] == interval.floor(NOW)
    assert times == sorted(times, reverse=True) and len(times) == 3
    assert all(interval.floor(t) == t for t in times)


@pytest.mark.parametrize(("code", "first_hour_utc"), [("1D", 16), ("1Dutc", 0), ("6H", 4), ("6Hutc", 0)])
def test_zoned_bars_open_at_utc8_boundaries(code: str, first_hour_utc: int) -> None:
    """1D opens at 16:00 UTC (00:00 UTC+8) while 1Dutc opens at 00:00 UTC; 6H at 22/04/10/16 UTC."""
    current = opens(make("spot"), CANDLES, ("bar", code), ("limit", "1"), now=NOW + 5 * HOUR)[0]
    assert (current % DAY) // HOUR == first_hour_utc


# -- candles: pagination ------------------------------------------------------------------------------

START = 1_767_165_600_000  # 2025-12-31T07:20:00Z, 1,000 minutes before NOW: within /candles' depth


def test_after_returns_older_rows_exclusive(plugin: _Okx) -> None:
    """after=T gives the newest rows opening strictly before T."""
    assert opens(plugin, CANDLES, ("after", str(START)), ("limit", "3")) == [
        START - MINUTE, START - 2 * MINUTE, START - 3 * MINUTE
    ]
    assert opens(plugin, CANDLES, ("after", str(START + 1)), ("limit", "1")) == [START]


def test_before_alone_returns_latest(plugin: _Okx) -> None:
    """before alone returns the latest rows (newer than before)."""
    assert opens(plugin, CANDLES, ("before", str(START)), ("limit", "2")) == [
        NOW // MINUTE * MINUTE, NOW // MINUTE * MINUTE - MINUTE
    ]
    latest = NOW // MINUTE * MINUTE
    assert opens(plugin, CANDLES, ("before", str(latest - MINUTE))) == [latest]
    assert opens(plugin, CANDLES, ("before", str(latest))) == []


def test_ccxt_since_window(plugin: _Okx) -> None:
    """ccxt's since window (before=since-1, after=since+limit·bar) yields exactly limit rows from since."""
    query = (("before", str(START - 1)), ("after", str(START + 300 * MINUTE)), ("limit", "300"))
    assert opens(plugin, CANDLES, *query) == [START + i * MINUTE for i in range(299, -1, -1)]


def test_candles_reach_back_1440_bars_only(plugin: _Okx) -> None:
    """/market/candles serves the newest 1,440 bars; history-candles reaches back further."""
    latest = NOW // MINUTE * MINUTE
    oldest = latest - 1439 * MINUTE
    assert opens(plugin, CANDLES, ("after", str(oldest + 2 * MINUTE))) == [oldest + MINUTE, oldest]
    assert opens(plugin, CANDLES, ("after", str(oldest))) == []
    assert opens(plugin, HISTORY, ("after", str(oldest)), ("limit", "1")) == [oldest - MINUTE]
    year_ago = NOW - 365 * DAY
    assert opens(plugin, HISTORY, ("after", str(year_ago)), ("bar", "1H"), ("limit", "1")) == [
        (year_ago - 1) // HOUR * HOUR
    ]


def test_history_1s_reaches_back_three_months(plugin: _Okx) -> None:
    """history-candles serves 1s only for the last 90 days."""
    inside, outside = NOW - 89 * DAY, NOW - 91 * DAY
    assert opens(plugin, HISTORY, ("bar", "1s"), ("after", str(inside)), ("limit", "1")) == [
        (inside - 1) // SECOND * SECOND
    ]
    assert opens(plugin, HISTORY, ("bar", "1s"), ("after", str(outside))) == []


@pytest.mark.parametrize("bound", ["0", "1", "99999999999999999999"])
def test_extreme_bounds_do_not_fail(plugin: _Okx, bound: str) -> None:
    """Extreme after/before values answer rows or nothing, for months too."""
    for name in ("after", "before"):
        for bar in ("1m", "1M", "3Mutc"):
            data(call(plugin, HISTORY, ("instId", plugin.inst_id(PAIRS[0])), ("bar", bar), (name, bound)))


def test_prehistoric_window_is_empty(plugin: _Okx) -> None:
    """Before the model's history nothing is served."""
    assert opens(plugin, HISTORY, ("after", str(MODEL.history_start_ms))) == []


# -- fuzzing ------------------------------------------------------------------------------------------

_FUZZ = {"spot": make("spot"), "perp": make("perp")}
_names = st.sampled_from(["instId", "bar", "after", "before", "limit"]) | st.text(max_size=5)
_values = st.sampled_from(
    ["BTC-USDT", "BTC-USDT-SWAP", "btc-usdt", "", "1s", "1m", "1H", "1h", "1Dutc", "3M", "0", "-5",
     "abc", "300", "301", "99999999999999999999", "１２", str(NOW)]
) | st.integers(min_value=-(10**22), max_value=10**22).map(str) | st.text(max_size=12)


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(["spot", "perp"]),
    path=st.sampled_from([CANDLES, HISTORY]),
    query=st.lists(st.tuples(_names, _values), max_size=6),
)
def test_fuzz_candle_queries(kind: str, path: str, query: list[tuple[str, str]]) -> None:
    """Any query answers OKX's success envelope or one of its native errors, never an exception."""
    response = call(_FUZZ[kind], path, *query)
    decoded = body(response)
    if decoded["code"] == "0":
        assert response.status == 200 and decoded["msg"] == ""
        assert all(len(row) == 9 for row in decoded["data"])
    else:
        assert (response.status, decoded["code"]) in {(400, "50014"), (400, "51000"), (200, "51001")}
        assert decoded["data"] == [] and decoded["msg"]


# -- WebSocket: sessions ------------------------------------------------------------------------------


def session(kind: str = "spot", path: str = "/ws/v5/business") -> OkxSession:
    """A session of the given product, opened at NOW."""
    opened = make(kind).open_session(path, "")
    assert isinstance(opened, OkxSession)
    opened.wall_ms = NOW
    opened.on_open(NOW)
    return opened


def at(s: OkxSession, wall_ms: int) -> OkxSession:
    """``s`` with the runtime's monotonic clock at ``wall_ms``: protocol timers run on it, not on market time."""
    s.wall_ms = wall_ms
    return s


def sent(actions: list[Action]) -> list[Any]:
    """The JSON messages among ``actions``."""
    return [json.loads(a.message) for a in actions if isinstance(a, Send)]


def op(name: str, *args: dict[str, Any], request_id: str | None = None) -> str:
    """A JSON request."""
    message: dict[str, Any] = {"op": name, "args": list(args)}
    if request_id is not None:
        message["id"] = request_id
    return json.dumps(message)


BTC_1M = {"channel": "candle1m", "instId": "BTC-USDT"}
SUB_1M = Subscription("BTC-USDT", Interval.parse("1m"), "1m")


@pytest.mark.parametrize("path", ["/ws/v5/business", "/ws/v5/public", "/ws/v5/private"])
def test_okx_paths_open_sessions(path: str) -> None:
    """The three v5 paths open sessions; only /business serves candles."""
    opened = make("spot").open_session(path, "brokerId=9999")
    assert isinstance(opened, OkxSession) and opened.business == (path == "/ws/v5/business")


@pytest.mark.parametrize("path", ["/", "/ws", "/ws/v5", "/ws/v5/business/x", "/ws/v3/business"])
def test_other_paths_are_refused(path: str) -> None:
    """Anything else is refused at the handshake."""
    assert make("spot").open_session(path, "") == WsReject(404, b"Not Found")


def test_connection_ids_differ() -> None:
    """Each connection has its own 8-hex-digit connId."""
    plugin = make("spot")
    ids = {s.conn_id for s in (plugin.open_session("/ws/v5/business", "") for _ in range(50))
           if isinstance(s, OkxSession)}
    assert len(ids) == 50 and all(len(i) == 8 and int(i, 16) >= 0 for i in ids)


def test_ping_is_answered_with_text_pong() -> None:
    """The text ping gets the text pong (not JSON, not a protocol frame)."""
    assert session().on_text("ping", NOW) == [Send("pong")]


def test_subscribe_ack_and_unsubscribe(kind: str) -> None:
    """subscribe acks with event/arg/connId and subscribes once; unsubscribe acks and unsubscribes."""
    s = session(kind)
    arg = {"channel": "candle1m", "instId": INST[kind]}
    actions = s.on_text(op("subscribe", arg), NOW)
    assert actions[0] == Subscribe(SUB_1M)
    assert sent(actions) == [{"event": "subscribe", "arg": arg, "connId": s.conn_id}]
    again = s.on_text(op("subscribe", arg, request_id="7"), NOW)
    assert [a for a in again if not isinstance(a, Send)] == []
    assert sent(again) == [{"id": "7", "event": "subscribe", "arg": arg, "connId": s.conn_id}]
    gone = s.on_text(op("unsubscribe", arg, request_id="8"), NOW)
    assert gone[0] == Unsubscribe(SUB_1M)
    assert sent(gone) == [{"id": "8", "event": "unsubscribe", "arg": arg, "connId": s.conn_id}]


def test_several_args_each_get_an_answer() -> None:
    """Each argument of one request is acked or refused on its own."""
    s = session()
    bad = {"channel": "candle7m", "instId": "BTC-USDT"}
    actions = s.on_text(op("subscribe", BTC_1M, bad, {"channel": "candle1Dutc", "instId": "ETH-USDT"}), NOW)
    subs = [a.subscription for a in actions if isinstance(a, Subscribe)]
    assert subs == [SUB_1M, Subscription("ETH-USDT", Interval(seconds=86_400), "1Dutc")]
    assert [m["event"] for m in sent(actions)] == ["subscribe", "error", "subscribe"]


WRONG = "Wrong URL or channel:{},instId:{} doesn't exist. Please use the correct URL, channel and " \
        "parameters referring to API document."


@pytest.mark.parametrize(
    ("path", "arg"),
    [
        ("/ws/v5/public", BTC_1M),
        ("/ws/v5/private", BTC_1M),
        ("/ws/v5/business", {"channel": "candle1m", "instId": "DOGE-USDT"}),
        ("/ws/v5/business", {"channel": "candle1h", "instId": "BTC-USDT"}),
        ("/ws/v5/business", {"channel": "tickers", "instId": "BTC-USDT"}),
        ("/ws/v5/business", {"channel": "candle1m", "instId": "BTC-USDT-SWAP"}),
    ],
)
def test_wrong_url_or_channel_is_60018(path: str, arg: dict[str, str]) -> None:
    """Candles off /business, unknown bars, channels or instruments: 60018, nothing subscribed."""
    s = session("spot", path)
    actions = s.on_text(op("subscribe", arg, request_id="1"), NOW)
    assert sent(actions) == [{"id": "1", "event": "error", "code": "60018",
                              "msg": WRONG.format(arg["channel"], arg["instId"]), "connId": s.conn_id}]
    assert len(actions) == 1


@pytest.mark.parametrize(
    ("text", "code", "msg", "echo"),
    [
        ("{bad json", "60012", "Illegal request: {bad json", False),
        ("[1, 2]", "60012", "Illegal request: [1, 2]", False),
        ('{"id": 5, "op": "subscribe", "args": []}', "60012",
         'Illegal request: {"id": 5, "op": "subscribe", "args": []}', False),
        ('{"id": "has space", "op": "subscribe"}', "60012",
         'Illegal request: {"id": "has space", "op": "subscribe"}', False),
        ('{"id": "1", "args": []}', "60012", 'Illegal request: {"id": "1", "args": []}', True),
        ('{"id": "1", "op": "subscrib", "args": []}', "60019", "Invalid op: subscrib", True),
        ('{"id": "1", "op": "subscribe"}', "60013", "Invalid args", True),
        ('{"id": "1", "op": "subscribe", "args": []}', "60013", "Invalid args", True),
        ('{"id": "1", "op": "subscribe", "args": ["candle1m"]}', "60013", "Invalid args", True),
        ('{"id": "1", "op": "unsubscribe", "args": [{"instId": "BTC-USDT"}]}', "60013", "Invalid args", True),
        ('{"id": "1", "op": "login", "args": [{}]}', "60009", "Login failure", True),
        ("PING", "60012", "Illegal request: PING", False),
    ],
)
def test_request_errors(text: str, code: str, msg: str, echo: bool) -> None:
    """Malformed requests get OKX's error event; a valid id is echoed."""
    s = session()
    expected: dict[str, Any] = {"id": "1"} if echo else {}
    expected.update({"event": "error", "code": code, "msg": msg, "connId": s.conn_id})
    assert sent(s.on_text(text, NOW)) == [expected]


def test_subscribe_requests_are_limited_per_hour() -> None:
    """480 subscribe/unsubscribe/login requests per hour; then 60014 until the hour has passed."""
    s = session()
    for i in range(OPS_PER_HOUR):
        assert sent(at(s, NOW + i).on_text(op("subscribe", BTC_1M), NOW))[0]["event"] == "subscribe"
    refused_now = sent(at(s, NOW + OPS_PER_HOUR).on_text(op("unsubscribe", BTC_1M, request_id="9"), NOW))
    assert refused_now == [{"id": "9", "event": "error", "code": "60014", "msg": "Requests too frequent",
                            "connId": s.conn_id}]
    assert s.on_text("ping", NOW) == [Send("pong")]
    assert sent(at(s, NOW + HOUR).on_text(op("subscribe", BTC_1M), NOW))[0]["event"] == "subscribe"


def test_idle_connection_is_cut_after_30s() -> None:
    """With no subscription and nothing sent for 30 s the server closes with 4004, once."""
    s = session()
    assert s.tick_period == 1.0
    assert at(s, NOW + 29_999).on_tick(NOW) == []
    assert at(s, NOW + 30_000).on_tick(NOW) == [Close(4004, "No data received in 30s")]
    assert at(s, NOW + 31_000).on_tick(NOW) == []


def test_pongs_keep_an_unsubscribed_connection_open() -> None:
    """Answered pings count as data sent, so a pinging client is not cut."""
    s = session()
    for t in range(20_000, 200_000, 20_000):
        at(s, NOW + t).on_text("ping", NOW)
        assert at(s, NOW + t + 19_000).on_tick(NOW) == []


def test_subscribed_connection_is_never_idle() -> None:
    """Pushes flow every second on a subscribed connection; after unsubscribing the clock restarts."""
    s = session()
    s.on_text(op("subscribe", BTC_1M), NOW)
    assert at(s, NOW + 100_000).on_tick(NOW) == []
    at(s, NOW + 100_500).on_text(op("unsubscribe", BTC_1M), NOW)
    assert at(s, NOW + 130_000).on_tick(NOW) == []
    assert at(s, NOW + 130_500).on_tick(NOW) == [Close(4004, "No data received in 30s")]


def test_error_replies_also_count_as_data() -> None:
    """Any reply (here an error) restarts the idle clock."""
    s = session("spot", "/ws/v5/public")
    at(s, NOW + 20_000).on_text(op("subscribe", BTC_1M), NOW)
    assert at(s, NOW + 49_000).on_tick(NOW) == []
    assert at(s, NOW + 50_000).on_tick(NOW) == [Close(4004, "No data received in 30s")]


@settings(max_examples=30, deadline=None)
@given(text=st.one_of(
    st.text(max_size=40),
    st.sampled_from(["ping", "pong", "null", "{}", '{"op":"subscribe","args":[{"channel":1}]}']),
    st.builds(lambda o, a: json.dumps({"op": o, "args": a}),
              st.sampled_from(["subscribe", "unsubscribe", "login", "x"]),
              st.lists(st.dictionaries(st.sampled_from(["channel", "instId"]),
                                       st.sampled_from(["candle1m", "candle1s", "BTC-USDT", "", None]))))
))
def test_fuzz_ws_messages(text: str) -> None:
    """Any message gets pong or JSON replies of subscribe/unsubscribe/error events, never an exception."""
    for action in session().on_text(text, NOW):
        if isinstance(action, Send):
            assert action.message == "pong" or json.loads(action.message)["event"] in {
                "subscribe", "unsubscribe", "error"
            }


# -- WebSocket: pushes --------------------------------------------------------------------------------


def test_push_is_the_rest_row_under_its_arg(kind: str) -> None:
    """A push is {"arg": {channel, instId}, "data": [row]} with the very row REST serves."""
    plugin = make(kind)
    rest = data(call(plugin, CANDLES, ("instId", INST[kind]), ("limit", "2")))
    for row in rest:
        candle = MODEL.candle("BTC-USDT", Interval.parse("1m"), int(row[0]), NOW)
        assert candle is not None
        push = json.loads(plugin.encode_push(SUB_1M, candle, NOW))
        assert push == {"arg": {"channel": "candle1m", "instId": INST[kind]}, "data": [row]}
    assert [r[8] for r in rest] == ["0", "1"]


def test_push_channel_keeps_the_zone_variant() -> None:
    """candle1D and candle1Dutc are different streams and pushes name their own channel."""
    plugin = make("spot")
    one_d, one_d_utc = plugin.resolve("candle1D", "BTC-USDT"), plugin.resolve("candle1Dutc", "BTC-USDT")
    assert one_d is not None and one_d_utc is not None and one_d != one_d_utc
    candle = MODEL.candle("BTC-USDT", one_d.interval, NOW, NOW)
    assert candle is not None
    assert json.loads(plugin.encode_push(one_d, candle, NOW))["arg"]["channel"] == "candle1D"


def test_heartbeat_cadence_and_farewell(plugin: _Okx) -> None:
    """No server protocol pings; one push a second; shutdown announced with the 64008 notice."""
    assert plugin.heartbeat is None
    assert plugin.push_period(SUB_1M) == 1.0
    ws = session()
    assert json.loads(ws.farewell(NOW) or "") == {
        "event": "notice", "code": "64008",
        "msg": "The connection will soon be closed for a service upgrade. Please reconnect.",
        "connId": ws.conn_id,
    }
