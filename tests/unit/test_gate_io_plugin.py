"""Sans-IO tests of the Gate spot and USDT perpetual plugin: handlers and sessions, no sockets."""

from __future__ import annotations

import json
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeAlias

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockfeed.exchanges import ExchangeType
from mockfeed.exchanges.base import (
    Heartbeat,
    RestRequest,
    RestResponse,
    Send,
    Subscribe,
    Subscription,
    Unsubscribe,
    WsReject,
)
from mockfeed.exchanges.gate_io import GateIoPerpetual, GateIoSpot
from mockfeed.exchanges.gate_io.streams import GateSession
from mockfeed.exchanges.registry import plugin_class
from mockfeed.market import Candle, Interval, MarketModel, pair_spec

PAIRS = tuple(pair_spec(p) for p in ("BTC-USDT", "ETH-USDT", "SOL-USDT"))
BTC = PAIRS[0]
NOW = 1_767_225_617_123  # 2026-01-01T00:00:17.123Z
NOW_S = NOW // 1000
MINUTE_S = 60
SPOT_CANDLES = "/api/v4/spot/candlesticks"
FUTURES_CANDLES = "/api/v4/futures/{settle}/candlesticks"
MARKET = {"spot": "currency_pair", "perp": "contract"}
CANDLES = {"spot": SPOT_CANDLES, "perp": FUTURES_CANDLES}
MAX_POINTS = {"spot": 1000, "perp": 2000}
Plugin: TypeAlias = GateIoSpot | GateIoPerpetual


def make(kind: str, model: MarketModel | None = None) -> Plugin:
    """A fresh plugin of one product over the test pairs."""
    model = model or MarketModel(PAIRS, seed=0)
    return GateIoSpot(model, PAIRS) if kind == "spot" else GateIoPerpetual(model, PAIRS)


@pytest.fixture(params=["spot", "perp"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each Gate product in turn."""
    return str(request.param)


@pytest.fixture
def plugin(kind: str) -> Plugin:
    """A fresh plugin of the product under test."""
    return make(kind)


def call(
    plugin: Plugin,
    route: str,
    *query: tuple[str, str],
    now: int = NOW,
    client: str = "127.0.0.1",
    **path_params: str,
) -> RestResponse:
    """Run the plugin's GET handler of ``route`` (with its ``{name}`` values) on a plain request."""
    handler = plugin.routes()[("GET", route)]
    path = route.format(**path_params)
    request = RestRequest("GET", path, tuple(query), b"", now, client, path_params=MappingProxyType(path_params))
    return handler(request)


def body(response: RestResponse) -> Any:
    """The decoded JSON body."""
    return json.loads(response.body)


def candles(kind: str, *query: tuple[str, str], plugin: Plugin | None = None, now: int = NOW) -> RestResponse:
    """A candle request on the product's own endpoint for BTC_USDT plus ``query``."""
    plugin = plugin or make(kind)
    return call(plugin, CANDLES[kind], (MARKET[kind], "BTC_USDT"), *query, now=now, settle="usdt")


def assert_error(response: RestResponse, label: str, status: int = 400) -> str:
    """The response is Gate's ``{"label", "message"}`` error with ``label``; returns the message."""
    assert response.status == status
    assert response.content_type == "application/json"
    payload = body(response)
    assert set(payload) == {"label", "message"}
    assert payload["label"] == label
    assert isinstance(payload["message"], str) and payload["message"]
    return str(payload["message"])


def times(kind: str, payload: list[Any]) -> list[int]:
    """Open times (s) of a candle payload of either layout."""
    return [int(row[0]) if kind == "spot" else row["t"] for row in payload]


def fmt(value: Decimal) -> str:
    """Plain decimal notation without trailing zeros (built independently of the plugin)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def spot_row(candle: Candle) -> list[str]:
    """The 8-string spot row of a candle."""
    return [
        str(candle.open_time // 1000), fmt(candle.quote_volume), fmt(candle.close), fmt(candle.high),
        fmt(candle.low), fmt(candle.open), fmt(candle.volume), str(candle.closed).lower(),
    ]


def futures_row(candle: Candle) -> dict[str, Any]:
    """The futures candle object (one contract = one lot)."""
    return {
        "t": candle.open_time // 1000, "v": int(candle.volume / BTC.lot_size), "c": fmt(candle.close),
        "h": fmt(candle.high), "l": fmt(candle.low), "o": fmt(candle.open), "sum": fmt(candle.quote_volume),
    }


ROW = {"spot": spot_row, "perp": futures_row}


# -- registry, product data ------------------------------------------------------------------------


def test_registry_serves_both_products() -> None:
    """The registry's names resolve to the two plugin classes."""
    assert plugin_class(ExchangeType.GATE_IO_SPOT) is GateIoSpot
    assert plugin_class(ExchangeType.GATE_IO_PERPETUAL) is GateIoPerpetual
    assert make("spot").exchange is ExchangeType.GATE_IO_SPOT
    assert make("perp").exchange is ExchangeType.GATE_IO_PERPETUAL


def test_heartbeat_cadence_and_farewell(plugin: Plugin) -> None:
    """Protocol pings every 20 s (30 s for the pong), pushes every 2 s, no shutdown message."""
    assert plugin.heartbeat == Heartbeat(interval=20.0, timeout=30.0)
    assert plugin.push_period(Subscription("BTC-USDT", Interval.parse("1m"))) == 2.0
    assert plugin.farewell(NOW) is None


# -- candles: layout and selection -----------------------------------------------------------------


def test_latest_candles_default_to_100_of_30m(kind: str) -> None:
    """No interval and no limit: the last 100 half-hours, oldest first, the forming one last."""
    model = MarketModel(PAIRS, seed=0)
    response = candles(kind, plugin=make(kind, model))
    assert response.status == 200
    payload = body(response)
    expected = model.candles("BTC-USDT", Interval.parse("30m"), now_ms=NOW, limit=100)
    assert payload == [ROW[kind](c) for c in expected]
    assert times(kind, payload)[-1] == NOW_S // 1800 * 1800


def test_spot_row_layout() -> None:
    """Spot rows are 8 strings: t, quote volume, close, high, low, open, base volume, closed flag."""
    payload = body(candles("spot", ("interval", "1m"), ("limit", "3")))
    assert all(len(row) == 8 and all(isinstance(x, str) for x in row) for row in payload)
    assert [row[7] for row in payload] == ["true", "true", "false"]
    assert [int(row[0]) for row in payload] == [NOW_S // 60 * 60 - 120, NOW_S // 60 * 60 - 60, NOW_S // 60 * 60]


def test_futures_object_layout() -> None:
    """Futures candles are objects: t and v (whole contracts) numbers, prices and sum strings."""
    payload = body(candles("perp", ("interval", "1m"), ("limit", "3")))
    for row in payload:
        assert list(row) == ["t", "v", "c", "h", "l", "o", "sum"]
        assert isinstance(row["t"], int) and isinstance(row["v"], int)
        assert all(isinstance(row[k], str) for k in ("c", "h", "l", "o", "sum"))
        assert Decimal(row["l"]) <= min(Decimal(row["o"]), Decimal(row["c"]))


def test_from_to_selects_inclusive_seconds(kind: str) -> None:
    """from/to are seconds; candles opening in [from, to] are served; an unaligned from skips ahead."""
    model = MarketModel(PAIRS, seed=0)
    start = NOW_S // 60 * 60 - 50 * MINUTE_S
    response = candles(
        kind, ("interval", "1m"), ("from", str(start + 1)), ("to", str(start + 10 * MINUTE_S)),
        plugin=make(kind, model),
    )
    payload = body(response)
    assert times(kind, payload) == [start + i * MINUTE_S for i in range(1, 11)]
    expected = model.candles(
        "BTC-USDT", Interval.parse("1m"), now_ms=NOW, limit=10, start_ms=(start + 60) * 1000
    )
    assert payload == [ROW[kind](c) for c in expected]


def test_from_without_to_runs_to_now(kind: str) -> None:
    """``to`` defaults to now: the forming candle closes the list."""
    start = NOW_S // 60 * 60 - 5 * MINUTE_S
    payload = body(candles(kind, ("interval", "1m"), ("from", str(start))))
    assert times(kind, payload) == [start + i * MINUTE_S for i in range(6)]


def test_to_with_limit_counts_back(kind: str) -> None:
    """Without ``from``, ``limit`` candles end at ``to`` (ccxt's ``until``)."""
    end = NOW_S // 60 * 60 - 30 * MINUTE_S
    payload = body(candles(kind, ("interval", "1m"), ("to", str(end + 59)), ("limit", "5")))
    assert times(kind, payload) == [end - (4 - i) * MINUTE_S for i in range(5)]


def test_from_in_the_future_is_empty(kind: str) -> None:
    """A range that starts after now holds nothing."""
    response = candles(kind, ("interval", "1m"), ("from", str(NOW_S + 600)))
    assert response.status == 200 and body(response) == []


def test_ccxt_since_page_is_exactly_max_points(kind: str) -> None:
    """ccxt sends from and to = from + (limit - 1) * interval: exactly ``max_points`` candles."""
    limit = MAX_POINTS[kind]
    start = NOW_S // 60 * 60 - 5000 * MINUTE_S
    payload = body(candles(kind, ("interval", "1m"), ("from", str(start)), ("to", str(start + (limit - 1) * 60))))
    assert times(kind, payload) == [start + i * MINUTE_S for i in range(limit)]


def test_range_too_broad(kind: str) -> None:
    """One point more than the maximum is refused with Gate's wording."""
    limit = MAX_POINTS[kind]
    start = NOW_S // 60 * 60 - 5000 * MINUTE_S
    response = candles(kind, ("interval", "1m"), ("from", str(start)), ("to", str(start + limit * 60)))
    message = assert_error(response, "INVALID_PARAM_VALUE")
    assert message == f"Candlestick range too broad. Maximum {limit} data points are allowed per request"


@pytest.mark.parametrize(("kind", "word"), [("spot", "ago"), ("perp", "recently")])
def test_only_the_last_10000_points_are_reachable(kind: str, word: str) -> None:
    """The oldest reachable 1m candle is 9999 minutes back; one more is refused."""
    oldest = NOW_S // 60 * 60 - 9999 * MINUTE_S
    ok = candles(kind, ("interval", "1m"), ("from", str(oldest)), ("to", str(oldest + 60)))
    assert times(kind, body(ok)) == [oldest, oldest + 60]
    too_old = candles(kind, ("interval", "1m"), ("from", str(oldest - 60)), ("to", str(oldest)))
    message = assert_error(too_old, "INVALID_PARAM_VALUE")
    assert message == f"Candlestick too long ago. Maximum 10000 points {word} are allowed"
    by_limit = candles(kind, ("interval", "1m"), ("to", str(oldest + 60)), ("limit", "3"))
    assert assert_error(by_limit, "INVALID_PARAM_VALUE") == message


def test_limit_bounds(kind: str) -> None:
    """limit runs 1..max; outside, or malformed, it is refused naming the value."""
    assert len(body(candles(kind, ("interval", "1m"), ("limit", str(MAX_POINTS[kind]))))) == MAX_POINTS[kind]
    for bad in ("0", str(MAX_POINTS[kind] + 1), "-1", "1.5", "ten"):
        message = assert_error(candles(kind, ("limit", bad)), "INVALID_PARAM_VALUE")
        assert message == f"Invalid request parameter `limit` value: {bad}"


def test_limit_next_to_from() -> None:
    """Spot ignores a limit next to from; futures refuses it."""
    start = NOW_S // 60 * 60 - 10 * MINUTE_S
    spot = candles("spot", ("interval", "1m"), ("from", str(start)), ("limit", "2"))
    assert len(body(spot)) == 11
    perp = candles("perp", ("interval", "1m"), ("from", str(start)), ("limit", "2"))
    assert assert_error(perp, "INVALID_PARAM_VALUE") == "Invalid request parameter `limit` value: 2"


@pytest.mark.parametrize("name", ["from", "to"])
@pytest.mark.parametrize("bad", ["-5", "1.5e9", "yesterday", "9" * 19])
def test_malformed_times(kind: str, name: str, bad: str) -> None:
    """from/to must be integer seconds."""
    message = assert_error(candles(kind, (name, bad)), "INVALID_PARAM_VALUE")
    assert message == f"Invalid request parameter `{name}` value: {bad}"


@pytest.mark.parametrize("code", ["30d", "7d", "10s"])
def test_far_future_times_are_not_an_error(kind: str, code: str) -> None:
    """Times up to 18 digits are valid integers: far-future ranges hold nothing (or are too broad)."""
    far = "999999999999999999"
    assert body(candles(kind, ("interval", code), ("from", far))) == []
    assert body(candles(kind, ("interval", code), ("from", far), ("to", far))) == []
    latest = candles(kind, ("interval", code), ("to", far), ("limit", "2"))
    assert len(body(latest)) == 2
    broad = candles(kind, ("interval", code), ("from", str(NOW_S)), ("to", far))
    assert_error(broad, "INVALID_PARAM_VALUE")


def test_to_before_from_is_empty(kind: str) -> None:
    """A reversed range holds nothing (ccxt ends a since-pagination past now with one)."""
    response = candles(kind, ("interval", "1m"), ("from", str(NOW_S + 60)), ("to", str(NOW_S)))
    assert response.status == 200 and body(response) == []
    response = candles(kind, ("from", str(NOW_S - 600)), ("to", str(NOW_S - 1200)))
    assert response.status == 200 and body(response) == []


@pytest.mark.parametrize(
    ("kind", "code", "ok"),
    [
        ("spot", "1s", True), ("spot", "10s", True), ("spot", "30d", True), ("spot", "1w", False),
        ("spot", "3m", False), ("spot", "1M", False), ("perp", "1s", False), ("perp", "10s", True),
        ("perp", "1w", True), ("perp", "30d", True), ("perp", "2h", False), ("perp", "1m ", False),
    ],
)
def test_interval_codes(kind: str, code: str, ok: bool) -> None:
    """Each endpoint takes its own enum; anything else is INVALID_PARAM_VALUE naming the value."""
    response = candles(kind, ("interval", code), ("limit", "2"))
    if ok:
        assert response.status == 200 and len(body(response)) == 2
    else:
        assert assert_error(response, "INVALID_PARAM_VALUE") == f"Invalid request parameter `interval` value: {code}"


def test_week_and_month_alignment(kind: str) -> None:
    """7d counts weeks from the epoch (a Thursday); 30d is the calendar month; futures 1w starts Mondays."""
    week = 7 * 86_400
    assert all(t % week == 0 for t in times(kind, body(candles(kind, ("interval", "7d"), ("limit", "3")))))
    months = times(kind, body(candles(kind, ("interval", "30d"), ("limit", "3"))))
    assert months == [1761955200, 1764547200, 1767225600]  # 2025-11-01, 2025-12-01, 2026-01-01
    if kind == "perp":
        mondays = times(kind, body(candles(kind, ("interval", "1w"), ("limit", "3"))))
        assert all((t - 4 * 86_400) % week == 0 for t in mondays)


def test_futures_timezone() -> None:
    """timezone=utc8 moves day boundaries to 16:00 UTC; unknown zones are refused."""
    utc8 = times("perp", body(candles("perp", ("interval", "1d"), ("limit", "2"), ("timezone", "utc8"))))
    assert all(t % 86_400 == 16 * 3600 for t in utc8)
    utc0 = times("perp", body(candles("perp", ("interval", "1d"), ("limit", "2"), ("timezone", "utc0"))))
    assert all(t % 86_400 == 0 for t in utc0)
    response = candles("perp", ("timezone", "utc9"))
    assert assert_error(response, "INVALID_PARAM_VALUE") == "Invalid request parameter `timezone` value: utc9"


def test_missing_and_unknown_markets() -> None:
    """Missing market parameter, unknown names, and the market type a product does not serve."""
    spot, perp = make("spot"), make("perp")
    missing = call(spot, SPOT_CANDLES, ("interval", "1m"))
    assert assert_error(missing, "MISSING_REQUIRED_PARAM") == "Missing required parameter: currency_pair"
    empty = call(perp, FUTURES_CANDLES, ("contract", ""), settle="usdt")
    assert assert_error(empty, "MISSING_REQUIRED_PARAM") == "Missing required parameter: contract"
    unknown = call(spot, SPOT_CANDLES, ("currency_pair", "BTCUSDT"))
    assert assert_error(unknown, "INVALID_CURRENCY_PAIR") == "Invalid currency pair BTCUSDT"
    # Each product lists the pairs in one market only.
    assert_error(call(perp, SPOT_CANDLES, ("currency_pair", "BTC_USDT")), "INVALID_CURRENCY_PAIR")
    assert_error(call(spot, FUTURES_CANDLES, ("contract", "BTC_USDT"), settle="usdt"), "CONTRACT_NOT_FOUND")
    assert_error(call(perp, FUTURES_CANDLES, ("contract", "BTC_USDT"), settle="btc"), "CONTRACT_NOT_FOUND")
    bad_settle = call(perp, FUTURES_CANDLES, ("contract", "BTC_USDT"), settle="eth")
    assert assert_error(bad_settle, "INVALID_PARAM_VALUE") == "Invalid request parameter `settle` value: eth"


def test_repeated_parameter_takes_the_first() -> None:
    """A repeated parameter counts once, by its first value."""
    payload = body(candles("spot", ("interval", "1m"), ("interval", "bogus"), ("limit", "2"), ("limit", "x")))
    assert len(payload) == 2 and int(payload[1][0]) - int(payload[0][0]) == 60


# -- metadata -------------------------------------------------------------------------------------


def test_server_time(plugin: Plugin) -> None:
    """/spot/time is the server clock in ms (both products: ccxt's fetch_time always asks spot)."""
    assert body(call(plugin, "/api/v4/spot/time")) == {"server_time": NOW}


def test_listings_hold_the_pairs_in_one_market(kind: str, plugin: Plugin) -> None:
    """Spot lists currency pairs and no contracts; the perpetual the reverse; the rest is empty."""
    pairs = body(call(plugin, "/api/v4/spot/currency_pairs"))
    contracts = body(call(plugin, "/api/v4/futures/{settle}/contracts", settle="usdt"))
    names = ["BTC_USDT", "ETH_USDT", "SOL_USDT"]
    assert [p["id"] for p in pairs] == (names if kind == "spot" else [])
    assert [c["name"] for c in contracts] == ([] if kind == "spot" else names)
    for route, settle in [
        ("/api/v4/margin/currency_pairs", ""),
        ("/api/v4/futures/{settle}/contracts", "btc"),
        ("/api/v4/delivery/{settle}/contracts", "usdt"),
        ("/api/v4/delivery/{settle}/contracts", "btc"),
        ("/api/v4/options/underlyings", ""),
    ]:
        response = call(plugin, route, settle=settle)
        assert response.status == 200 and body(response) == [], route
    assert body(call(plugin, "/api/v4/options/contracts", ("underlying", "BTC_USDT"))) == []
    assert_error(call(plugin, "/api/v4/options/contracts"), "MISSING_REQUIRED_PARAM")
    assert_error(call(plugin, "/api/v4/delivery/{settle}/contracts", settle="xyz"), "INVALID_PARAM_VALUE")


def test_currency_pair_fields() -> None:
    """The fields ccxt reads: id, trade_status, precisions as decimal places, fee in percent."""
    [btc] = [p for p in body(call(make("spot"), "/api/v4/spot/currency_pairs")) if p["id"] == "BTC_USDT"]
    assert btc["base"] == "BTC" and btc["quote"] == "USDT" and btc["trade_status"] == "tradable"
    assert btc["precision"] == 2 and btc["amount_precision"] == 5 and btc["min_base_amount"] == "0.00001"
    single = call(make("spot"), "/api/v4/spot/currency_pairs/{currency_pair}", currency_pair="BTC_USDT")
    assert body(single) == btc
    unknown = call(make("spot"), "/api/v4/spot/currency_pairs/{currency_pair}", currency_pair="DOGE_USDT")
    assert assert_error(unknown, "INVALID_CURRENCY_PAIR") == "Invalid currency pair DOGE_USDT"


def test_contract_fields() -> None:
    """One contract is one lot; the mark price is the model's price now."""
    model = MarketModel(PAIRS, seed=0)
    perp = make("perp", model)
    btc = body(call(perp, "/api/v4/futures/{settle}/contracts/{contract}", settle="usdt", contract="BTC_USDT"))
    now_candle = model.candle("BTC-USDT", Interval.parse("1m"), NOW, NOW)
    assert now_candle is not None
    assert btc["name"] == "BTC_USDT" and btc["status"] == "trading" and btc["type"] == "direct"
    assert btc["quanto_multiplier"] == "0.00001" and btc["order_price_round"] == "0.01"
    assert Decimal(btc["mark_price"]) == now_candle.close
    assert btc["funding_next_apply"] % (8 * 3600) == 0 and btc["funding_next_apply"] > NOW_S
    missing = call(perp, "/api/v4/futures/{settle}/contracts/{contract}", settle="usdt", contract="BTC_USD")
    assert assert_error(missing, "CONTRACT_NOT_FOUND")


def test_currencies(plugin: Plugin) -> None:
    """Every base and quote once, looked up singly too; unknown ones are INVALID_CURRENCY."""
    listed = body(call(plugin, "/api/v4/spot/currencies"))
    assert [c["currency"] for c in listed] == ["BTC", "USDT", "ETH", "SOL"]
    assert all(c["delisted"] is False and c["chains"] == [] for c in listed)
    assert body(call(plugin, "/api/v4/spot/currencies/{currency}", currency="ETH")) == listed[2]
    unknown = call(plugin, "/api/v4/spot/currencies/{currency}", currency="XYZ")
    assert assert_error(unknown, "INVALID_CURRENCY") == "Invalid currency XYZ"


def test_unrouted_answers(plugin: Plugin) -> None:
    """Unknown path, wrong method and internal failures keep Gate's error envelope."""
    request = RestRequest("GET", "/api/v4/nope", (), b"", NOW)
    assert_error(plugin.not_found(request), "NOT_FOUND", 404)
    assert_error(plugin.method_not_allowed(request), "METHOD_NOT_ALLOWED", 405)
    assert_error(plugin.internal_error(request), "SERVER_ERROR", 500)


def test_rate_limit_headers_per_endpoint_and_window(plugin: Plugin) -> None:
    """200 requests per 10 s per endpoint and IP, counted down on every answer, errors included."""

    def headers(route: str, now: int, client: str = "1.1.1.1") -> dict[str, str]:
        return dict(call(plugin, route, now=now, client=client).headers)

    first = headers(SPOT_CANDLES, NOW)  # an error answer (no currency_pair) still counts
    assert first == {
        "X-Gate-RateLimit-Requests-Remain": "199",
        "X-Gate-RateLimit-Limit": "200",
        "X-Gate-RateLimit-Reset-Timestamp": str((NOW // 10_000 + 1) * 10),
    }
    assert headers(SPOT_CANDLES, NOW + 1)["X-Gate-RateLimit-Requests-Remain"] == "198"
    assert headers("/api/v4/spot/time", NOW)["X-Gate-RateLimit-Requests-Remain"] == "199"
    assert headers(SPOT_CANDLES, NOW, client="2.2.2.2")["X-Gate-RateLimit-Requests-Remain"] == "199"
    later = NOW // 10_000 * 10_000 + 10_000
    assert headers(SPOT_CANDLES, later)["X-Gate-RateLimit-Requests-Remain"] == "199"


_FUZZ_PLUGINS = {"spot": make("spot"), "perp": make("perp")}
_values = st.one_of(
    st.sampled_from(["", "0", "1", "100", "1000", "2000", "2001", "-1", "1.5", "abc", "1m", "30d", "7d", "1w",
                     "utc8", "999999999999999999", "32503680001"]),
    st.integers(min_value=0, max_value=2 * NOW_S).map(str),
    st.integers(min_value=NOW_S - 3_000_000, max_value=NOW_S + 100_000).map(str),
    st.text(max_size=12),
)
_names = st.sampled_from(
    ["interval", "from", "to", "limit", "timezone", "currency_pair", "contract", "settle", "x"]
)


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["spot", "perp"]),
    market=st.sampled_from(["BTC_USDT", "ETH_USDT", "BTC_USD", "", "btc_usdt"]),
    settle=st.sampled_from(["usdt", "btc", "eth"]),
    query=st.lists(st.tuples(_names, _values), max_size=6),
)
def test_fuzz_candle_query(kind: str, market: str, settle: str, query: list[tuple[str, str]]) -> None:
    """Any candle query answers 200 with a list of rows or 4xx with Gate's error envelope."""
    response = call(_FUZZ_PLUGINS[kind], CANDLES[kind], (MARKET[kind], market), *query, settle=settle)
    payload = body(response)
    if response.status == 200:
        assert isinstance(payload, list) and len(payload) <= MAX_POINTS[kind]
        assert times(kind, payload) == sorted(set(times(kind, payload)))
        return
    assert response.status == 400
    assert set(payload) == {"label", "message"}
    assert payload["label"] in {"INVALID_PARAM_VALUE", "MISSING_REQUIRED_PARAM", "INVALID_CURRENCY_PAIR",
                                "CONTRACT_NOT_FOUND"}


# -- WebSocket sessions -----------------------------------------------------------------------------

PREFIX = {"spot": "spot", "perp": "futures"}
WS_PATH = {"spot": "/ws/v4/", "perp": "/v4/ws/usdt"}


def session(kind: str, plugin: Plugin | None = None) -> GateSession:
    """A session on the product's WebSocket path."""
    opened = (plugin or make(kind)).open_session(WS_PATH[kind], "")
    assert isinstance(opened, GateSession)
    return opened


def request(channel: str, event: str, payload: Any = None, request_id: Any = 7) -> str:
    """A client request as ccxt writes it."""
    message: dict[str, Any] = {"id": request_id, "time": NOW_S, "channel": channel, "event": event}
    if payload is not None:
        message["payload"] = payload
    return json.dumps(message)


def decoded(action: Any) -> Any:
    """The JSON of a Send action."""
    assert isinstance(action, Send)
    assert isinstance(action.message, str)
    return json.loads(action.message)


def test_ws_paths(kind: str, plugin: Plugin) -> None:
    """Each product serves its own WebSocket path; others are refused with 404."""
    assert isinstance(plugin.open_session(WS_PATH[kind], ""), GateSession)
    other = WS_PATH["perp" if kind == "spot" else "spot"]
    for path in (other, "/", "/v4/ws/btc", "/v4/ws/delivery/usdt"):
        refused = plugin.open_session(path, "")
        assert isinstance(refused, WsReject) and refused.status == 404
    assert isinstance(make("spot").open_session("/ws/v4", ""), GateSession)
    assert isinstance(make("perp").open_session("/v4/ws/futures/usdt", ""), GateSession)


def test_subscribe_ack_and_unsubscribe(kind: str) -> None:
    """subscribe starts the stream and acks in Gate's layout; unsubscribe stops it and acks."""
    ws = session(kind)
    channel = f"{PREFIX[kind]}.candlesticks"
    sub = Subscription("BTC-USDT", Interval.parse("1m"))
    first, ack = ws.on_text(request(channel, "subscribe", ["1m", "BTC_USDT"]), NOW)
    assert first == Subscribe(sub)
    reply = decoded(ack)
    assert list(reply) == ["time", "time_ms", "id", "conn_id", "trace_id", "channel", "event", "payload",
                           "result", "requestId"]
    assert reply["time"] == NOW_S and reply["time_ms"] == NOW and reply["id"] == 7
    assert reply["channel"] == channel and reply["event"] == "subscribe"
    assert reply["payload"] == ["1m", "BTC_USDT"] and reply["result"] == {"status": "success"}
    assert reply["requestId"] == reply["trace_id"] and len(reply["trace_id"]) == 32
    assert reply["conn_id"] == ws.conn_id and len(ws.conn_id) == 16
    # Subscribing again changes nothing but is acknowledged.
    [again] = ws.on_text(request(channel, "subscribe", ["1m", "BTC_USDT"], 8), NOW)
    assert decoded(again)["result"] == {"status": "success"} and decoded(again)["trace_id"] != reply["trace_id"]
    stop, stop_ack = ws.on_text(request(channel, "unsubscribe", ["1m", "BTC_USDT"], 9), NOW)
    assert stop == Unsubscribe(sub)
    assert decoded(stop_ack)["event"] == "unsubscribe" and decoded(stop_ack)["result"] == {"status": "success"}
    [idle] = ws.on_text(request(channel, "unsubscribe", ["1m", "BTC_USDT"], 10), NOW)
    assert decoded(idle)["result"] == {"status": "success"}


def test_connections_get_distinct_ids(plugin: Plugin, kind: str) -> None:
    """conn_id differs per connection."""
    assert session(kind, plugin).conn_id != session(kind, plugin).conn_id


def test_intervals_are_distinct_streams(kind: str) -> None:
    """Two intervals of a pair are two subscriptions; 7d maps to the epoch-aligned week."""
    ws = session(kind)
    channel = f"{PREFIX[kind]}.candlesticks"
    a = ws.on_text(request(channel, "subscribe", ["10s", "ETH_USDT"]), NOW)[0]
    b = ws.on_text(request(channel, "subscribe", ["7d", "ETH_USDT"]), NOW)[0]
    assert isinstance(a, Subscribe) and isinstance(b, Subscribe)
    assert a.subscription.interval == Interval.parse("10s")
    assert b.subscription.interval.floor(NOW) % (7 * 86_400_000) == 0


@pytest.mark.parametrize(
    ("kind", "text", "code", "message"),
    [
        ("spot", "not json", 1, "Invalid request body format"),
        ("perp", "not json", 1, "invalid argument struct"),
        ("spot", "[1, 2]", 1, "Invalid request body format"),
        ("spot", request("spot.candlesticks", "subscribe", ["1m", "BTC_USDT"], "7"), 1,
         "Invalid request body format"),
        ("perp", '{"time": "now", "channel": "futures.ping"}', 1, "invalid argument struct"),
        ("spot", request("spot.candlesticks", "subscribe", {"interval": "1m"}), 1, "Invalid request body format"),
        ("spot", request("spot.candlesticks", "subscribe", ["1m"]), 2, "Invalid argument provided"),
        ("perp", request("futures.candlesticks", "subscribe", ["1m", 5]), 2, "invalid argument"),
        ("spot", request("spot.candlesticks", "subscribe", ["1m", "FOO_USDT"]), 2,
         "unknown currency pair: FOO_USDT"),
        ("perp", request("futures.candlesticks", "subscribe", ["1m", "BTC_USDT_20991231"]), 2,
         "unknown contract BTC_USDT_20991231"),
        ("spot", request("spot.candlesticks", "subscribe", ["1s", "BTC_USDT"]), 2, "unknown interval: 1s"),
        ("perp", request("futures.candlesticks", "subscribe", ["30d", "BTC_USDT"]), 2, "unknown interval 30d"),
        ("spot", request("spot.candlesticks", "update", ["1m", "BTC_USDT"]), 2, "unknown event update"),
        ("spot", request("futures.candlesticks", "subscribe", ["1m", "BTC_USDT"]), 2,
         "unknown channel: futures.candlesticks"),
        ("perp", request("futures.tickers", "subscribe", ["BTC_USDT"]), 2, "unknown channel futures.tickers"),
    ],
)
def test_refusals(kind: str, text: str, code: int, message: str) -> None:
    """Malformed requests get an error frame (code 1 struct, 2 argument) and change nothing."""
    ws = session(kind)
    [reply] = ws.on_text(text, NOW)
    frame = decoded(reply)
    assert frame["error"] == {"code": code, "message": message}
    assert frame["result"] == {"status": "fail"}
    assert ws.subscribed == {}


def test_refusal_echoes_the_request() -> None:
    """An error frame carries the request's id, channel, event and payload, as ccxt routes it."""
    [reply] = session("spot").on_text(request("spot.candlesticks", "subscribe", ["1m", "X_Y"], 42), NOW)
    frame = decoded(reply)
    assert frame["id"] == 42 and frame["channel"] == "spot.candlesticks" and frame["event"] == "subscribe"
    assert frame["payload"] == ["1m", "X_Y"] and frame["requestId"] == frame["trace_id"]


def test_application_ping(kind: str) -> None:
    """<prefix>.ping answers <prefix>.pong with an empty event and null result, echoing id."""
    ws = session(kind)
    [pong] = ws.on_text(json.dumps({"time": NOW_S, "channel": f"{PREFIX[kind]}.ping"}), NOW)
    assert decoded(pong) == {"time": NOW_S, "time_ms": NOW, "channel": f"{PREFIX[kind]}.pong", "event": "",
                             "error": None, "result": None}
    [with_id] = ws.on_text(json.dumps({"id": 3, "channel": f"{PREFIX[kind]}.ping"}), NOW)
    assert decoded(with_id)["id"] == 3


def test_binary_frames_are_read_as_text(kind: str) -> None:
    """A binary frame holding a request is handled like text."""
    [pong] = session(kind).on_binary(json.dumps({"channel": f"{PREFIX[kind]}.ping"}).encode(), NOW)
    assert decoded(pong)["channel"] == f"{PREFIX[kind]}.pong"


def test_spot_push_layout() -> None:
    """Spot pushes one object: strings but w, v the quote and a the base volume, n = interval_pair."""
    model = MarketModel(PAIRS, seed=0)
    plugin = make("spot", model)
    candle = model.candle("BTC-USDT", Interval.parse("1m"), NOW, NOW)
    assert candle is not None
    push = json.loads(plugin.encode_push(Subscription("BTC-USDT", Interval.parse("1m")), candle, NOW))
    assert push == {
        "time": NOW_S, "time_ms": NOW, "channel": "spot.candlesticks", "event": "update",
        "result": {
            "t": str(candle.open_time // 1000), "v": fmt(candle.quote_volume), "c": fmt(candle.close),
            "h": fmt(candle.high), "l": fmt(candle.low), "o": fmt(candle.open), "n": "1m_BTC_USDT",
            "a": fmt(candle.volume), "w": False,
        },
    }


def test_futures_push_layout() -> None:
    """Futures pushes a list: t and v (contracts) numbers, a the base amount, w the close flag."""
    model = MarketModel(PAIRS, seed=0)
    plugin = make("perp", model)
    week = plugin.product.stream.intervals["7d"]
    candle = model.candle("BTC-USDT", week, NOW - 30 * 86_400_000, NOW)
    assert candle is not None and candle.closed
    push = json.loads(plugin.encode_push(Subscription("BTC-USDT", week), candle, NOW))
    assert push["channel"] == "futures.candlesticks" and push["event"] == "update"
    [result] = push["result"]
    assert result == {
        "t": candle.open_time // 1000, "v": int(candle.volume / BTC.lot_size), "c": fmt(candle.close),
        "h": fmt(candle.high), "l": fmt(candle.low), "o": fmt(candle.open), "n": "7d_BTC_USDT",
        "a": fmt(candle.volume), "w": True,
    }


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=30, deadline=None, database=None)
@given(
    kind=st.sampled_from(["spot", "perp"]),
    text=st.one_of(
        st.text(max_size=40),
        _json_values.map(json.dumps),
        st.fixed_dictionaries(
            {
                "channel": st.sampled_from(["spot.candlesticks", "futures.candlesticks", "spot.ping",
                                            "futures.ping", "spot.trades"]),
                "event": st.sampled_from(["subscribe", "unsubscribe", "update", ""]),
                "payload": st.lists(st.sampled_from(["1m", "10s", "7d", "BTC_USDT", "ETH_USDT", "X"]),
                                    max_size=3),
                "id": st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text(max_size=3),
            }
        ).map(json.dumps),
    ),
)
def test_fuzz_session_messages(kind: str, text: str) -> None:
    """Any text gets exactly one JSON reply (an ack, an error frame or a pong) and never an exception."""
    actions = session(kind).on_text(text, NOW)
    sends = [a for a in actions if isinstance(a, Send)]
    assert len(sends) == 1 and actions[-1] is sends[0]
    reply = decoded(sends[0])
    assert reply["time_ms"] == NOW
    if reply["channel"].endswith(".pong"):
        assert reply["result"] is None
    elif "error" in reply:
        assert reply["error"]["code"] in (1, 2) and reply["result"] == {"status": "fail"}
        assert actions == sends
    else:
        assert reply["result"] == {"status": "success"}
        assert all(isinstance(a, Subscribe | Unsubscribe) for a in actions[:-1])
