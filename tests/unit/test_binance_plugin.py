"""Sans-IO tests of the Binance spot and USDⓈ-M perpetual plugin: handlers and sessions, no sockets."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockfeed.exchanges.base import (
    ExchangePlugin,
    Heartbeat,
    RestRequest,
    RestResponse,
    Send,
    Subscribe,
    Subscription,
    Unsubscribe,
    WsReject,
)
from mockfeed.exchanges.binance import BinancePerpetual, BinanceSpot
from mockfeed.exchanges.binance.streams import BinanceSession
from mockfeed.market import Candle, Interval, MarketModel, PairSpec, pair_spec

PAIRS = tuple(pair_spec(p) for p in ("BTC-USDT", "ETH-USDT", "SOL-USDT"))
NOW = 1_767_225_617_123  # 2026-01-01T00:00:17.123Z
MINUTE = 60_000
HISTORY_START = 1_483_228_800_000  # 2017-01-01, the model's first candle
WEIGHT = "X-MBX-USED-WEIGHT-1M"

SPOT = "/api/v3"
PERP = "/fapi/v1"
PREFIX = {"spot": SPOT, "perp": PERP}
MAX_LIMIT = {"spot": 1000, "perp": 1500}


def make(kind: str, model: MarketModel | None = None) -> BinanceSpot | BinancePerpetual:
    """A fresh plugin of one product over the default test pairs."""
    model = model or MarketModel(PAIRS, seed=0)
    return BinanceSpot(model, PAIRS) if kind == "spot" else BinancePerpetual(model, PAIRS)


@pytest.fixture(params=["spot", "perp"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each Binance product in turn."""
    return str(request.param)


@pytest.fixture
def plugin(kind: str) -> BinanceSpot | BinancePerpetual:
    """A fresh plugin of the product under test."""
    return make(kind)


def call(
    plugin: ExchangePlugin,
    path: str,
    *query: tuple[str, str],
    now: int = NOW,
    client: str = "127.0.0.1",
) -> RestResponse:
    """Run the plugin's GET handler for ``path`` on a plain request."""
    handler = plugin.routes()[("GET", path)]
    return handler(RestRequest("GET", path, tuple(query), b"", now, client, wall_ms=now))


def body(response: RestResponse) -> Any:
    """The decoded JSON body."""
    return json.loads(response.body)


def used(response: RestResponse) -> int:
    """The X-MBX-USED-WEIGHT-1M header value."""
    return int(dict(response.headers)[WEIGHT])


def places(kind: str, pair: PairSpec) -> tuple[int, int, int]:
    """Decimal places of (price, base volume, quote volume) on the wire for a product."""
    if kind == "spot":
        return 8, 8, 8
    return pair.price_decimals, pair.volume_decimals, pair.quote_decimals


def row(candle: Candle, kind: str, pair: PairSpec) -> list[object]:
    """The 12-field kline row a candle should be served as (built independently of the plugin)."""
    p, v, q = places(kind, pair)

    def f(x: Decimal, n: int) -> str:
        return f"{x:.{n}f}"

    return [
        candle.open_time,
        f(candle.open, p),
        f(candle.high, p),
        f(candle.low, p),
        f(candle.close, p),
        f(candle.volume, v),
        candle.close_time,
        f(candle.quote_volume, q),
        candle.trades,
        f(candle.taker_buy_volume, v),
        f(candle.taker_buy_quote_volume, q),
        "0",
    ]


def assert_error(response: RestResponse, code: int, status: int = 400) -> str:
    """The response is Binance's native error envelope with ``code``; returns the message."""
    assert response.status == status
    payload = body(response)
    assert set(payload) == {"code", "msg"}
    assert payload["code"] == code
    assert isinstance(payload["msg"], str) and payload["msg"]
    return str(payload["msg"])


def assert_well_formed(response: RestResponse) -> None:
    """200 with a JSON list, or 4xx with ``{"code": <negative int>, "msg": <str>}``."""
    payload = body(response)
    if response.status == 200:
        assert isinstance(payload, list)
        return
    assert 400 <= response.status < 500, response.status
    assert set(payload) == {"code", "msg"}
    assert isinstance(payload["code"], int) and not isinstance(payload["code"], bool)
    assert payload["code"] < 0
    assert isinstance(payload["msg"], str)


# -- ping / time / exchangeInfo ----------------------------------------------------------------------


def test_ping_answers_empty_object(plugin: BinanceSpot, kind: str) -> None:
    """/ping answers {} with status 200 and a weight header."""
    response = call(plugin, f"{PREFIX[kind]}/ping")
    assert response.status == 200
    assert body(response) == {}
    assert used(response) == 1


def test_time_answers_server_time(plugin: BinanceSpot, kind: str) -> None:
    """/time answers the request's clock as serverTime."""
    response = call(plugin, f"{PREFIX[kind]}/time")
    assert response.status == 200
    assert body(response) == {"serverTime": NOW}


def test_exchange_info_lists_configured_pairs(plugin: BinanceSpot, kind: str) -> None:
    """exchangeInfo lists every configured pair with assets, TRADING status and filters."""
    response = call(plugin, f"{PREFIX[kind]}/exchangeInfo")
    assert response.status == 200
    info = body(response)
    assert info["timezone"] == "UTC"
    assert info["serverTime"] == NOW
    assert info["exchangeFilters"] == []
    weight_limit = {r["rateLimitType"]: r["limit"] for r in info["rateLimits"]}["REQUEST_WEIGHT"]
    assert weight_limit == (6000 if kind == "spot" else 2400)
    symbols = {s["symbol"]: s for s in info["symbols"]}
    assert list(symbols) == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    for pair in PAIRS:
        entry = symbols[pair.base + pair.quote]
        assert entry["baseAsset"] == pair.base
        assert entry["quoteAsset"] == pair.quote
        assert entry["status"] == "TRADING"
        filters = {f["filterType"]: f for f in entry["filters"]}
        assert Decimal(filters["PRICE_FILTER"]["tickSize"]) == pair.tick_size
        assert Decimal(filters["LOT_SIZE"]["stepSize"]) == pair.lot_size
        if kind == "spot":
            assert "NOTIONAL" in filters
            assert entry["permissionSets"] == [["SPOT"]]
        else:
            assert "MIN_NOTIONAL" in filters
            assert entry["contractType"] == "PERPETUAL"
            assert entry["deliveryDate"] == 4133404800000
            assert entry["marginAsset"] == pair.quote
            assert entry["pair"] == pair.base + pair.quote
            assert entry["pricePrecision"] == pair.price_decimals
            assert entry["quantityPrecision"] == pair.volume_decimals


def test_exchange_info_weight_per_product(plugin: BinanceSpot, kind: str) -> None:
    """exchangeInfo weighs 20 on spot and 1 on the perpetual."""
    assert used(call(plugin, f"{PREFIX[kind]}/exchangeInfo")) == (20 if kind == "spot" else 1)


def test_spot_exchange_info_symbol_filter() -> None:
    """Spot exchangeInfo honours symbol= and symbols=[...]."""
    spot = make("spot")
    one = body(call(spot, f"{SPOT}/exchangeInfo", ("symbol", "ETHUSDT")))
    assert [s["symbol"] for s in one["symbols"]] == ["ETHUSDT"]
    many = body(call(spot, f"{SPOT}/exchangeInfo", ("symbols", '["SOLUSDT","BTCUSDT"]')))
    assert sorted(s["symbol"] for s in many["symbols"]) == ["BTCUSDT", "SOLUSDT"]


@pytest.mark.parametrize(
    "query", [("symbol", "DOGEUSDT"), ("symbols", '["BTCUSDT","NOPEUSDT"]')], ids=["symbol", "symbols"]
)
def test_spot_exchange_info_unknown_symbol_is_invalid(query: tuple[str, str]) -> None:
    """Spot exchangeInfo with an unknown symbol answers HTTP 400 -1121."""
    msg = assert_error(call(make("spot"), f"{SPOT}/exchangeInfo", query), -1121)
    assert msg == "Invalid symbol."


@pytest.mark.parametrize("symbol", ["ETHUSDT", "DOGEUSDT"])
def test_perp_exchange_info_ignores_symbol_filter(symbol: str) -> None:
    """USDⓈ-M exchangeInfo ignores symbol= (known or not) and lists every contract with 200."""
    response = call(make("perp"), f"{PERP}/exchangeInfo", ("symbol", symbol))
    assert response.status == 200
    assert [s["symbol"] for s in body(response)["symbols"]] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]


def test_perp_exchange_info_envelope_has_futures_fields() -> None:
    """USDⓈ-M exchangeInfo carries futuresType U_MARGINED and an assets list (spec §2.2)."""
    info = body(call(make("perp"), f"{PERP}/exchangeInfo"))
    assert info["futuresType"] == "U_MARGINED"
    assert isinstance(info["assets"], list)


@pytest.mark.parametrize(
    ("kind", "other"),
    [("spot", "/fapi/v1"), ("spot", "/dapi/v1"), ("perp", "/api/v3"), ("perp", "/dapi/v1")],
)
def test_other_prefixes_serve_empty_exchange_info(kind: str, other: str) -> None:
    """The other Binance API prefixes serve an exchangeInfo with no symbols (for ccxt's load_markets)."""
    response = call(make(kind), f"{other}/exchangeInfo")
    assert response.status == 200
    info = body(response)
    assert info["symbols"] == []
    assert info["serverTime"] == NOW
    assert info["timezone"] == "UTC"


def test_routes_per_product() -> None:
    """Spot serves klines and uiKlines on /api/v3; the perpetual serves klines on /fapi/v1 only."""
    spot_routes = set(make("spot").routes())
    perp_routes = set(make("perp").routes())
    assert {("GET", f"{SPOT}/klines"), ("GET", f"{SPOT}/uiKlines")} <= spot_routes
    assert ("GET", f"{PERP}/klines") not in spot_routes
    assert ("GET", f"{PERP}/klines") in perp_routes
    assert ("GET", f"{SPOT}/klines") not in perp_routes
    assert ("GET", f"{PERP}/uiKlines") not in perp_routes


def test_not_found_and_method_not_allowed(plugin: BinanceSpot) -> None:
    """Unknown paths answer 404 and wrong methods 405, without a traceback."""
    request = RestRequest("POST", "/api/v3/klines", (), b"", NOW)
    assert plugin.not_found(request).status == 404
    assert plugin.method_not_allowed(request).status == 405
    failure = plugin.internal_error(request)
    assert b"Traceback" not in failure.body
    assert body(failure)["code"] == -1000


# -- klines: shape, order, limits --------------------------------------------------------------------


def test_klines_rows_are_twelve_typed_fields(plugin: BinanceSpot, kind: str) -> None:
    """Each kline row has 12 fields: int times and trade count, decimal strings elsewhere, '0' last."""
    rows = body(call(plugin, f"{PREFIX[kind]}/klines", ("symbol", "BTCUSDT"), ("interval", "1m")))
    assert rows
    p, v, q = places(kind, PAIRS[0])
    for r in rows:
        assert len(r) == 12
        for i in (0, 6, 8):
            assert type(r[i]) is int
        for i, n in ((1, p), (2, p), (3, p), (4, p), (5, v), (7, q), (9, v), (10, q)):
            assert isinstance(r[i], str)
            assert Decimal(r[i]) >= 0
            assert len(r[i].partition(".")[2]) == n
        assert r[11] == "0"
        assert Decimal(r[3]) <= min(Decimal(r[1]), Decimal(r[4]))
        assert Decimal(r[2]) >= max(Decimal(r[1]), Decimal(r[4]))
        assert Decimal(r[9]) <= Decimal(r[5])


@pytest.mark.parametrize("code", ["1m", "15m", "1h", "1d", "1w"])
def test_klines_close_time_is_open_plus_interval_minus_one(plugin: BinanceSpot, kind: str, code: str) -> None:
    """close time = open + interval − 1 and rows are consecutive, oldest first."""
    ms = Interval.parse(code).ms
    rows = body(
        call(plugin, f"{PREFIX[kind]}/klines", ("symbol", "ETHUSDT"), ("interval", code), ("limit", "20"))
    )
    assert len(rows) == 20
    for r in rows:
        assert r[6] == r[0] + ms - 1
    opens = [r[0] for r in rows]
    assert opens == [opens[0] + i * ms for i in range(20)]


def test_klines_month_close_time_is_next_month_minus_one(plugin: BinanceSpot, kind: str) -> None:
    """1M candles close one millisecond before the next calendar month opens."""
    rows = body(
        call(plugin, f"{PREFIX[kind]}/klines", ("symbol", "BTCUSDT"), ("interval", "1M"), ("limit", "14"))
    )
    assert len(rows) == 14
    for a, b in itertools.pairwise(rows):
        assert a[6] + 1 == b[0]
    assert rows[-1][0] == 1_767_225_600_000  # 2026-01-01: the forming month


def test_klines_default_limit_and_forming_candle_last(plugin: BinanceSpot, kind: str) -> None:
    """Without limit 500 rows come back, the newest being the forming candle that contains now."""
    rows = body(call(plugin, f"{PREFIX[kind]}/klines", ("symbol", "BTCUSDT"), ("interval", "1m")))
    assert len(rows) == 500
    last = rows[-1]
    assert last[0] == NOW // MINUTE * MINUTE
    assert last[0] <= NOW < last[6]
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)


def test_klines_max_limit(plugin: BinanceSpot, kind: str) -> None:
    """limit up to the product's maximum (1000 spot, 1500 perp) is honoured exactly."""
    top = MAX_LIMIT[kind]
    rows = body(
        call(plugin, f"{PREFIX[kind]}/klines", ("symbol", "BTCUSDT"), ("interval", "1m"), ("limit", str(top)))
    )
    assert len(rows) == top


@pytest.mark.parametrize("limit", ["1001", "5000", "99999999999999999999"])
def test_spot_klines_caps_oversized_limit(limit: str) -> None:
    """Spot silently caps a limit above 1000 at 1000."""
    response = call(
        make("spot"), f"{SPOT}/klines", ("symbol", "BTCUSDT"), ("interval", "1s"), ("limit", limit)
    )
    assert response.status == 200
    assert len(body(response)) == 1000


@pytest.mark.parametrize("limit", ["1501", "5000", "99999999999999999999"])
def test_perp_klines_rejects_oversized_limit(limit: str) -> None:
    """USDⓈ-M refuses a limit above 1500 with -1130."""
    response = call(
        make("perp"), f"{PERP}/klines", ("symbol", "BTCUSDT"), ("interval", "1m"), ("limit", limit)
    )
    assert "limit" in assert_error(response, -1130)


def test_ui_klines_equals_klines_on_spot() -> None:
    """Spot /uiKlines answers the same rows as /klines."""
    spot = make("spot")
    query = (("symbol", "SOLUSDT"), ("interval", "5m"), ("limit", "50"))
    assert body(call(spot, f"{SPOT}/uiKlines", *query)) == body(call(spot, f"{SPOT}/klines", *query))


def test_spot_has_1s_and_perp_does_not() -> None:
    """Spot serves 1s klines; the perpetual answers -1120 for 1s."""
    rows = body(
        call(make("spot"), f"{SPOT}/klines", ("symbol", "BTCUSDT"), ("interval", "1s"), ("limit", "5"))
    )
    assert [r[6] - r[0] for r in rows] == [999] * 5
    response = call(make("perp"), f"{PERP}/klines", ("symbol", "BTCUSDT"), ("interval", "1s"))
    assert assert_error(response, -1120) == "Invalid interval."


@pytest.mark.parametrize(
    "code", ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"]
)
def test_every_documented_interval_is_served(plugin: BinanceSpot, kind: str, code: str) -> None:
    """Every documented interval code answers 200 on both products."""
    response = call(
        plugin, f"{PREFIX[kind]}/klines", ("symbol", "BTCUSDT"), ("interval", code), ("limit", "3")
    )
    assert response.status == 200
    assert len(body(response)) == 3


# -- klines: time selection and equality with the model -------------------------------------------------

START = NOW // MINUTE * MINUTE - 180 * MINUTE  # a minute boundary three hours before NOW


def opens_of(plugin: ExchangePlugin, kind: str, *query: tuple[str, str]) -> list[int]:
    """Open times of the 1m BTCUSDT rows for extra query parameters."""
    base = (("symbol", "BTCUSDT"), ("interval", "1m"))
    response = call(plugin, f"{PREFIX[kind]}/klines", *base, *query)
    assert response.status == 200, response.body
    return [r[0] for r in body(response)]


def test_klines_start_time_only(plugin: BinanceSpot, kind: str) -> None:
    """startTime alone gives the oldest candles opening at or after it."""
    assert opens_of(plugin, kind, ("startTime", str(START)), ("limit", "5")) == [
        START + i * MINUTE for i in range(5)
    ]
    # An unaligned start skips the candle that began before it.
    assert opens_of(plugin, kind, ("startTime", str(START + 1)), ("limit", "2")) == [
        START + MINUTE,
        START + 2 * MINUTE,
    ]


def test_klines_end_time_only(plugin: BinanceSpot, kind: str) -> None:
    """endTime alone gives the newest candles opening at or before it."""
    end = START + 10 * MINUTE + 5
    assert opens_of(plugin, kind, ("endTime", str(end)), ("limit", "3")) == [
        START + 8 * MINUTE,
        START + 9 * MINUTE,
        START + 10 * MINUTE,
    ]


def test_klines_start_and_end_time(plugin: BinanceSpot, kind: str) -> None:
    """startTime and endTime together: from the start, capped at the end and at limit."""
    window = (("startTime", str(START)), ("endTime", str(START + 4 * MINUTE)))
    assert opens_of(plugin, kind, *window, ("limit", "100")) == [START + i * MINUTE for i in range(5)]
    assert opens_of(plugin, kind, *window, ("limit", "2")) == [START, START + MINUTE]
    assert opens_of(plugin, kind, ("startTime", str(START)), ("endTime", str(START))) == [START]


def test_klines_window_reaching_now_ends_with_forming_candle(plugin: BinanceSpot, kind: str) -> None:
    """A start-anchored window that reaches now ends with the forming candle."""
    opens = opens_of(plugin, kind, ("startTime", str(NOW - 3 * MINUTE)))
    assert opens == [NOW // MINUTE * MINUTE - MINUTE * i for i in (2, 1, 0)]


def test_klines_future_and_prehistoric_windows(plugin: BinanceSpot, kind: str) -> None:
    """A start in the future gives []; a start before the history begins at its first candle."""
    assert opens_of(plugin, kind, ("startTime", str(NOW + 10 * MINUTE))) == []
    assert opens_of(plugin, kind, ("startTime", "0"), ("limit", "2")) == [
        HISTORY_START,
        HISTORY_START + MINUTE,
    ]
    assert opens_of(plugin, kind, ("endTime", "0")) == []


@pytest.mark.parametrize(("symbol", "pair"), [("BTCUSDT", PAIRS[0]), ("SOLUSDT", PAIRS[2])])
@pytest.mark.parametrize("code", ["1s", "1m", "1h", "1d", "1w", "1M"])
def test_klines_rows_equal_model(kind: str, symbol: str, pair: PairSpec, code: str) -> None:
    """Rows are the model's candles for the same window, formatted as the product does."""
    if kind == "perp" and code == "1s":
        pytest.skip("the perpetual has no 1s interval")
    model = MarketModel(PAIRS, seed=11)
    plugin = make(kind, model)
    interval = Interval.parse(code)
    start = interval.floor(NOW - 40 * interval.ms)
    query = (("symbol", symbol), ("interval", code), ("startTime", str(start)), ("limit", "60"))
    rows = body(call(plugin, f"{PREFIX[kind]}/klines", *query))
    candles = model.candles(pair.name, interval, now_ms=NOW, limit=60, start_ms=start)
    assert len(candles) >= 10
    assert rows == [row(c, kind, pair) for c in candles]
    assert candles[-1].closed is False and all(c.closed for c in candles[:-1])


# -- klines: errors ------------------------------------------------------------------------------------

ERRORS = [
    pytest.param((("interval", "1m"),), -1102, "symbol", id="missing-symbol"),
    pytest.param((("symbol", "BTCUSDT"),), -1102, "interval", id="missing-interval"),
    pytest.param((("symbol", ""), ("interval", "1m")), -1102, "symbol", id="empty-symbol"),
    pytest.param((("symbol", "BTCUSDT"), ("interval", "")), -1102, "interval", id="empty-interval"),
    pytest.param((("symbol", "FOOBAR"), ("interval", "1m")), -1121, "Invalid symbol", id="unknown-symbol"),
    pytest.param((("symbol", "btcusdt"), ("interval", "1m")), -1100, "symbol", id="lowercase-symbol"),
    pytest.param((("symbol", "BTCUSDT"), ("interval", "7m")), -1120, "Invalid interval", id="bad-interval"),
    pytest.param((("symbol", "BTCUSDT"), ("interval", "1H")), -1120, "Invalid interval", id="case-interval"),
    pytest.param(
        (("symbol", "BTCUSDT"), ("interval", "1m"), ("limit", "abc")), -1100, "limit", id="limit-abc"
    ),
    pytest.param(
        (("symbol", "BTCUSDT"), ("interval", "1m"), ("limit", "-5")), -1100, "limit", id="limit-neg"
    ),
    pytest.param(
        (("symbol", "BTCUSDT"), ("interval", "1m"), ("startTime", "x1")), -1100, "startTime", id="start-abc"
    ),
    pytest.param(
        (("symbol", "BTCUSDT"), ("interval", "1m"), ("startTime", "2000"), ("endTime", "1000")),
        -1023,
        "Start time is greater than end time",
        id="start-after-end",
    ),
    pytest.param(
        (("symbol", "BTCUSDT"), ("symbol", "BTCUSDT"), ("interval", "1m")), -1101, "symbol", id="dup-symbol"
    ),
    pytest.param(
        (("symbol", "BTCUSDT"), ("interval", "1m"), ("limit", "5"), ("limit", "6")),
        -1101,
        "limit",
        id="dup-limit",
    ),
]


@pytest.mark.parametrize(("query", "code", "fragment"), ERRORS)
def test_klines_errors(
    plugin: BinanceSpot, kind: str, query: tuple[tuple[str, str], ...], code: int, fragment: str
) -> None:
    """Malformed klines queries answer HTTP 400 with Binance's native code and message."""
    msg = assert_error(call(plugin, f"{PREFIX[kind]}/klines", *query), code)
    assert fragment in msg


def test_klines_error_still_reports_weight(plugin: BinanceSpot, kind: str) -> None:
    """A refused klines request carries the weight header too."""
    response = call(plugin, f"{PREFIX[kind]}/klines", ("symbol", "NOPE"), ("interval", "1m"))
    assert used(response) >= 1


# -- request weight ----------------------------------------------------------------------------------


def test_spot_weight_accumulates_per_client_and_minute() -> None:
    """X-MBX-USED-WEIGHT-1M grows by each request's weight, per client IP, and resets each minute."""
    spot = make("spot")
    assert used(call(spot, f"{SPOT}/ping")) == 1
    assert used(call(spot, f"{SPOT}/time")) == 2
    assert used(call(spot, f"{SPOT}/klines", ("symbol", "BTCUSDT"), ("interval", "1m"))) == 4
    assert used(call(spot, f"{SPOT}/uiKlines", ("symbol", "BTCUSDT"), ("interval", "1m"))) == 6
    assert used(call(spot, f"{SPOT}/exchangeInfo")) == 26
    assert used(call(spot, f"{SPOT}/ping", client="10.0.0.2")) == 1
    assert used(call(spot, f"{SPOT}/ping")) == 27
    next_minute = (NOW // MINUTE + 1) * MINUTE
    assert used(call(spot, f"{SPOT}/ping", now=next_minute)) == 1


@pytest.mark.parametrize(
    ("limit", "weight"),
    [
        ("1", 1),
        ("99", 1),
        ("100", 2),
        ("499", 2),
        (None, 5),
        ("500", 5),
        ("1000", 5),
        ("1001", 10),
        ("1500", 10),
    ],
)
def test_perp_klines_weight_depends_on_limit(limit: str | None, weight: int) -> None:
    """USDⓈ-M klines weigh 1/2/5/10 by limit, as documented."""
    query = [("symbol", "BTCUSDT"), ("interval", "1m")]
    if limit is not None:
        query.append(("limit", limit))
    assert used(call(make("perp"), f"{PERP}/klines", *query)) == weight


def test_spot_klines_weight_is_two_whatever_the_limit() -> None:
    """Spot klines weigh 2 regardless of limit."""
    for limit in ("1", "500", "1000"):
        query = (("symbol", "BTCUSDT"), ("interval", "1m"), ("limit", limit))
        assert used(call(make("spot"), f"{SPOT}/klines", *query)) == 2


# -- edge cases (once deviations) ----------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["1767225600000000", "99999999999999999999", "253400000000000"])
def test_month_klines_with_huge_start_time_do_not_crash(plugin: BinanceSpot, kind: str, start: str) -> None:
    """interval=1M with a far-future startTime answers 200 [] or a 4xx error, never an exception."""
    query = (("symbol", "BTCUSDT"), ("interval", "1M"), ("startTime", start))
    assert_well_formed(call(plugin, f"{PREFIX[kind]}/klines", *query))


def test_spot_klines_accept_microsecond_times() -> None:
    """Spot startTime/endTime given in microseconds select the same rows as in milliseconds."""
    spot = make("spot")
    millis = opens_of(spot, "spot", ("startTime", str(START)), ("endTime", str(START + 2 * MINUTE)))
    micros = opens_of(
        spot, "spot", ("startTime", str(START * 1000)), ("endTime", str((START + 2 * MINUTE) * 1000))
    )
    assert micros == millis == [START, START + MINUTE, START + 2 * MINUTE]


# -- fuzzing -----------------------------------------------------------------------------------------

_FUZZ_PLUGINS = {"spot": make("spot"), "perp": make("perp")}
_YEAR_9990_MS = 253_086_000_000_000

_keys = st.sampled_from(["symbol", "interval", "startTime", "endTime", "limit", "timeZone"]) | st.text(
    max_size=6
)
_values = st.one_of(
    st.sampled_from(
        [
            "BTCUSDT",
            "ETHUSDT",
            "btcusdt",
            "BTC-USDT",
            "FOO",
            "1s",
            "1m",
            "1h",
            "1w",
            "1M",
            "7m",
            "",
            "0",
            "-5",
            "abc",
            "1e3",
            " 1",
            "１２",
            "00000000000000000001",
            "18446744073709551616",
            str(NOW),
        ]
    ),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.text(max_size=24),
)
_pairs = st.lists(st.tuples(_keys, _values), max_size=6)
_bases = st.sampled_from(
    [
        (),
        (("symbol", "BTCUSDT"), ("interval", "1m")),
        (("symbol", "ETHUSDT"), ("interval", "1d")),
        (("symbol", "SOLUSDT"), ("interval", "1M")),
    ]
)


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["spot", "perp"]), base=_bases, extra=_pairs, shuffle=st.randoms())
def test_fuzz_klines_query(
    kind: str, base: tuple[tuple[str, str], ...], extra: list[tuple[str, str]], shuffle: Any
) -> None:
    """Any klines query answers 200 with a JSON list or 4xx with {"code": negative int, "msg": str}."""
    query = list(base) + extra
    shuffle.shuffle(query)
    assert_well_formed(call(_FUZZ_PLUGINS[kind], f"{PREFIX[kind]}/klines", *query))


# -- WebSocket: heartbeat, cadence, encoding -----------------------------------------------------------


def test_heartbeat_values() -> None:
    """Server pings: spot every 20 s with a 60 s pong timeout, perpetual every 180 s with 600 s."""
    assert make("spot").heartbeat == Heartbeat(interval=20.0, timeout=60.0)
    assert make("perp").heartbeat == Heartbeat(interval=180.0, timeout=600.0)


@pytest.mark.parametrize(
    ("kind", "code", "period"),
    [
        ("spot", "1s", 1.0),
        ("spot", "1m", 2.0),
        ("spot", "1h", 2.0),
        ("perp", "1m", 0.25),
        ("perp", "1d", 0.25),
    ],
)
def test_push_period(kind: str, code: str, period: float) -> None:
    """Forming-candle push cadence: spot 1 s for 1s and 2 s otherwise; perpetual 250 ms."""
    assert make(kind).push_period(Subscription("BTC-USDT", Interval.parse(code), "raw")) == period


def test_encode_push_matches_rest_row(plugin: BinanceSpot, kind: str) -> None:
    """A kline push carries the same values as the REST row for that candle, raw and combined."""
    interval = Interval.parse("1m")
    candle = plugin.model.candle("BTC-USDT", interval, START, NOW)
    assert candle is not None and candle.closed
    expected = row(candle, kind, PAIRS[0])
    raw = json.loads(plugin.encode_push(Subscription("BTC-USDT", interval, "raw"), candle, NOW))
    assert raw["e"] == "kline" and raw["E"] == NOW and raw["s"] == "BTCUSDT"
    k = raw["k"]
    assert (k["t"], k["T"], k["s"], k["i"], k["x"]) == (START, START + MINUTE - 1, "BTCUSDT", "1m", True)
    assert [k["o"], k["h"], k["l"], k["c"], k["v"], k["q"], k["n"], k["V"], k["Q"]] == [
        expected[1],
        expected[2],
        expected[3],
        expected[4],
        expected[5],
        expected[7],
        expected[8],
        expected[9],
        expected[10],
    ]
    assert isinstance(k["f"], int) and isinstance(k["L"], int)
    assert k["L"] - k["f"] + 1 == k["n"]
    combined = json.loads(plugin.encode_push(Subscription("BTC-USDT", interval, "combined"), candle, NOW))
    assert combined == {"stream": "btcusdt@kline_1m", "data": raw}


def test_encode_push_forming_candle_is_not_final(plugin: BinanceSpot) -> None:
    """The forming candle is pushed with x=false."""
    interval = Interval.parse("1m")
    candle = plugin.model.candle("ETH-USDT", interval, NOW, NOW)
    assert candle is not None
    push = json.loads(plugin.encode_push(Subscription("ETH-USDT", interval, "raw"), candle, NOW))
    assert push["k"]["x"] is False
    assert push["s"] == "ETHUSDT"


def test_farewell_is_server_shutdown(plugin: BinanceSpot) -> None:
    """Before a shutdown the plugin says {"e":"serverShutdown","E":now}."""
    farewell = plugin.farewell(NOW)
    assert farewell is not None
    assert json.loads(farewell) == {"e": "serverShutdown", "E": NOW}


# -- WebSocket: paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "path", "query", "combined", "streams"),
    [
        ("spot", "/ws", "", False, []),
        ("spot", "/ws/btcusdt@kline_1s", "", False, ["btcusdt@kline_1s"]),
        (
            "spot",
            "/ws/btcusdt@kline_1s/ethusdt@kline_1m",
            "",
            False,
            ["btcusdt@kline_1s", "ethusdt@kline_1m"],
        ),
        (
            "spot",
            "/stream",
            "streams=btcusdt@kline_1s/ethusdt@kline_1s",
            True,
            ["btcusdt@kline_1s", "ethusdt@kline_1s"],
        ),
        ("spot", "/ws/0", "", False, []),
        ("spot", "/stream/ws/0", "", False, []),
        ("spot", "/stream/ws", "", False, []),
        ("perp", "/market/ws", "", False, []),
        ("perp", "/market/ws/btcusdt@kline_1m", "", False, ["btcusdt@kline_1m"]),
        ("perp", "/market/ws/0", "", False, []),
        (
            "perp",
            "/market/stream",
            "streams=btcusdt@kline_1m/ethusdt@kline_1m",
            True,
            ["btcusdt@kline_1m", "ethusdt@kline_1m"],
        ),
    ],
)
def test_open_session_accepts_binance_paths(
    kind: str, path: str, query: str, combined: bool, streams: list[str]
) -> None:
    """Raw, combined, ccxt-style and /market paths open sessions subscribing to the URL's streams."""
    session = make(kind).open_session(path, query)
    assert isinstance(session, BinanceSession)
    assert session.combined is combined
    actions = session.on_open(NOW)
    assert all(isinstance(a, Subscribe) for a in actions)
    style = "combined" if combined else "raw"
    names = [
        f"{s.pair.replace('-', '').lower()}@kline_{s.interval.code}"
        for s in (a.subscription for a in actions if isinstance(a, Subscribe))
    ]
    assert names == streams
    assert all(a.subscription.style == style for a in actions if isinstance(a, Subscribe))
    assert session.streams == streams


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("spot", "/"),
        ("spot", "/nope"),
        ("spot", "/market/stream"),
        ("spot", "/api/v3/klines"),
        ("perp", "/"),
        ("perp", "/market"),
        ("perp", "/public/nope"),
    ],
)
def test_open_session_rejects_unknown_paths(kind: str, path: str) -> None:
    """Unknown WebSocket paths are refused with 404."""
    reject = make(kind).open_session(path, "")
    assert isinstance(reject, WsReject)
    assert reject.status == 404


# -- WebSocket: the control protocol -------------------------------------------------------------------


def session(kind: str = "spot", path: str = "/ws") -> BinanceSession:
    """A fresh session on a bare raw path."""
    opened = make(kind).open_session(path, "")
    assert isinstance(opened, BinanceSession)
    return opened


def sent(actions: list[Any]) -> list[Any]:
    """The decoded JSON of every Send action."""
    return [json.loads(a.message) for a in actions if isinstance(a, Send)]


def request(method: str, params: Any = None, id: Any = 1) -> str:
    """A control message as text."""
    message: dict[str, Any] = {"method": method, "id": id}
    if params is not None:
        message["params"] = params
    return json.dumps(message)


BTC_1S = Subscription("BTC-USDT", Interval.parse("1s"), "raw")


def test_subscribe_unsubscribe_list() -> None:
    """SUBSCRIBE acks {"result":null,"id":N} and subscribes; LIST reports; UNSUBSCRIBE stops."""
    s = session()
    actions = s.on_text(request("SUBSCRIBE", ["btcusdt@kline_1s"], 1), NOW)
    assert actions[:-1] == [Subscribe(BTC_1S)]
    assert sent(actions) == [{"result": None, "id": 1}]
    again = s.on_text(request("SUBSCRIBE", ["btcusdt@kline_1s"], 2), NOW)
    assert [a for a in again if isinstance(a, Subscribe)] == []
    assert sent(s.on_text(request("LIST_SUBSCRIPTIONS", None, 3), NOW)) == [
        {"result": ["btcusdt@kline_1s"], "id": 3}
    ]
    actions = s.on_text(request("UNSUBSCRIBE", ["btcusdt@kline_1s"], 4), NOW)
    assert actions[:-1] == [Unsubscribe(BTC_1S)]
    assert sent(actions) == [{"result": None, "id": 4}]
    assert sent(s.on_text(request("LIST_SUBSCRIPTIONS", None, "x5"), NOW)) == [{"result": [], "id": "x5"}]


def test_subscribe_unknown_stream_is_acknowledged_and_silent() -> None:
    """A well-formed stream that serves nothing is acked but subscribes nothing."""
    s = session()
    actions = s.on_text(request("SUBSCRIBE", ["dogeusdt@kline_1m", "btcusdt@kline_9m"], 7), NOW)
    assert sent(actions) == [{"result": None, "id": 7}]
    assert [a for a in actions if not isinstance(a, Send)] == []
    assert s.streams == ["dogeusdt@kline_1m", "btcusdt@kline_9m"]


def test_perp_session_has_no_1s_stream() -> None:
    """On the perpetual btcusdt@kline_1s is acked but produces no subscription."""
    s = session("perp", "/market/ws")
    actions = s.on_text(request("SUBSCRIBE", ["btcusdt@kline_1s", "btcusdt@kline_1m"], 1), NOW)
    assert actions[:-1] == [Subscribe(Subscription("BTC-USDT", Interval.parse("1m"), "raw"))]


def test_set_and_get_property_combined() -> None:
    """SET_PROPERTY combined switches subscriptions to the wrapped style; GET_PROPERTY reports it."""
    s = session()
    s.on_text(request("SUBSCRIBE", ["btcusdt@kline_1s"], 1), NOW)
    assert sent(s.on_text(request("GET_PROPERTY", ["combined"], 2), NOW)) == [{"result": False, "id": 2}]
    actions = s.on_text(request("SET_PROPERTY", ["combined", True], 3), NOW)
    wrapped = Subscription("BTC-USDT", Interval.parse("1s"), "combined")
    assert actions[:-1] == [Unsubscribe(BTC_1S), Subscribe(wrapped)]
    assert sent(actions) == [{"result": None, "id": 3}]
    assert sent(s.on_text(request("GET_PROPERTY", ["combined"], 4), NOW)) == [{"result": True, "id": 4}]
    same = s.on_text(request("SET_PROPERTY", ["combined", True], 5), NOW)
    assert sent(same) == [{"result": None, "id": 5}] and len(same) == 1


@pytest.mark.parametrize(
    ("text", "code", "has_id"),
    [
        pytest.param("not json{", 3, False, id="invalid-json"),
        pytest.param("", 3, False, id="empty"),
        pytest.param("[1,2]", 2, False, id="array"),
        pytest.param('"SUBSCRIBE"', 2, False, id="string"),
        pytest.param(request("FOO", [], 7), 2, True, id="unknown-method"),
        pytest.param('{"params":[],"id":7}', 2, True, id="missing-method"),
        pytest.param(request("SUBSCRIBE", "btcusdt@kline_1s", 7), 2, True, id="params-not-list"),
        pytest.param(request("SUBSCRIBE", [1, 2], 7), 2, True, id="params-not-strings"),
        pytest.param(request("SUBSCRIBE", ["btcusdt"], 7), 2, True, id="params-not-a-stream"),
        pytest.param(request("SET_PROPERTY", ["combined", "yes"], 7), 2, True, id="property-not-bool"),
        pytest.param(request("GET_PROPERTY", ["nope"], 7), 2, True, id="unknown-property"),
        pytest.param(request("SUBSCRIBE", ["btcusdt@kline_1s"], 1.5), 2, False, id="id-float"),
        pytest.param(request("SUBSCRIBE", ["btcusdt@kline_1s"], True), 2, False, id="id-bool"),
        pytest.param(request("SUBSCRIBE", ["btcusdt@kline_1s"], {"a": 1}), 2, False, id="id-object"),
        pytest.param(request("SUBSCRIBE", ["btcusdt@kline_1s"], "a-b"), 2, False, id="id-not-alnum"),
        pytest.param(request("SUBSCRIBE", ["btcusdt@kline_1s"], "a" * 37), 2, False, id="id-too-long"),
        pytest.param(request("SUBSCRIBE", ["btcusdt@kline_1s"], 2**63), 2, False, id="id-too-big"),
    ],
)
def test_control_errors(text: str, code: int, has_id: bool) -> None:
    """Malformed control messages answer {"code":2|3,"msg":...} and the session keeps working."""
    s = session()
    actions = s.on_text(text, NOW)
    assert all(isinstance(a, Send) for a in actions)
    [error] = sent(actions)
    assert error["code"] == code
    assert isinstance(error["msg"], str) and error["msg"]
    assert ("id" in error) is has_id
    if has_id:
        assert error["id"] == 7
    assert s.streams == []
    ok = s.on_text(request("SUBSCRIBE", ["btcusdt@kline_1s"], 9), NOW)
    assert ok[0] == Subscribe(BTC_1S)


@pytest.mark.parametrize("request_id", [None, 0, -(2**63), 2**63 - 1, "abc123", "A" * 36])
def test_valid_ids_are_echoed(request_id: Any) -> None:
    """Signed 64-bit ints, alphanumeric strings up to 36 characters and null are valid ids."""
    s = session()
    assert sent(s.on_text(request("LIST_SUBSCRIPTIONS", None, request_id), NOW)) == [
        {"result": [], "id": request_id}
    ]


def test_binary_message_is_read_as_text() -> None:
    """A binary frame holding a control message is handled like text; garbage is invalid JSON."""
    s = session()
    assert sent(s.on_binary(request("LIST_SUBSCRIPTIONS", None, 1).encode(), NOW)) == [
        {"result": [], "id": 1}
    ]
    assert sent(s.on_binary(b"\xff\xfe\x00", NOW))[0]["code"] == 3


@settings(max_examples=30, deadline=None, database=None)
@given(
    text=st.one_of(
        st.text(max_size=60),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
            ),
            max_leaves=10,
        ).map(json.dumps),
        st.fixed_dictionaries(
            {
                "method": st.sampled_from(
                    [
                        "SUBSCRIBE",
                        "UNSUBSCRIBE",
                        "LIST_SUBSCRIPTIONS",
                        "SET_PROPERTY",
                        "GET_PROPERTY",
                        "subscribe",
                    ]
                ),
                "params": st.lists(st.text(max_size=20) | st.booleans() | st.integers(), max_size=3),
                "id": st.none() | st.integers() | st.text(max_size=40),
            }
        ).map(json.dumps),
    )
)
def test_fuzz_control_messages(text: str) -> None:
    """Any text yields only Send/Subscribe/Unsubscribe actions; every Send is a JSON object reply."""
    s = session()
    actions = s.on_text(text, NOW)
    assert actions
    assert all(isinstance(a, Send | Subscribe | Unsubscribe) for a in actions)
    replies = sent(actions)
    assert len(replies) == 1
    reply = replies[0]
    assert ("result" in reply) != ("code" in reply)
    if "code" in reply:
        assert reply["code"] in (0, 1, 2, 3)
        assert isinstance(reply["msg"], str)
