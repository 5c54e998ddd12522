"""Sans-IO tests of the KuCoin spot and Futures perpetual plugins: handlers and sessions, no sockets."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, TypeAlias
from urllib.parse import urlencode

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
from mockfeed.exchanges.kucoin import KucoinPerpetual, KucoinSpot
from mockfeed.exchanges.kucoin.streams import KucoinSession
from mockfeed.exchanges.kucoin.tokens import TOKEN_LIFETIME_MS, TokenState
from mockfeed.exchanges.kucoin.wire import plain
from mockfeed.market import Candle, Interval, MarketModel, PairSpec, pair_spec

PAIRS = tuple(pair_spec(p) for p in ("BTC-USDT", "ETH-USDT", "SOL-USDT"))
BTC = PAIRS[0]
NOW = 1_767_225_617_123  # 2026-01-01T00:00:17.123Z
MINUTE = 60_000
ONE_MINUTE = Interval.parse("1m")
KLINES = {"spot": "/api/v1/market/candles", "perp": "/api/v1/kline/query"}
SYMBOL = {"spot": "BTC-USDT", "perp": "XBTUSDTM"}
INTERVAL_PARAM = {"spot": ("type", "1min"), "perp": ("granularity", "1")}
TOPIC = {"spot": "/market/candles:BTC-USDT_1min", "perp": "/contractMarket/limitCandle:XBTUSDTM_1min"}
WS_URL = "ws://127.0.0.1:9115"

Plugin: TypeAlias = KucoinSpot | KucoinPerpetual


def make(kind: str, model: MarketModel | None = None) -> Plugin:
    """A fresh plugin of one product over the default test pairs."""
    model = model or MarketModel(PAIRS, seed=0)
    plugin = KucoinSpot(model, PAIRS) if kind == "spot" else KucoinPerpetual(model, PAIRS)
    plugin.set_endpoints("http://127.0.0.1:9114", WS_URL)
    return plugin


@pytest.fixture(params=["spot", "perp"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each KuCoin product in turn."""
    return str(request.param)


@pytest.fixture
def plugin(kind: str) -> Plugin:
    """A fresh plugin of the product under test."""
    return make(kind)


def call(
    plugin: Plugin, path: str, *query: tuple[str, str], now: int = NOW, method: str = "GET"
) -> RestResponse:
    """Run the plugin's handler for (method, path) on a plain request."""
    handler = plugin.routes()[(method, path)]
    return handler(RestRequest(method, path, tuple(query), b"", now))


def body(response: RestResponse) -> Any:
    """The decoded JSON body."""
    return json.loads(response.body)


def data(response: RestResponse) -> Any:
    """The ``data`` of a successful KuCoin envelope."""
    assert response.status == 200
    payload = body(response)
    assert payload["code"] == "200000", payload
    return payload["data"]


def assert_error(response: RestResponse, code: str, status: int = 200) -> str:
    """KuCoin's native error envelope: a string code other than 200000 and a message."""
    assert response.status == status, response.body
    payload = body(response)
    assert set(payload) == {"code", "msg"}
    assert payload["code"] == code
    assert isinstance(payload["msg"], str) and payload["msg"]
    return str(payload["msg"])


def klines(plugin: Plugin, kind: str, *extra: tuple[str, str], now: int = NOW) -> RestResponse:
    """A klines request for BTC at one minute plus ``extra`` parameters."""
    return call(plugin, KLINES[kind], ("symbol", SYMBOL[kind]), INTERVAL_PARAM[kind], *extra, now=now)


def spot_row(candle: Candle) -> list[str]:
    """The spot row a candle should be served as (built independently of the plugin)."""

    def s(x: Decimal) -> str:
        text = format(x.normalize(), "f")
        return text

    return [
        str(candle.open_time // 1000),
        s(candle.open), s(candle.close), s(candle.high), s(candle.low),
        s(candle.volume), s(candle.quote_volume),
    ]


def perp_row(candle: Candle, pair: PairSpec = BTC) -> list[object]:
    """The futures row a candle should be served as: numbers, ms, volume in lots."""
    lots = candle.volume / pair.lot_size
    assert lots == lots.to_integral_value()
    return [
        candle.open_time, float(candle.open), float(candle.high), float(candle.low),
        float(candle.close), int(lots),
    ]


def opens(kind: str, rows: list[list[Any]]) -> list[int]:
    """Open times in ms of served rows, in the served order."""
    return [int(r[0]) * 1000 if kind == "spot" else int(r[0]) for r in rows]


def sent(actions: list[Action]) -> list[Any]:
    """The decoded messages among ``actions``."""
    return [json.loads(a.message) for a in actions if isinstance(a, Send)]


# -- plain values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [("61250.10", "61250.1"), ("100", "100"), ("1E+2", "100"), ("0.00000", "0"), ("0.058", "0.058"),
     ("3.06097133", "3.06097133"), ("104430.955068564000", "104430.955068564")],
)
def test_plain_numbers(value: str, text: str) -> None:
    """Numbers print in plain notation without trailing zeros, as KuCoin prints them."""
    assert plain(Decimal(value)) == text


# -- time, status, listings ---------------------------------------------------------------------------


def test_timestamp(plugin: Plugin, kind: str) -> None:
    """/api/v1/timestamp answers the server clock in ms (spot adds msg "success")."""
    payload = body(call(plugin, "/api/v1/timestamp"))
    expected: dict[str, Any] = {"code": "200000", "data": NOW}
    if kind == "spot":
        expected["msg"] = "success"
    assert payload == expected


def test_quota_headers(plugin: Plugin, kind: str) -> None:
    """Each answer reports the public pool: limit 2000 per 30 s, what is left, ms until reset."""
    first = dict(call(plugin, "/api/v1/timestamp").headers)
    assert first["gw-ratelimit-limit"] == "2000"
    weight = 3 if kind == "spot" else 2
    assert first["gw-ratelimit-remaining"] == str(2000 - weight)
    assert first["gw-ratelimit-reset"] == str(30_000 - NOW % 30_000)
    second = dict(klines(plugin, kind).headers)
    assert second["gw-ratelimit-remaining"] == str(2000 - weight - 3)
    later = dict(call(plugin, "/api/v1/timestamp", now=NOW + 30_000).headers)
    assert later["gw-ratelimit-remaining"] == str(2000 - weight)


def test_status(plugin: Plugin) -> None:
    """/api/v1/status reports the service open."""
    assert data(call(plugin, "/api/v1/status")) == {"status": "open", "msg": ""}


def test_bullet_public(plugin: Plugin) -> None:
    """POST bullet-public hands out a valid token and this mock's own WS endpoint."""
    reply = data(call(plugin, "/api/v1/bullet-public", method="POST"))
    assert reply["instanceServers"] == [
        {"endpoint": WS_URL + "/", "encrypt": False, "protocol": "websocket",
         "pingInterval": 18000, "pingTimeout": 10000}
    ]
    assert plugin.tokens.check(reply["token"], NOW) is TokenState.VALID
    other = data(call(plugin, "/api/v1/bullet-public", method="POST"))["token"]
    assert other != reply["token"]
    assert ("GET", "/api/v1/bullet-public") not in plugin.routes()


def test_tokens_expire_and_do_not_cross_products() -> None:
    """A token lasts 24 h, is refused when forged, and one product's token is invalid on the other."""
    spot, perp = make("spot"), make("perp")
    token = data(call(spot, "/api/v1/bullet-public", method="POST"))["token"]
    assert spot.tokens.check(token, NOW + TOKEN_LIFETIME_MS - 1) is TokenState.VALID
    assert spot.tokens.check(token, NOW + TOKEN_LIFETIME_MS) is TokenState.EXPIRED
    assert perp.tokens.check(token, NOW) is TokenState.INVALID
    assert spot.tokens.check(token[:-4] + "AAA=", NOW) is TokenState.INVALID
    for junk in (None, "", "abc", "a.b", ".", "é.é"):
        assert spot.tokens.check(junk, NOW) is TokenState.INVALID
    replica = make("spot")  # same seed: another process accepts the token
    assert replica.tokens.check(token, NOW) is TokenState.VALID


def test_currencies(plugin: Plugin) -> None:
    """/api/v3/currencies lists every asset of the pairs with a chain (both mocks: ccxt asks both)."""
    listed = data(call(plugin, "/api/v3/currencies"))
    assert [c["currency"] for c in listed] == ["BTC", "USDT", "ETH", "SOL"]
    assert all(c["precision"] == 8 and len(c["chains"]) == 1 for c in listed)


def test_spot_listings() -> None:
    """Spot lists its pairs in /api/v2/symbols and allTickers, and an empty contracts list."""
    spot = make("spot")
    symbols = data(call(spot, "/api/v2/symbols"))
    assert [s["symbol"] for s in symbols] == ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    btc = symbols[0]
    assert btc["baseCurrency"] == "BTC" and btc["quoteCurrency"] == "USDT" and btc["enableTrading"]
    assert btc["priceIncrement"] == "0.01" and btc["baseIncrement"] == "0.00001"
    assert data(call(spot, "/api/v2/symbols", ("market", "USDS"))) == symbols
    assert data(call(spot, "/api/v2/symbols", ("market", "BTC"))) == []
    tickers = data(call(spot, "/api/v1/market/allTickers"))
    assert tickers["time"] == NOW
    assert [t["symbol"] for t in tickers["ticker"]] == ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    last = spot.model.candle("BTC-USDT", Interval.parse("1h"), NOW, NOW)
    assert last is not None and tickers["ticker"][0]["last"] == plain(last.close)
    assert tickers["ticker"][0]["takerFeeRate"] == "0.001"
    assert data(call(spot, "/api/v1/contracts/active")) == []


def test_perpetual_listings() -> None:
    """Futures lists its contracts (XBT for BTC, numbers as numbers) and empty spot listings."""
    perp = make("perp")
    contracts = data(call(perp, "/api/v1/contracts/active"))
    assert [c["symbol"] for c in contracts] == ["XBTUSDTM", "ETHUSDTM", "SOLUSDTM"]
    xbt = contracts[0]
    assert (xbt["baseCurrency"], xbt["quoteCurrency"], xbt["settleCurrency"]) == ("XBT", "USDT", "USDT")
    assert xbt["multiplier"] == 0.00001 and xbt["lotSize"] == 1 and xbt["tickSize"] == 0.01
    assert xbt["isInverse"] is False and xbt["status"] == "Open" and xbt["expireDate"] is None
    assert xbt["nextFundingRateTime"] == 8 * 3_600_000 - NOW % (8 * 3_600_000)
    assert data(call(perp, "/api/v2/symbols")) == []
    assert data(call(perp, "/api/v1/market/allTickers")) == {"time": NOW, "ticker": []}


def test_unknown_path_and_internal_error(plugin: Plugin) -> None:
    """Unknown paths get 404 with KuCoin's 404000 body; a failing handler 500 with 500000."""
    request = RestRequest("GET", "/api/v1/nope", (), b"", NOW)
    assert_error(plugin.not_found(request), "404000", 404)
    assert_error(plugin.method_not_allowed(request), "404000", 404)
    assert_error(plugin.internal_error(request), "500000", 500)


# -- klines ---------------------------------------------------------------------------------------------


def test_spot_latest_rows_newest_first() -> None:
    """Without times: the newest 1500 rows, newest first, the forming candle first."""
    spot = make("spot")
    rows = data(klines(spot, "spot"))
    assert len(rows) == 1500
    times = opens("spot", rows)
    assert times == [ONE_MINUTE.floor(NOW) - i * MINUTE for i in range(1500)]
    forming = spot.model.candle("BTC-USDT", ONE_MINUTE, NOW, NOW)
    assert forming is not None and not forming.closed
    assert rows[0] == spot_row(forming)
    assert all(len(r) == 7 and all(isinstance(x, str) for x in r) for r in rows)


def test_perp_latest_rows_oldest_first() -> None:
    """Without times: the newest 200 rows, oldest first, JSON numbers, volume in contracts."""
    perp = make("perp")
    rows = data(klines(perp, "perp"))
    assert len(rows) == 200
    assert opens("perp", rows) == [ONE_MINUTE.floor(NOW) - (199 - i) * MINUTE for i in range(200)]
    expected = perp.model.candles("BTC-USDT", ONE_MINUTE, now_ms=NOW, limit=200)
    assert rows == [perp_row(c) for c in expected]
    assert all(type(r[0]) is int and type(r[5]) is int for r in rows)


def test_window_bounds_inclusive(kind: str, plugin: Plugin) -> None:
    """Both bounds are inclusive; spot takes seconds, futures milliseconds."""
    start = ONE_MINUTE.floor(NOW) - 30 * MINUTE
    end = start + 5 * MINUTE
    unit = 1000 if kind == "spot" else 1
    names = ("startAt", "endAt") if kind == "spot" else ("from", "to")
    rows = data(klines(plugin, kind, (names[0], str(start // unit)), (names[1], str(end // unit))))
    served = sorted(opens(kind, rows))
    assert served == [start + i * MINUTE for i in range(6)]
    assert opens(kind, rows) == (served[::-1] if kind == "spot" else served)


def test_start_only_pages_forward(kind: str, plugin: Plugin) -> None:
    """With only a start: the oldest rows from it, capped at the product's maximum."""
    cap = 1500 if kind == "spot" else 200
    start = ONE_MINUTE.floor(NOW) - 3 * 86_400_000
    unit = 1000 if kind == "spot" else 1
    name = "startAt" if kind == "spot" else "from"
    served = sorted(opens(kind, data(klines(plugin, kind, (name, str(start // unit))))))
    assert served == [start + i * MINUTE for i in range(cap)]


def test_end_only_and_zero_defaults(kind: str, plugin: Plugin) -> None:
    """With only an end: the newest rows up to it; 0 (KuCoin's default) means unbounded."""
    end = ONE_MINUTE.floor(NOW) - 10 * MINUTE
    unit = 1000 if kind == "spot" else 1
    names = ("startAt", "endAt") if kind == "spot" else ("from", "to")
    rows = data(klines(plugin, kind, (names[1], str(end // unit))))
    assert max(opens(kind, rows)) == end
    zeros = data(klines(plugin, kind, (names[0], "0"), (names[1], "0")))
    assert zeros == data(klines(plugin, kind))
    empty = data(klines(plugin, kind, (names[0], ""), (names[1], "")))
    assert empty == zeros


def test_empty_windows(kind: str, plugin: Plugin) -> None:
    """A start after the end, or in the future, selects nothing: an empty list, not an error."""
    unit = 1000 if kind == "spot" else 1
    names = ("startAt", "endAt") if kind == "spot" else ("from", "to")
    start = (NOW - 10 * MINUTE) // unit
    assert data(klines(plugin, kind, (names[0], str(start)), (names[1], str(start - 60)))) == []
    assert data(klines(plugin, kind, (names[0], str((NOW + 10 * MINUTE) // unit)))) == []
    assert data(klines(plugin, kind, (names[0], str(2**63 - 1)))) == []


def test_spot_intervals() -> None:
    """Every spot type is served; 1week opens on Mondays and 1month on the 1st."""
    spot = make("spot")
    for code in ("1min", "3min", "5min", "15min", "30min", "1hour", "2hour", "4hour", "6hour", "8hour",
                 "12hour", "1day", "1week", "1month"):
        rows = data(call(spot, KLINES["spot"], ("symbol", "ETH-USDT"), ("type", code)))
        assert rows, code
    week = data(call(spot, KLINES["spot"], ("symbol", "BTC-USDT"), ("type", "1week")))
    assert {dt.datetime.fromtimestamp(int(r[0]), dt.UTC).weekday() for r in week} == {0}
    month = data(call(spot, KLINES["spot"], ("symbol", "BTC-USDT"), ("type", "1month")))
    assert {dt.datetime.fromtimestamp(int(r[0]), dt.UTC).day for r in month} == {1}


def test_perp_granularities() -> None:
    """Futures granularities are minutes from KuCoin's list; "01" binds as 1."""
    perp = make("perp")
    for minutes in (1, 5, 15, 30, 60, 120, 240, 480, 720, 1440, 10080):
        rows = data(call(perp, KLINES["perp"], ("symbol", "XBTUSDTM"), ("granularity", str(minutes))))
        assert rows and all(r[0] % (minutes * MINUTE) == (0 if minutes < 10080 else 4 * 86_400_000)
                            for r in rows), minutes
    assert data(call(perp, KLINES["perp"], ("symbol", "XBTUSDTM"), ("granularity", "01"))) == data(
        klines(perp, "perp")
    )


@pytest.mark.parametrize(
    ("query", "code", "status", "msg"),
    [
        ((("symbol", "FOO-USDT"), ("type", "1min")), "400100", 200, "This pair is not provided at present"),
        ((("symbol", "BTCUSDT"), ("type", "1min")), "400100", 200, "This pair is not provided at present"),
        ((("symbol", "btc-usdt"), ("type", "1min")), "400100", 200, "This pair is not provided at present"),
        ((("type", "1min"),), "400100", 200, "This pair is not provided at present"),
        ((("symbol", "BTC-USDT"), ("symbol", "BTC-USDT"), ("type", "1min")), "400100", 200,
         "This pair is not provided at present"),
        ((("symbol", "BTC-USDT"), ("type", "1m")), "400100", 200,
         "This type of Candlestick is currently not provided."),
        ((("symbol", "BTC-USDT"),), "400100", 200, "This type of Candlestick is currently not provided."),
        ((("symbol", "BTC-USDT"), ("type", "1min"), ("startAt", "abc")), "400100", 400, "startAt is invalid"),
        ((("symbol", "BTC-USDT"), ("type", "1min"), ("endAt", "-5")), "400100", 400, "endAt is invalid"),
        ((("symbol", "BTC-USDT"), ("type", "1min"), ("startAt", "1.5")), "400100", 400, "startAt is invalid"),
        ((("symbol", "BTC-USDT"), ("type", "1min"), ("startAt", "1"), ("startAt", "2")), "400100", 400,
         "startAt is invalid"),
        ((("symbol", "BTC-USDT"), ("type", "1min"), ("endAt", str(2**63))), "400100", 400,
         "endAt is invalid"),
    ],
)
def test_spot_errors(query: tuple[tuple[str, str], ...], code: str, status: int, msg: str) -> None:
    """Spot refuses with its observed messages: HTTP 200 for lookups, HTTP 400 for values that do not parse."""
    assert assert_error(call(make("spot"), KLINES["spot"], *query), code, status) == msg


@pytest.mark.parametrize(
    ("query", "code", "status", "msg"),
    [
        ((("symbol", "BTCUSDTM"), ("granularity", "1")), "100003", 200, "Contract parameter invalid"),
        ((("symbol", "BTC-USDT"), ("granularity", "1")), "100003", 200, "Contract parameter invalid"),
        ((("granularity", "1"),), "100003", 200, "Contract parameter invalid"),
        ((("symbol", "XBTUSDTM"), ("granularity", "3")), "400100", 200, "granularity is invalid"),
        ((("symbol", "XBTUSDTM"),), "400100", 200, "granularity is invalid"),
        ((("symbol", "XBTUSDTM"), ("granularity", "1min")), "400100", 400, "granularity is invalid"),
        ((("symbol", "XBTUSDTM"), ("granularity", "1"), ("from", "now")), "400100", 400, "from is invalid"),
        ((("symbol", "XBTUSDTM"), ("granularity", "1"), ("to", "-1")), "400100", 400, "to is invalid"),
    ],
)
def test_perp_errors(query: tuple[tuple[str, str], ...], code: str, status: int, msg: str) -> None:
    """Futures refuses an unknown contract or granularity in the KuCoin envelope."""
    assert assert_error(call(make("perp"), KLINES["perp"], *query), code, status) == msg


# -- fuzzing -------------------------------------------------------------------------------------------

_FUZZ = {"spot": make("spot"), "perp": make("perp")}
_names = st.sampled_from(["symbol", "type", "granularity", "startAt", "endAt", "from", "to"]) | st.text(
    max_size=5
)
_values = st.sampled_from(
    ["BTC-USDT", "XBTUSDTM", "ETH-USDT", "SOLUSDTM", "1min", "1month", "1week", "1", "10080", "3", "0",
     "1767225617", "1767225617123", "-1", "1e3", "", " ", "9" * 25, str(2**63 - 1)]
) | st.text(max_size=12) | st.integers(min_value=-(2**65), max_value=2**65).map(str)


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["spot", "perp"]), query=st.lists(st.tuples(_names, _values), max_size=6))
def test_fuzz_klines_query(kind: str, query: list[tuple[str, str]]) -> None:
    """Any klines query answers the success envelope with a list, or KuCoin's error envelope."""
    response = call(_FUZZ[kind], KLINES[kind], *query)
    payload = body(response)
    if response.status == 200 and payload.get("code") == "200000":
        assert set(payload) == {"code", "data"} and isinstance(payload["data"], list)
        assert len(payload["data"]) <= (1500 if kind == "spot" else 200)
    else:
        assert response.status in (200, 400)
        assert set(payload) == {"code", "msg"}
        assert isinstance(payload["code"], str) and payload["code"] != "200000"


# -- WebSocket sessions --------------------------------------------------------------------------------


def session(plugin: Plugin, query: str = "", *, now: int = NOW) -> tuple[KucoinSession, list[Any]]:
    """A session opened with a fresh token (plus ``query``), and the messages of its opening."""
    token = data(call(plugin, "/api/v1/bullet-public", method="POST", now=now))["token"]
    opened = plugin.open_session("/", f"{urlencode({'token': token})}&{query}")
    assert isinstance(opened, KucoinSession)
    return opened, sent(opened.on_open(now))


def ask(ws: KucoinSession, now: int = NOW, **message: Any) -> list[Action]:
    """Feed one JSON message."""
    return ws.on_text(json.dumps(message), now)


def at(s: KucoinSession, wall_ms: int) -> KucoinSession:
    """``s`` with the runtime's monotonic clock at ``wall_ms``: protocol timers run on it, not on market time."""
    s.wall_ms = wall_ms
    return s


def test_welcome_echoes_connect_id(plugin: Plugin) -> None:
    """The first message is the welcome, echoing the client's connectId."""
    _, opening = session(plugin, "privateChannel=false&connectId=public")
    assert opening == [{"id": "public", "type": "welcome"}]
    _, opening = session(plugin)
    assert opening == [{"id": str(NOW), "type": "welcome"}]


def test_ws_paths(plugin: Plugin) -> None:
    """The endpoint is the root (and the legacy /endpoint); anything else is refused with 404."""
    assert isinstance(plugin.open_session("/endpoint", "token=x"), KucoinSession)
    assert plugin.open_session("/ws", "token=x") == WsReject(404, b"Not Found")


@pytest.mark.parametrize(
    ("token", "reason"), [("", "token is invalid"), ("nope", "token is invalid"), (None, "token is invalid")]
)
def test_bad_token_is_refused(plugin: Plugin, token: str | None, reason: str) -> None:
    """A missing or forged token gets a 401 error frame, then the connection closes."""
    query = "" if token is None else f"token={token}"
    ws = plugin.open_session("/", query)
    assert isinstance(ws, KucoinSession)
    actions = ws.on_open(NOW)
    assert sent(actions) == [{"type": "error", "code": 401, "data": reason}]
    assert actions[-1] == Close(1008, reason)
    assert ws.on_text('{"id":"1","type":"ping"}', NOW) == []


def test_expired_token(plugin: Plugin) -> None:
    """A token older than 24 h gets "token is expired" (the text ccxt renegotiates on)."""
    token = data(call(plugin, "/api/v1/bullet-public", method="POST"))["token"]
    ws = plugin.open_session("/", f"token={token}")
    assert isinstance(ws, KucoinSession)
    later = NOW + TOKEN_LIFETIME_MS
    assert sent(ws.on_open(later)) == [{"type": "error", "code": 401, "data": "token is expired"}]


def test_ping_pong(plugin: Plugin) -> None:
    """{"type":"ping"} is answered with a pong echoing the id (none without one)."""
    ws, _ = session(plugin)
    assert sent(ask(ws, id="42", type="ping")) == [{"id": "42", "type": "pong"}]
    assert sent(ask(ws, id=7, type="ping")) == [{"id": 7, "type": "pong"}]
    assert sent(ask(ws, type="ping")) == [{"type": "pong"}]


def test_subscribe_ack_unsubscribe(plugin: Plugin, kind: str) -> None:
    """Subscribe starts the stream and acks when asked; unsubscribe stops it and acks."""
    ws, _ = session(plugin)
    stream = Subscription("BTC-USDT", ONE_MINUTE)
    actions = ask(ws, id="1", type="subscribe", topic=TOPIC[kind], privateChannel=False, response=True)
    assert actions[0] == Subscribe(stream)
    assert sent(actions) == [{"id": "1", "type": "ack"}]
    assert ask(ws, id="2", type="subscribe", topic=TOPIC[kind], response=True) == [
        Send('{"id":"2","type":"ack"}')
    ]
    assert ask(ws, id="3", type="unsubscribe", topic=TOPIC[kind], response=True) == [
        Unsubscribe(stream), Send('{"id":"3","type":"ack"}')
    ]
    assert sent(ask(ws, id="4", type="unsubscribe", topic=TOPIC[kind], response=True)) == [
        {"id": "4", "type": "ack"}
    ]


def test_no_ack_without_response(plugin: Plugin, kind: str) -> None:
    """Without "response": true the subscription is silent (as hummingbot expects)."""
    ws, _ = session(plugin)
    assert ask(ws, id="1", type="subscribe", topic=TOPIC[kind], response=False) == [
        Subscribe(Subscription("BTC-USDT", ONE_MINUTE))
    ]


def test_comma_list_topic(plugin: Plugin, kind: str) -> None:
    """One topic may list several symbol_type items."""
    ws, _ = session(plugin)
    prefix, _, item = TOPIC[kind].partition(":")
    other = "ETH-USDT_1hour" if kind == "spot" else "ETHUSDTM_1hour"
    actions = ask(ws, id="1", type="subscribe", topic=f"{prefix}:{item},{other}", response=True)
    assert actions[:2] == [
        Subscribe(Subscription("BTC-USDT", ONE_MINUTE)),
        Subscribe(Subscription("ETH-USDT", Interval.parse("1h"))),
    ]
    assert ask(ws, type="unsubscribe", topic=f"{prefix}:{other}") == [
        Unsubscribe(Subscription("ETH-USDT", Interval.parse("1h")))
    ]


@pytest.mark.parametrize(
    ("spot_topic", "perp_topic", "code", "data_text"),
    [
        ("/market/candles:FOO-USDT_1min", "/contractMarket/limitCandle:FOOUSDTM_1min", 404,
         "topic {} is not found"),
        ("/market/candles:BTC-USDT_1m", "/contractMarket/limitCandle:XBTUSDTM_3min", 404,
         "topic {} is not found"),
        ("/contractMarket/limitCandle:XBTUSDTM_1min", "/market/candles:BTC-USDT_1min", 404,
         "topic {} is not found"),
        ("/market/ticker:BTC-USDT", "/contractMarket/ticker:XBTUSDTM", 404, "topic {} is not found"),
        ("/market/candles:BTC-USDT", "/contractMarket/limitCandle:XBTUSDTM", 400, "topic {} is invalid"),
        ("/market/candles BTC-USDT_1min", "/contractMarket/limitCandle XBTUSDTM_1min", 400,
         "topic {} is invalid"),
    ],
)
def test_topic_errors(
    plugin: Plugin, kind: str, spot_topic: str, perp_topic: str, code: int, data_text: str
) -> None:
    """A topic that names nothing served is refused with an error frame carrying the request id."""
    ws, _ = session(plugin)
    topic = spot_topic if kind == "spot" else perp_topic
    assert sent(ask(ws, id="9", type="subscribe", topic=topic, response=True)) == [
        {"id": "9", "type": "error", "code": code, "data": data_text.format(topic)}
    ]
    assert ws.topics == {}


def test_message_errors(plugin: Plugin) -> None:
    """Bad JSON, an unknown type or a missing topic get error frames; the connection stays."""
    ws, _ = session(plugin)
    assert sent(ws.on_text("{nope", NOW)) == [{"type": "error", "code": 400, "data": "invalid json format"}]
    assert sent(ws.on_text("[1]", NOW)) == [{"type": "error", "code": 400, "data": "invalid json format"}]
    assert sent(ask(ws, id="1", type="openTunnel")) == [
        {"id": "1", "type": "error", "code": 415, "data": "type is not supported"}
    ]
    assert sent(ask(ws, id="2")) == [{"id": "2", "type": "error", "code": 415, "data": "type is not supported"}]
    assert sent(ask(ws, id="3", type="subscribe")) == [
        {"id": "3", "type": "error", "code": 400, "data": "topic null is invalid"}
    ]
    assert sent(ws.on_binary(b'{"id":"4","type":"ping"}', NOW)) == [{"id": "4", "type": "pong"}]


def test_topic_limits(kind: str) -> None:
    """At most 100 items per message and 300 topics per connection (509)."""
    pairs = tuple(pair_spec(f"C{i:02d}-USDT") for i in range(30))
    model = MarketModel(pairs)
    plugin = KucoinSpot(model, pairs) if kind == "spot" else KucoinPerpetual(model, pairs)
    plugin.set_endpoints("http://127.0.0.1:9114", WS_URL)
    ws, _ = session(plugin)
    prefix = TOPIC[kind].partition(":")[0]
    items = [f"{plugin.product.symbol(p)}_{code}" for p in pairs for code in plugin.ws_types]
    assert len(items) > 300
    assert sent(ask(ws, id="1", type="subscribe", topic=f"{prefix}:{','.join(items[:101])}")) == [
        {"id": "1", "type": "error", "code": 509,
         "data": "exceed max subscription count limitation of 100 per time"}
    ]
    for block in range(3):
        topic = f"{prefix}:{','.join(items[block * 100:block * 100 + 100])}"
        assert len(ask(ws, type="subscribe", topic=topic)) == 100
    assert sent(ask(ws, id="2", type="subscribe", topic=f"{prefix}:{items[300]}")) == [
        {"id": "2", "type": "error", "code": 509,
         "data": "exceed max subscription count limitation of 300 per session"}
    ]
    assert len(ws.topics) == 300
    assert len(ask(ws, type="subscribe", topic=f"{prefix}:{items[0]}")) == 0  # already subscribed


def test_message_rate_limit(plugin: Plugin) -> None:
    """100 client messages per 10 s; the 101st gets 509 and is ignored; the window slides."""
    ws, _ = session(plugin)
    for i in range(100):
        assert sent(ask(at(ws, NOW + i), id=str(i), type="ping")) == [{"id": str(i), "type": "pong"}]
    assert sent(ask(at(ws, NOW + 100), id="x", type="ping")) == [
        {"type": "error", "code": 509, "data": "exceed max permits per 10 seconds"}
    ]
    assert sent(ask(at(ws, NOW + 10_000), id="y", type="ping")) == [{"id": "y", "type": "pong"}]


def test_idle_cut_off(plugin: Plugin) -> None:
    """Silence longer than pingInterval + pingTimeout (28 s of ticks) closes; a message resets it."""
    ws, _ = session(plugin)
    assert ws.tick_period == 1.0
    assert all(ws.on_tick(NOW) == [] for _ in range(20))
    ask(ws, id="1", type="ping")
    assert all(ws.on_tick(NOW) == [] for _ in range(28))  # market time plays no part
    assert ws.on_tick(NOW) == [Close(1000, "ping timeout")]
    assert ws.on_tick(NOW) == []


def test_push_spot() -> None:
    """A spot push: trade.candles.update with the REST row as candles and data.time in ns."""
    spot = make("spot")
    candle = spot.model.candle("BTC-USDT", ONE_MINUTE, NOW, NOW)
    assert candle is not None
    push = json.loads(spot.encode_push(Subscription("BTC-USDT", ONE_MINUTE), candle, NOW))
    assert push == {
        "type": "message",
        "topic": "/market/candles:BTC-USDT_1min",
        "subject": "trade.candles.update",
        "data": {"symbol": "BTC-USDT", "candles": spot_row(candle), "time": NOW * 1_000_000},
    }
    assert len(str(push["data"]["time"])) == 19
    assert spot.push_period(Subscription("BTC-USDT", ONE_MINUTE)) == 1.0
    assert spot.heartbeat is None and spot.farewell(NOW) is None


def test_push_perpetual() -> None:
    """A futures push: candle.stick, XBTUSDTM, seconds, strings, contracts at index 6, time in ms."""
    perp = make("perp")
    candle = perp.model.candle("BTC-USDT", Interval.parse("1h"), NOW, NOW)
    assert candle is not None
    push = json.loads(perp.encode_push(Subscription("BTC-USDT", Interval.parse("1h")), candle, NOW))
    lots = int(candle.volume / BTC.lot_size)
    assert push == {
        "type": "message",
        "topic": "/contractMarket/limitCandle:XBTUSDTM_1hour",
        "subject": "candle.stick",
        "data": {"symbol": "XBTUSDTM", "candles": [*spot_row(candle)[:5], f"{lots}.0", str(lots)],
                 "time": NOW},
    }
    assert perp.push_period(Subscription("BTC-USDT", ONE_MINUTE)) == 1.0
