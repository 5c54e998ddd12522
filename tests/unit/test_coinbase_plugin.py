"""Sans-IO tests of the Coinbase Advanced Trade plugin: handlers and sessions fed plain values."""

from __future__ import annotations

import itertools
import json
import re
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
from mockfeed.exchanges.coinbase import CoinbaseAdvancedTrade, params
from mockfeed.exchanges.coinbase.streams import CoinbaseSession
from mockfeed.exchanges.coinbase.wire import go_time, plain, rfc3339_nano
from mockfeed.exchanges.exchange_type import ExchangeType
from mockfeed.exchanges.registry import plugin_class
from mockfeed.market import Candle, Interval, MarketModel, pair_spec

PAIRS = tuple(pair_spec(p) for p in ("BTC-USDT", "ETH-USDT", "SOL-USDT"))
NOW = 1_767_225_617_123  # 2026-01-01T00:00:17.123Z
NOW_S = NOW // 1000
MINUTE_S = 60
CANDLES = "/api/v3/brokerage/market/products/{product_id}/candles"
PRODUCT = "/api/v3/brokerage/market/products/{product_id}"
PRODUCTS = "/api/v3/brokerage/market/products"
FIVE_MINUTES = Interval.parse("5m")


def make() -> CoinbaseAdvancedTrade:
    """A fresh plugin over the default test pairs."""
    return CoinbaseAdvancedTrade(MarketModel(PAIRS, seed=0), PAIRS)


@pytest.fixture
def plugin() -> CoinbaseAdvancedTrade:
    """A fresh plugin."""
    return make()


def call(
    plugin: CoinbaseAdvancedTrade,
    route: str,
    *query: tuple[str, str],
    now: int = NOW,
    **path_params: str,
) -> RestResponse:
    """Run the GET handler of ``route`` (a pattern) with its ``{name}`` segments filled in."""
    handler = plugin.routes()[("GET", route)]
    path = route.format(**path_params)
    return handler(RestRequest("GET", path, tuple(query), b"", now, path_params=path_params))


def candles(
    plugin: CoinbaseAdvancedTrade, *query: tuple[str, str], product: str = "BTC-USDT", now: int = NOW
) -> RestResponse:
    """A candles request for ``product``."""
    return call(plugin, CANDLES, *query, now=now, product_id=product)


def body(response: RestResponse) -> Any:
    """The decoded JSON body."""
    return json.loads(response.body)


def window(start: int, end: int, granularity: str = "ONE_MINUTE") -> tuple[tuple[str, str], ...]:
    """The three mandatory candle parameters."""
    return (("start", str(start)), ("end", str(end)), ("granularity", granularity))


def starts(response: RestResponse) -> list[int]:
    """The bucket starts of a successful candles answer, in served order."""
    assert response.status == 200, response.body
    return [int(c["start"]) for c in body(response)["candles"]]


def expected_row(candle: Candle) -> dict[str, str]:
    """A REST candle built independently of the plugin: strings, trailing zeros trimmed."""

    def s(x: Decimal) -> str:
        text = f"{x:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text

    return {
        "start": str(candle.open_time // 1000),
        "low": s(candle.low),
        "high": s(candle.high),
        "open": s(candle.open),
        "close": s(candle.close),
        "volume": s(candle.volume),
    }


def assert_error(response: RestResponse, status: int, code: str, details: str | None = None) -> None:
    """An Advanced Trade error body with the given status and code (and details, if given)."""
    assert response.status == status, response.body
    error = body(response)
    assert set(error) == {"error", "error_details", "message"}
    assert error["error"] == code
    assert error["message"] == error["error_details"]
    if details is not None:
        assert error["error_details"] == details


# -- registry --------------------------------------------------------------------------------------


def test_registry_serves_the_plugin() -> None:
    """The registry resolves coinbase_advanced_trade to this plugin class."""
    assert plugin_class(ExchangeType.COINBASE_ADVANCED_TRADE) is CoinbaseAdvancedTrade


# -- REST candles ------------------------------------------------------------------------------------


def test_candles_newest_first_as_strings(plugin: CoinbaseAdvancedTrade) -> None:
    """Rows are newest first, every value a string, ``start`` in seconds, equal to the model."""
    start = (NOW_S // 60 - 10) * 60
    response = candles(plugin, *window(start, start + 10 * MINUTE_S))
    assert response.status == 200
    rows = body(response)["candles"]
    assert [int(r["start"]) for r in rows] == [start + 60 * i for i in range(9, -1, -1)]
    minute = Interval.parse("1m")
    for r in rows:
        assert all(isinstance(v, str) for v in r.values())
        assert list(r) == ["start", "low", "high", "open", "close", "volume"]
        candle = plugin.model.candle("BTC-USDT", minute, int(r["start"]) * 1000, NOW)
        assert candle is not None
        assert r == expected_row(candle)


def test_forming_bucket_is_included_last_in_time(plugin: CoinbaseAdvancedTrade) -> None:
    """A window reaching now serves the forming bucket first (newest), as the model has it so far."""
    response = candles(plugin, *window(NOW_S - 300, NOW_S + 600))
    rows = body(response)["candles"]
    forming_start = NOW_S // 60 * 60
    assert int(rows[0]["start"]) == forming_start
    forming = plugin.model.candle("BTC-USDT", Interval.parse("1m"), forming_start * 1000, NOW)
    assert forming is not None and not forming.closed
    assert rows[0] == expected_row(forming)


def test_end_is_exclusive_and_unaligned_start_is_covered(plugin: CoinbaseAdvancedTrade) -> None:
    """[start, end) selects the buckets it overlaps: an aligned end is left out, a cut start kept."""
    base = (NOW_S // 3600 - 5) * 3600
    assert starts(candles(plugin, *window(base, base + 300))) == [base + 240, base + 180, base + 120,
                                                                  base + 60, base]
    assert starts(candles(plugin, *window(base + 30, base + 90)))[::-1] == [base, base + 60]
    assert starts(candles(plugin, *window(base, base))) == []


def test_350_buckets_pass_and_351_are_refused(plugin: CoinbaseAdvancedTrade) -> None:
    """A span of 350 buckets returns 350 rows; 351 is HTTP 400 with Coinbase's text."""
    base = (NOW_S // 3600 - 24) * 3600
    assert len(starts(candles(plugin, *window(base - 350 * 60, base)))) == 350
    assert_error(
        candles(plugin, *window(base - 351 * 60, base)),
        400,
        "INVALID_ARGUMENT",
        "start and end argument is invalid - number of candles requested should be less than 350",
    )
    assert_error(candles(plugin, *window(base - 351 * 3600, base, "ONE_HOUR")), 400, "INVALID_ARGUMENT")
    assert len(starts(candles(plugin, *window(base - 350 * 3600, base, "ONE_HOUR")))) == 350


def test_limit_keeps_the_newest(plugin: CoinbaseAdvancedTrade) -> None:
    """``limit`` caps the rows, keeping the newest; 0 means unset; 351 and -1 are refused."""
    base = (NOW_S // 3600 - 2) * 3600
    full = starts(candles(plugin, *window(base, base + 3600)))
    assert len(full) == 60
    assert starts(candles(plugin, *window(base, base + 3600), ("limit", "7"))) == full[:7]
    assert starts(candles(plugin, *window(base, base + 3600), ("limit", "0"))) == full
    for bad in ("351", "-1", "abc", "1.5", "99999999999"):
        assert_error(candles(plugin, *window(base, base + 3600), ("limit", bad)), 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize(
    ("granularity", "seconds"),
    [
        ("ONE_MINUTE", 60),
        ("FIVE_MINUTE", 300),
        ("FIFTEEN_MINUTE", 900),
        ("THIRTY_MINUTE", 1800),
        ("ONE_HOUR", 3600),
        ("TWO_HOUR", 7200),
        ("FOUR_HOUR", 14400),
        ("SIX_HOUR", 21600),
        ("ONE_DAY", 86400),
        ("one_hour", 3600),
    ],
)
def test_every_granularity_is_aligned(plugin: CoinbaseAdvancedTrade, granularity: str, seconds: int) -> None:
    """Each documented granularity serves contiguous buckets aligned to its size in UTC."""
    end = NOW_S - 30 * seconds
    got = starts(candles(plugin, *window(end - 10 * seconds, end, granularity)))
    assert len(got) in (10, 11)
    assert all(s % seconds == 0 for s in got)
    assert all(a - b == seconds for a, b in itertools.pairwise(got))


def test_history_start_and_future_windows(plugin: CoinbaseAdvancedTrade) -> None:
    """Before the first candle (2017) and after now nothing is served, without error."""
    assert starts(candles(plugin, *window(1_400_000_000, 1_400_000_000 + 3600))) == []
    assert starts(candles(plugin, *window(NOW_S + 3600, NOW_S + 7200))) == []
    first = starts(candles(plugin, *window(1_483_228_800 - 3600, 1_483_228_800 + 3600)))
    assert first[-1] == 1_483_228_800 and len(first) == 60


@pytest.mark.parametrize(
    ("query", "details"),
    [
        ((("start", "1767225000"), ("end", "1767225600")), "granularity argument is invalid"),
        ((*window(1767225000, 1767225600, "ONE_WEEK"),), "granularity argument is invalid"),
        ((*window(1767225000, 1767225600, "60"),), "granularity argument is invalid"),
        ((*window(1767225000, 1767225600, "UNKNOWN_GRANULARITY"),), "granularity argument is invalid"),
        ((("end", "1767225600"), ("granularity", "ONE_MINUTE")),
         "start and end argument is invalid - start and end must both be set"),
        ((("start", "1767225000"), ("granularity", "ONE_MINUTE")),
         "start and end argument is invalid - start and end must both be set"),
        ((("start", ""), ("end", "1767225600"), ("granularity", "ONE_MINUTE")),
         "start and end argument is invalid - start and end must both be set"),
        ((*window(1767225600, 1767225000),), "start and end argument is invalid - start must be before end"),
        ((("start", "2026-01-01T00:00:00Z"), ("end", "1767225600"), ("granularity", "ONE_MINUTE")),
         "start and end argument is invalid - could not parse start"),
        ((("start", "1767225000"), ("end", "1767225600000000000000"), ("granularity", "ONE_MINUTE")),
         "start and end argument is invalid - could not parse end"),
        ((*window(1767225000, 1767225600), ("start", "1767225000")), "start argument is invalid"),
    ],
)
def test_bad_parameters_get_invalid_argument(
    plugin: CoinbaseAdvancedTrade, query: tuple[tuple[str, str], ...], details: str
) -> None:
    """Missing, malformed, repeated or inconsistent parameters are HTTP 400 INVALID_ARGUMENT."""
    assert_error(candles(plugin, *query), 400, "INVALID_ARGUMENT", details)


def test_unknown_product_on_candles(plugin: CoinbaseAdvancedTrade) -> None:
    """An unknown or differently spelled product id is 400 ``ProductID is invalid``."""
    for product in ("NOPE-USD", "btc-usdt", "BTCUSDT"):
        assert_error(
            candles(plugin, *window(NOW_S - 600, NOW_S), product=product),
            400,
            "INVALID_ARGUMENT",
            "ProductID is invalid",
        )


# -- REST metadata -----------------------------------------------------------------------------------


def test_products_list_spot_with_ccxt_fields(plugin: CoinbaseAdvancedTrade) -> None:
    """The listing holds every pair as SPOT with the ids, increments and sizes clients read."""
    response = call(plugin, PRODUCTS)
    listing = body(response)
    assert listing["num_products"] == 3
    assert set(listing["pagination"]) == {"prev_cursor", "next_cursor", "has_next", "has_prev"}
    rows = {p["product_id"]: p for p in listing["products"]}
    assert list(rows) == ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    btc = rows["BTC-USDT"]
    assert (btc["base_currency_id"], btc["quote_currency_id"], btc["product_type"]) == ("BTC", "USDT", "SPOT")
    assert (btc["price_increment"], btc["quote_increment"], btc["base_increment"]) == ("0.01", "0.01",
                                                                                       "0.00001")
    assert btc["base_min_size"] == "0.00001" and btc["trading_disabled"] is False
    assert btc["status"] == "online" and btc["alias_to"] == []
    latest = plugin.model.candle("BTC-USDT", Interval.parse("1m"), NOW, NOW)
    assert latest is not None and btc["price"] == plain(latest.close)
    day = plugin.model.pair("BTC-USDT").aggregate(NOW_S - 86400, NOW_S)
    assert day is not None
    assert Decimal(btc["volume_24h"]) == (day[4] + day[5]) * PAIRS[0].lot_size


def test_products_filters(plugin: CoinbaseAdvancedTrade) -> None:
    """product_type FUTURE lists nothing; product_ids, limit and offset select; a bad type is 400."""

    def ids(*query: tuple[str, str]) -> list[str]:
        return [p["product_id"] for p in body(call(plugin, PRODUCTS, *query))["products"]]

    assert ids(("product_type", "FUTURE")) == []
    assert ids(("product_type", "SPOT")) == ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    assert ids(("product_ids", "SOL-USDT"), ("product_ids", "BTC-USDT"), ("product_ids", "NOPE-USD")) == [
        "BTC-USDT",
        "SOL-USDT",
    ]
    assert ids(("limit", "1"), ("offset", "1")) == ["ETH-USDT"]
    assert ids(("get_all_products", "false")) == ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    assert_error(call(plugin, PRODUCTS, ("product_type", "OPTION")), 400, "INVALID_ARGUMENT")
    assert_error(call(plugin, PRODUCTS, ("limit", "x")), 400, "INVALID_ARGUMENT")


def test_single_product(plugin: CoinbaseAdvancedTrade) -> None:
    """One product by id; an unknown id is 404 NOT_FOUND with Coinbase's text."""
    assert body(call(plugin, PRODUCT, product_id="ETH-USDT"))["product_id"] == "ETH-USDT"
    missing = call(plugin, PRODUCT, product_id="NOPE-USD")
    assert_error(missing, 404, "NOT_FOUND", "Product NOPE-USD not supported")


def test_server_times(plugin: CoinbaseAdvancedTrade) -> None:
    """/api/v3/brokerage/time has string seconds and millis; /v2/time an integer epoch."""
    assert body(call(plugin, "/api/v3/brokerage/time")) == {
        "iso": "2026-01-01T00:00:17Z",
        "epochSeconds": "1767225617",
        "epochMillis": "1767225617123",
    }
    assert body(call(plugin, "/v2/time")) == {"data": {"iso": "2026-01-01T00:00:17Z", "epoch": 1767225617}}


def test_v2_currencies_have_names(plugin: CoinbaseAdvancedTrade) -> None:
    """Fiat rows carry id/name/min_size; crypto rows code/name/asset_id for every pair's currency."""
    fiat = body(call(plugin, "/v2/currencies"))["data"]
    assert {"id": "USD", "name": "US Dollar", "min_size": "0.01"} in fiat
    crypto = body(call(plugin, "/v2/currencies/crypto"))["data"]
    assert [c["code"] for c in crypto] == ["BTC", "USDT", "ETH", "SOL"]
    assert all(isinstance(c["name"], str) and c["name"] and c["asset_id"] for c in crypto)
    assert len({c["asset_id"] for c in crypto}) == 4


def test_v2_exchange_rates(plugin: CoinbaseAdvancedTrade) -> None:
    """Rates are units per one ``currency``: BTC per USD is the inverse of the BTC price."""
    rates = body(call(plugin, "/v2/exchange-rates"))["data"]
    assert rates["currency"] == "USD"
    latest = plugin.model.candle("BTC-USDT", Interval.parse("1m"), NOW, NOW)
    assert latest is not None
    assert abs(Decimal(rates["rates"]["BTC"]) * latest.close - 1) < Decimal("1e-8")
    per_btc = body(call(plugin, "/v2/exchange-rates", ("currency", "btc")))["data"]
    assert per_btc["currency"] == "BTC" and per_btc["rates"]["BTC"] == "1"
    refused = call(plugin, "/v2/exchange-rates", ("currency", "XYZ"))
    assert refused.status == 400
    assert body(refused) == {"errors": [{"id": "invalid_request", "message": "Invalid currency"}]}


def test_not_found_shapes(plugin: CoinbaseAdvancedTrade) -> None:
    """Unknown /v2 paths answer the v2 error list; others the Advanced Trade error body."""
    request = RestRequest("GET", "/v2/nope", (), b"", NOW)
    assert body(plugin.not_found(request)) == {"errors": [{"id": "not_found", "message": "Not found"}]}
    assert_error(plugin.not_found(RestRequest("GET", "/api/v3/nope", (), b"", NOW)), 404, "NOT_FOUND")
    post = RestRequest("POST", "/v2/time", (), b"", NOW)
    assert_error(plugin.method_not_allowed(post), 405, "UNIMPLEMENTED")
    assert_error(plugin.internal_error(request), 500, "INTERNAL")


# -- fuzzing -----------------------------------------------------------------------------------------

_FUZZ = make()
_seconds = st.one_of(
    st.integers(min_value=1_400_000_000, max_value=NOW_S + 86_400).map(str),
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
    st.text(max_size=12),
)
_value = {
    "start": _seconds,
    "end": _seconds,
    "granularity": st.sampled_from(["ONE_MINUTE", "ONE_DAY", "six_hour", "ONE_WEEK", "", "1m", "é"]),
    "limit": st.one_of(st.integers(min_value=-5, max_value=400).map(str), st.text(max_size=5)),
}


@settings(max_examples=30, deadline=None, database=None)
@given(
    overrides=st.dictionaries(st.sampled_from(sorted(_value)), st.none(), max_size=4).flatmap(
        lambda keys: st.fixed_dictionaries({k: st.one_of(st.none(), _value[k]) for k in keys})
    ),
    anchor=st.integers(min_value=1, max_value=400),
    granularity=st.sampled_from(["ONE_MINUTE", "ONE_DAY", "FIVE_MINUTE"]),
    product=st.sampled_from(["BTC-USDT", "BTC-USDT", "SOL-USDT", "NOPE-USD", "", "../x"]),
    repeat=st.booleans(),
)
def test_fuzz_candles_query(
    overrides: dict[str, str | None], anchor: int, granularity: str, product: str, repeat: bool
) -> None:
    """Any candles query answers 200 with ≤350 newest-first string rows, or a native 4xx error body."""
    unit = params.GRANULARITIES[granularity].seconds
    # A consistent window near now, then some parameters replaced by fuzz or dropped (None).
    query = {"start": str(NOW_S - anchor * unit), "end": str(NOW_S - anchor // 3 * unit),
             "granularity": granularity}
    query.update(overrides)
    pairs = [(k, v) for k, v in query.items() if v is not None]
    if repeat and pairs:
        pairs.append(pairs[0])
    response = candles(_FUZZ, *pairs, product=product)
    decoded = body(response)
    if response.status == 200:
        rows = decoded["candles"]
        assert len(rows) <= 350
        opens = [int(r["start"]) for r in rows]
        assert opens == sorted(opens, reverse=True)
        assert all(isinstance(v, str) for r in rows for v in r.values())
    else:
        assert response.status in (400, 404)
        assert set(decoded) == {"error", "error_details", "message"}
        assert decoded["error"] in ("INVALID_ARGUMENT", "NOT_FOUND")


# -- WebSocket session -------------------------------------------------------------------------------


def sent(actions: list[Action]) -> list[Any]:
    """The decoded messages among actions."""
    return [json.loads(a.message) for a in actions if isinstance(a, Send)]


def subscribe(
    session: CoinbaseSession, channel: str, *products: str, kind: str = "subscribe", now: int = NOW
) -> list[Action]:
    """Feed one subscribe/unsubscribe message."""
    message: dict[str, Any] = {"type": kind, "channel": channel}
    if products:
        message["product_ids"] = list(products)
    return session.on_text(json.dumps(message), now)


def open_session(plugin: CoinbaseAdvancedTrade) -> CoinbaseSession:
    """A session on the feed's root path, opened at NOW."""
    session = plugin.open_session("/", "")
    assert isinstance(session, CoinbaseSession)
    session.wall_ms = NOW
    assert session.on_open(NOW) == []
    return session


def at(s: CoinbaseSession, wall_ms: int) -> CoinbaseSession:
    """``s`` with the runtime's monotonic clock at ``wall_ms``: protocol timers run on it, not on market time."""
    s.wall_ms = wall_ms
    return s


def test_ws_paths(plugin: CoinbaseAdvancedTrade) -> None:
    """The feed lives at the root; any other path is refused with 404."""
    assert isinstance(plugin.open_session("", ""), CoinbaseSession)
    rejected = plugin.open_session("/ws", "")
    assert isinstance(rejected, WsReject) and rejected.status == 404
    assert plugin.heartbeat is None


def test_subscribe_acks_snapshots_and_subscribes(plugin: CoinbaseAdvancedTrade) -> None:
    """candles: Subscribe to the 5m stream, a subscriptions ack, then a snapshot of the forming bucket."""
    session = open_session(plugin)
    actions = subscribe(session, "candles", "BTC-USDT", "ETH-USDT", "BTC-USDT")
    subs = [a.subscription for a in actions if isinstance(a, Subscribe)]
    assert subs == [Subscription("BTC-USDT", FIVE_MINUTES, "candles"), Subscription("ETH-USDT", FIVE_MINUTES,
                                                                                    "candles")]
    ack, *snapshots = sent(actions)
    assert ack == {
        "channel": "subscriptions",
        "client_id": "",
        "timestamp": "2026-01-01T00:00:17.123Z",
        "sequence_num": 0,
        "events": [{"subscriptions": {"candles": ["BTC-USDT", "ETH-USDT"]}}],
    }
    assert [s["sequence_num"] for s in snapshots] == [1, 2]
    snapshot = snapshots[0]
    assert snapshot["channel"] == "candles"
    [event] = snapshot["events"]
    assert event["type"] == "snapshot"
    [candle] = event["candles"]
    forming = plugin.model.candle("BTC-USDT", FIVE_MINUTES, NOW, NOW)
    assert forming is not None
    assert candle == {**expected_row(forming), "product_id": "BTC-USDT"}
    assert candle["start"] == str(1_767_225_600)
    # Subscribing again to the same product changes nothing but acks.
    again = subscribe(session, "candles", "ETH-USDT")
    assert [type(a) for a in again] == [Send]
    assert sent(again)[0]["sequence_num"] == 3


def test_unsubscribe_acks_the_remaining_set(plugin: CoinbaseAdvancedTrade) -> None:
    """unsubscribe removes products (Unsubscribe actions) and acks what is left, {} when nothing."""
    session = open_session(plugin)
    subscribe(session, "candles", "BTC-USDT", "SOL-USDT")
    subscribe(session, "heartbeats")
    actions = subscribe(session, "candles", "BTC-USDT", kind="unsubscribe")
    assert [a.subscription.pair for a in actions if isinstance(a, Unsubscribe)] == ["BTC-USDT"]
    assert sent(actions)[0]["events"] == [{"subscriptions": {"candles": ["SOL-USDT"], "heartbeats": []}}]
    subscribe(session, "heartbeats", kind="unsubscribe")
    actions = subscribe(session, "candles", "SOL-USDT", kind="unsubscribe")
    assert sent(actions)[0]["events"] == [{"subscriptions": {}}]


def test_heartbeats_every_tick(plugin: CoinbaseAdvancedTrade) -> None:
    """Subscribed to heartbeats, each tick sends current_time (Go format) and a string counter."""
    session = open_session(plugin)
    assert session.tick_period == 1.0
    subscribe(session, "heartbeats")
    beats = [sent(at(session, NOW + 1000 * i).on_tick(NOW + 1000 * i))[0] for i in (1, 2, 3)]
    assert [b["channel"] for b in beats] == ["heartbeats"] * 3
    assert [b["events"][0]["heartbeat_counter"] for b in beats] == ["1", "2", "3"]
    assert [b["sequence_num"] for b in beats] == [1, 2, 3]
    assert beats[0]["events"][0]["current_time"] == "2026-01-01 00:00:18.123 +0000 UTC m=+1.000000000"


def test_no_subscribe_within_5_seconds_closes(plugin: CoinbaseAdvancedTrade) -> None:
    """Without a subscribe the connection is closed once 5 s have passed; after one it stays open."""
    idle = open_session(plugin)
    assert at(idle, NOW + 4000).on_tick(NOW) == []
    assert at(idle, NOW + 5000).on_tick(NOW) == [Close(1000, "subscribe timeout")]
    busy = open_session(plugin)
    subscribe(busy, "candles", "BTC-USDT", now=NOW + 4500)
    assert at(busy, NOW + 9000).on_tick(NOW) == []
    failed = open_session(plugin)
    failed.on_text("{", NOW + 100)
    assert isinstance(at(failed, NOW + 6000).on_tick(NOW)[0], Close), "an error is not a subscription"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("not json", "JSON"),
        ("[1]", "object"),
        ('{"type":"hello","channel":"candles"}', "unknown message type"),
        ('{"type":"subscribe","channels":["candles"],"product_ids":["BTC-USDT"]}', "channel is required"),
        ('{"type":"subscribe","channel":"candles","product_ids":"BTC-USDT"}', "product_ids"),
        ('{"type":"subscribe","channel":"candles"}', "product_ids are required"),
        ('{"type":"subscribe","channel":"candles","product_ids":["NOPE-USD"]}', "NOPE-USD"),
        ('{"type":"subscribe","channel":"user","product_ids":["BTC-USDT"]}', "authentication failure"),
        ('{"type":"subscribe","channel":"level2","product_ids":["BTC-USDT"]}', "not served"),
        ('{"type":"subscribe","channel":"nope","product_ids":["BTC-USDT"]}', "unknown"),
    ],
)
def test_errors_are_native_and_change_nothing(
    plugin: CoinbaseAdvancedTrade, text: str, fragment: str
) -> None:
    """A bad message gets {"type":"error","message":...} and no subscription change."""
    session = open_session(plugin)
    actions = session.on_text(text, NOW)
    assert len(actions) == 1 and isinstance(actions[0], Send)
    message = json.loads(actions[0].message)
    assert set(message) == {"type", "message"} and message["type"] == "error"
    assert fragment in message["message"]
    assert session.channels == {}


def test_pushes_are_shared_and_sequenced_per_connection(plugin: CoinbaseAdvancedTrade) -> None:
    """encode_push is encoded once; personalize stamps each connection's own next sequence number."""
    sub = plugin.subscription("BTC-USDT")
    assert plugin.push_period(sub) == 1.0
    candle = plugin.model.candle("BTC-USDT", FIVE_MINUTES, NOW, NOW)
    assert candle is not None
    push = plugin.encode_push(sub, candle, NOW)
    assert plugin.encode_push(sub, candle, NOW) == push
    shared = json.loads(push)
    assert shared["events"] == [
        {"type": "update", "candles": [{**expected_row(candle), "product_id": "BTC-USDT"}]}
    ]
    one, two = open_session(plugin), open_session(plugin)
    assert one.personalizes and two.personalizes
    subscribe(one, "candles", "BTC-USDT")  # ack 0, snapshot 1
    first = json.loads(one.personalize(push))
    assert first["sequence_num"] == 2 and json.loads(two.personalize(push))["sequence_num"] == 0
    assert {k: v for k, v in first.items() if k != "sequence_num"} == {
        k: v for k, v in shared.items() if k != "sequence_num"
    }
    assert json.loads(one.personalize(push))["sequence_num"] == 3


def test_time_and_number_formats() -> None:
    """Go's trimmed RFC 3339 fractions, Go's time.String, and plain decimals without trailing zeros."""
    assert rfc3339_nano(1_767_225_600_410) == "2026-01-01T00:00:00.41Z"
    assert rfc3339_nano(1_767_225_600_000) == "2026-01-01T00:00:00Z"
    assert rfc3339_nano(1_767_225_600_007) == "2026-01-01T00:00:00.007Z"
    go = go_time(1_767_225_600_500, 12_345)
    assert re.fullmatch(r"2026-01-01 00:00:00\.5 \+0000 UTC m=\+12\.345000000", go)
    assert [plain(Decimal(x)) for x in ("64260.00", "0.00120", "0E-8", "1E+2", "3.412")] == [
        "64260",
        "0.0012",
        "0",
        "100",
        "3.412",
    ]


def test_rates_chain_through_crypto_quotes() -> None:
    """A base quoted in crypto (ETH-BTC) is valued through its quote's dollar price."""
    pairs = tuple(pair_spec(p) for p in ("ETH-BTC", "BTC-USD"))
    plugin = CoinbaseAdvancedTrade(MarketModel(pairs, seed=1), pairs)
    rates = body(call(plugin, "/v2/exchange-rates"))["data"]["rates"]
    minute = Interval.parse("1m")
    eth_btc, btc_usd = (plugin.model.candle(p.name, minute, NOW, NOW) for p in pairs)
    assert eth_btc is not None and btc_usd is not None
    assert abs(Decimal(rates["ETH"]) * eth_btc.close * btc_usd.close - 1) < Decimal("1e-8")
    assert [c["code"] for c in body(call(plugin, "/v2/currencies/crypto"))["data"]] == ["ETH", "BTC"]
