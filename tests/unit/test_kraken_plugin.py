"""Sans-IO tests of the Kraken spot plugin: REST handlers and WebSocket sessions, no sockets."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockfeed.exchanges import ExchangeType, available
from mockfeed.exchanges.base import (
    Action,
    RestRequest,
    RestResponse,
    Send,
    Subscribe,
    Subscription,
    Unsubscribe,
    WsReject,
)
from mockfeed.exchanges.kraken import KrakenSpot
from mockfeed.exchanges.kraken.names import KrakenPair
from mockfeed.exchanges.kraken.streams import V1Session, V2Session
from mockfeed.exchanges.kraken.wire import INTERVALS, rfc1123, rfc3339
from mockfeed.market import Interval, MarketModel, pair_spec

PAIRS = tuple(pair_spec(p) for p in ("BTC-USDT", "ETH-USDT", "SOL-USDT", "BTC-USD", "DOGE-USD"))
NOW = 1_767_225_617_123  # 2026-01-01T00:00:17.123Z, a Thursday
NOW_S = NOW // 1000
MINUTE_S = 60
OHLC = "/0/public/OHLC"
INVALID = {"error": ["EGeneral:Invalid arguments"]}
UNKNOWN_PAIR = {"error": ["EQuery:Unknown asset pair"]}
ONE_MINUTE = INTERVALS[1]


@pytest.fixture
def plugin() -> KrakenSpot:
    """A fresh plugin over the test pairs."""
    return KrakenSpot(MarketModel(PAIRS, seed=0), PAIRS)


def call(
    plugin: KrakenSpot, path: str, *query: tuple[str, str], now: int = NOW, method: str = "GET",
    body: bytes = b"",
) -> RestResponse:
    """Run the plugin's handler for ``path`` on a plain request."""
    return plugin.routes()[(method, path)](RestRequest(method, path, tuple(query), body, now))


def decoded(response: RestResponse) -> Any:
    """The decoded JSON body."""
    return json.loads(response.body)


def result(response: RestResponse) -> Any:
    """The ``result`` of a successful answer (asserting Kraken's empty ``error`` array)."""
    payload = decoded(response)
    assert response.status == 200
    assert payload["error"] == []
    return payload["result"]


def sent(actions: list[Action]) -> list[Any]:
    """The decoded messages among ``actions``."""
    return [json.loads(a.message) for a in actions if isinstance(a, Send)]


# -- names ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("pair", "pair_id", "altname", "wsname", "symbol"),
    [
        ("BTC-USDT", "XBTUSDT", "XBTUSDT", "XBT/USDT", "BTC/USDT"),
        ("BTC-USD", "XXBTZUSD", "XBTUSD", "XBT/USD", "BTC/USD"),
        ("ETH-BTC", "XETHXXBT", "ETHXBT", "ETH/XBT", "ETH/BTC"),
        ("DOGE-USD", "XDGUSD", "XDGUSD", "XDG/USD", "DOGE/USD"),
        ("SOL-USD", "SOLUSD", "SOLUSD", "SOL/USD", "SOL/USD"),
        ("USDT-USD", "USDTZUSD", "USDTUSD", "USDT/USD", "USDT/USD"),
    ],
)
def test_pair_names_follow_kraken(pair: str, pair_id: str, altname: str, wsname: str, symbol: str) -> None:
    """Legacy X/Z ids only when both sides are legacy assets; XBT and XDG altnames; v2 uses BTC."""
    names = KrakenPair.of(pair_spec(pair))
    assert (names.id, names.altname, names.wsname, names.symbol) == (pair_id, altname, wsname, symbol)


# -- Time, SystemStatus, Assets, AssetPairs -----------------------------------------------------------

def test_routes_are_public_methods_by_get_and_post(plugin: KrakenSpot) -> None:
    """Every public method is served by GET and POST, nothing else."""
    names = ("Time", "SystemStatus", "Assets", "AssetPairs", "OHLC")
    expected = {(m, f"/0/public/{n}") for n in names for m in ("GET", "POST")}
    assert set(plugin.routes()) == expected


def test_time(plugin: KrakenSpot) -> None:
    """``unixtime`` in seconds and Kraken's rfc1123 spelling (day padded with a space)."""
    assert result(call(plugin, "/0/public/Time")) == {
        "unixtime": NOW_S, "rfc1123": "Thu,  1 Jan 26 00:00:17 +0000",
    }
    assert rfc1123(1_551_737_935_000) == "Mon,  4 Mar 19 22:18:55 +0000"  # a live Kraken answer


def test_system_status(plugin: KrakenSpot) -> None:
    """Online, with a second-precision RFC 3339 timestamp."""
    assert result(call(plugin, "/0/public/SystemStatus")) == {
        "status": "online", "timestamp": "2026-01-01T00:00:17Z",
    }


def test_assets_list_every_base_and_quote(plugin: KrakenSpot) -> None:
    """Assets keyed by Kraken id, each with the ``decimals`` ccxt requires."""
    assets = result(call(plugin, "/0/public/Assets"))
    assert set(assets) == {"XXBT", "XETH", "SOL", "USDT", "ZUSD", "XXDG"}
    assert assets["XXBT"] == {
        "aclass": "currency", "altname": "XBT", "decimals": 10, "display_decimals": 5, "status": "enabled",
    }
    assert assets["ZUSD"]["altname"] == "USD"
    assert all(isinstance(a["decimals"], int) for a in assets.values())


@pytest.mark.parametrize("asset", ["XBT", "XXBT", "BTC"])
def test_assets_filter_by_any_name(plugin: KrakenSpot, asset: str) -> None:
    """``asset`` takes the id, the altname or the display code."""
    assert list(result(call(plugin, "/0/public/Assets", ("asset", f"{asset},USDT")))) == ["XXBT", "USDT"]


def test_assets_display_names_and_errors(plugin: KrakenSpot) -> None:
    """``assetVersion=1`` keys by display code; an unknown asset or aclass is refused natively."""
    assert set(result(call(plugin, "/0/public/Assets", ("assetVersion", "1")))) >= {"BTC", "USD", "DOGE"}
    assert decoded(call(plugin, "/0/public/Assets", ("asset", "FOO"))) == {"error": ["EQuery:Unknown asset"]}
    assert decoded(call(plugin, "/0/public/Assets", ("aclass", "forex"))) == INVALID
    assert decoded(call(plugin, "/0/public/Assets", ("assetVersion", "2"))) == INVALID


def test_asset_pairs_have_what_ccxt_reads(plugin: KrakenSpot) -> None:
    """Keyed by pair id; ``altname`` (read without a default), base/quote ids, precisions."""
    pairs = result(call(plugin, "/0/public/AssetPairs"))
    assert list(pairs) == ["XBTUSDT", "ETHUSDT", "SOLUSDT", "XXBTZUSD", "XDGUSD"]
    btc = pairs["XBTUSDT"]
    assert btc["altname"] == "XBTUSDT"
    assert btc["wsname"] == "XBT/USDT"
    assert (btc["base"], btc["quote"]) == ("XXBT", "USDT")
    assert (btc["pair_decimals"], btc["lot_decimals"], btc["tick_size"]) == (2, 8, "0.01")
    assert btc["ordermin"] == "0.00001"
    assert btc["status"] == "online"


@pytest.mark.parametrize("name", ["XBTUSDT", "BTCUSDT", "BTC/USDT"])
def test_asset_pairs_filter_by_alias(plugin: KrakenSpot, name: str) -> None:
    """Any REST alias selects the pair; the key stays the pair id."""
    assert list(result(call(plugin, "/0/public/AssetPairs", ("pair", f"{name},XXBTZUSD")))) == [
        "XBTUSDT", "XXBTZUSD",
    ]


def test_asset_pairs_info_display_and_errors(plugin: KrakenSpot) -> None:
    """``info`` narrows the fields; ``assetVersion=1`` uses display names; unknowns are refused."""
    leverage = result(call(plugin, "/0/public/AssetPairs", ("info", "leverage"), ("pair", "XBTUSD")))
    assert leverage == {"XXBTZUSD": {"leverage_buy": [], "leverage_sell": []}}
    display = result(call(plugin, "/0/public/AssetPairs", ("assetVersion", "1"), ("pair", "XBTUSD")))
    assert display["BTC/USD"]["base"] == "BTC"
    assert display["BTC/USD"]["quote"] == "USD"
    assert decoded(call(plugin, "/0/public/AssetPairs", ("pair", "XBT/USD"))) == UNKNOWN_PAIR
    assert decoded(call(plugin, "/0/public/AssetPairs", ("info", "everything"))) == INVALID


# -- OHLC ---------------------------------------------------------------------------------------------

def test_ohlc_latest_720_oldest_first_with_forming_last(plugin: KrakenSpot) -> None:
    """720 contiguous rows, the last one the forming candle, ``last`` the newest committed one."""
    answer = result(call(plugin, OHLC, ("pair", "XBTUSDT")))
    assert set(answer) == {"XBTUSDT", "last"}
    rows = answer["XBTUSDT"]
    forming = NOW_S // MINUTE_S * MINUTE_S
    assert len(rows) == 720
    assert [r[0] for r in rows] == list(range(forming - 719 * MINUTE_S, forming + 1, MINUTE_S))
    assert answer["last"] == forming - MINUTE_S
    model = plugin.model.candle("BTC-USDT", ONE_MINUTE, forming * 1000, NOW)
    assert model is not None and not model.closed
    assert rows[-1][4] == f"{model.close:.2f}"


def test_ohlc_row_types_and_values(plugin: KrakenSpot) -> None:
    """``[int s, open, high, low, close, vwap, volume, int count]`` with strings at Kraken's precision."""
    rows = result(call(plugin, OHLC, ("pair", "XBTUSDT"), ("interval", "5")))["XBTUSDT"]
    for row in rows[-50:]:
        time_s, o, h, low, c, vwap, volume, count = row
        assert isinstance(time_s, int) and isinstance(count, int)
        assert all(isinstance(v, str) for v in (o, h, low, c, vwap, volume))
        assert all(len(v.split(".")[1]) == 2 for v in (o, h, low, c, vwap))
        assert len(volume.split(".")[1]) == 8
        assert Decimal(low) <= Decimal(vwap) <= Decimal(h) if Decimal(volume) else Decimal(vwap) == 0
        candle = plugin.model.candle("BTC-USDT", INTERVALS[5], time_s * 1000, NOW)
        assert candle is not None
        assert (Decimal(o), Decimal(h), Decimal(low), Decimal(c)) == (
            candle.open, candle.high, candle.low, candle.close,
        )
        assert (Decimal(volume), count) == (candle.volume, candle.trades)


@pytest.mark.parametrize("name", ["XBTUSDT", "BTCUSDT", "BTC/USDT"])
def test_ohlc_key_is_the_pair_id_whatever_alias(plugin: KrakenSpot, name: str) -> None:
    """The result key equals the AssetPairs key (ccxt reads ``result[market['id']]``)."""
    assert "XBTUSDT" in result(call(plugin, OHLC, ("pair", name)))


def test_ohlc_legacy_pair_and_display_key(plugin: KrakenSpot) -> None:
    """``XBTUSD`` answers under ``XXBTZUSD``; ``assetVersion=1`` under ``BTC/USD``."""
    assert "XXBTZUSD" in result(call(plugin, OHLC, ("pair", "XBTUSD")))
    assert "BTC/USD" in result(call(plugin, OHLC, ("pair", "XBTUSD"), ("assetVersion", "1")))


@pytest.mark.parametrize("minutes", sorted(INTERVALS))
def test_ohlc_every_interval_is_epoch_aligned(plugin: KrakenSpot, minutes: int) -> None:
    """Each interval's candles open at multiples of its length since the epoch (weeks on Thursday)."""
    rows = result(call(plugin, OHLC, ("pair", "XBTUSDT"), ("interval", str(minutes))))["XBTUSDT"]
    step = minutes * 60
    assert rows[-1][0] == NOW_S // step * step
    assert all(b[0] - a[0] == step for a, b in itertools.pairwise(rows))


def test_ohlc_since_is_exclusive_and_forming_always_present(plugin: KrakenSpot) -> None:
    """Rows strictly after ``since``; the forming row even when ``since`` is past it."""
    forming = NOW_S // MINUTE_S * MINUTE_S
    rows = result(call(plugin, OHLC, ("pair", "XBTUSDT"), ("since", str(forming - 180))))["XBTUSDT"]
    assert [r[0] for r in rows] == [forming - 120, forming - 60, forming]
    future = result(call(plugin, OHLC, ("pair", "XBTUSDT"), ("since", str(NOW_S + 3600))))["XBTUSDT"]
    assert [r[0] for r in future] == [forming]
    fraction = result(call(plugin, OHLC, ("pair", "XBTUSDT"), ("since", f"{forming - 61}.5")))
    assert [r[0] for r in fraction["XBTUSDT"]] == [forming - 60, forming]


def test_ohlc_since_cannot_reach_past_720_rows(plugin: KrakenSpot) -> None:
    """Older data cannot be fetched whatever ``since`` is (Kraken's documented cap)."""
    rows = result(call(plugin, OHLC, ("pair", "XBTUSDT"), ("since", str(NOW_S - 3 * 86400))))["XBTUSDT"]
    forming = NOW_S // MINUTE_S * MINUTE_S
    assert len(rows) == 720
    assert rows[0][0] == forming - 719 * MINUTE_S


def test_ohlc_by_post_form_body(plugin: KrakenSpot) -> None:
    """krakenex-style POST with a form body reads the same parameters."""
    rows = result(call(plugin, OHLC, method="POST", body=b"pair=XBTUSDT&interval=60"))["XBTUSDT"]
    assert rows[-1][0] == NOW_S // 3600 * 3600


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ((), INVALID),
        ((("pair", ""),), INVALID),
        ((("pair", "FOOBAR"),), UNKNOWN_PAIR),
        ((("pair", "XBT/USDT"),), UNKNOWN_PAIR),
        ((("pair", "XBTUSDT,ETHUSDT"),), UNKNOWN_PAIR),
        ((("pair", "xbtusdt"),), UNKNOWN_PAIR),
        ((("pair", "XBTUSDT"), ("interval", "2")), INVALID),
        ((("pair", "XBTUSDT"), ("interval", "1m")), INVALID),
        ((("pair", "XBTUSDT"), ("interval", "1.0")), INVALID),
        ((("pair", "XBTUSDT"), ("interval", "-1")), INVALID),
        ((("pair", "XBTUSDT"), ("interval", "5\n")), INVALID),
        ((("pair", "XBTUSDT"), ("since", "1767225600\n")), INVALID),
        ((("pair", "XBTUSDT"), ("since", "yesterday")), INVALID),
        ((("pair", "XBTUSDT"), ("since", "1e9")), INVALID),
        ((("pair", "XBTUSDT"), ("assetVersion", "0")), INVALID),
    ],
)
def test_ohlc_errors_are_native(
    plugin: KrakenSpot, query: tuple[tuple[str, str], ...], expected: Any
) -> None:
    """Bad requests answer HTTP 200 with Kraken's error array and no result."""
    response = call(plugin, OHLC, *query)
    assert response.status == 200
    assert decoded(response) == expected


def test_unknown_method_and_internal_error(plugin: KrakenSpot) -> None:
    """An unknown path is 404 ``EGeneral:Unknown method``; a failure is 500 ``EGeneral:Internal error``."""
    request = RestRequest("GET", "/0/public/Depth", (), b"", NOW)
    assert plugin.not_found(request).status == 404
    assert decoded(plugin.not_found(request)) == {"error": ["EGeneral:Unknown method"]}
    assert plugin.internal_error(request).status == 500
    assert decoded(plugin.internal_error(request)) == {"error": ["EGeneral:Internal error"]}


_texts = st.text(alphabet=st.sampled_from("XBTUSD/01259.-,e abc"), max_size=12)
_values = st.one_of(
    _texts, st.sampled_from(["XBTUSDT", "BTC/USDT", "XBTUSD", "1", "5", "21600", "0", "1767225600"])
)


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    query=st.lists(
        st.tuples(st.sampled_from(["pair", "interval", "since", "assetVersion", "junk"]), _values),
        max_size=5,
    ),
    post=st.booleans(),
)
def test_fuzz_ohlc_parameters(query: list[tuple[str, str]], post: bool) -> None:
    """Any parameters give a native error or a well-formed answer, never an exception."""
    plugin = KrakenSpot(MarketModel(PAIRS, seed=0), PAIRS)
    if post:
        form = "&".join(f"{k}={v}" for k, v in query).encode()
        response = call(plugin, OHLC, method="POST", body=form)
    else:
        response = call(plugin, OHLC, *query)
    payload = decoded(response)
    assert response.status == 200
    if payload["error"]:
        assert payload in (INVALID, UNKNOWN_PAIR)
    else:
        (_key, rows), (last_key, last) = payload["result"].items()
        assert last_key == "last" and isinstance(last, int)
        assert rows and all(len(r) == 8 for r in rows)
        assert rows[-1][0] > last


# -- WebSocket v2 -------------------------------------------------------------------------------------

def v2(plugin: KrakenSpot) -> V2Session:
    """A fresh v2 session."""
    session = plugin.open_session("/v2", "")
    assert isinstance(session, V2Session)
    return session


def subscribe_v2(symbols: list[str], interval: Any = 1, req_id: int | None = 7, **extra: Any) -> str:
    """A v2 ohlc subscribe message."""
    params: dict[str, Any] = {"channel": "ohlc", "symbol": symbols, "interval": interval, **extra}
    message: dict[str, Any] = {"method": "subscribe", "params": params}
    if req_id is not None:
        message["req_id"] = req_id
    return json.dumps(message)


def test_open_session_paths(plugin: KrakenSpot) -> None:
    """``/v2`` is v2, the bare path v1, anything else is refused with 404."""
    assert isinstance(plugin.open_session("/v2", ""), V2Session)
    assert isinstance(plugin.open_session("/", ""), V1Session)
    assert isinstance(plugin.open_session("", ""), V1Session)
    assert plugin.open_session("/v1", "") == WsReject(404, b"Not Found")


def test_v2_status_on_connect(plugin: KrakenSpot) -> None:
    """A ``status`` update opens every connection."""
    (status,) = sent(v2(plugin).on_open(NOW))
    assert status["channel"] == "status"
    assert status["type"] == "update"
    assert status["data"][0]["system"] == "online"
    assert status["data"][0]["api_version"] == "v2"


def test_v2_subscribe_ack_snapshot_then_stream(plugin: KrakenSpot) -> None:
    """Ack (alphabetical keys, req_id echoed), a 13-row snapshot ending with the forming candle, Subscribe."""
    actions = v2(plugin).on_text(subscribe_v2(["BTC/USDT"]), NOW)
    ack_action, _, subscribe = actions
    assert isinstance(ack_action, Send)
    assert isinstance(ack_action.message, str)
    assert ack_action.message.startswith('{"method":"subscribe","req_id":7,"result":')
    ack, snapshot = sent(actions)
    assert ack["success"] is True
    assert ack["result"] == {
        "channel": "ohlc", "interval": 1, "snapshot": True, "symbol": "BTC/USDT",
        "warnings": ["timestamp is deprecated, use interval_begin"],
    }
    assert ack["time_in"] == rfc3339(NOW) == "2026-01-01T00:00:17.123000Z"
    assert snapshot["channel"] == "ohlc" and snapshot["type"] == "snapshot"
    assert snapshot["timestamp"] == "2026-01-01T00:00:17.123000000Z"
    rows = snapshot["data"]
    assert len(rows) == 13
    assert rows[-1]["interval_begin"] == "2026-01-01T00:00:00.000000000Z"
    assert rows[-1]["timestamp"] == "2026-01-01T00:01:00.000000Z"
    assert rows[0]["interval_begin"] == "2025-12-31T23:48:00.000000000Z"
    assert subscribe == Subscribe(Subscription("BTC-USDT", ONE_MINUTE, "v2"))


def test_v2_numbers_are_json_numbers_at_kraken_precision(plugin: KrakenSpot) -> None:
    """Prices at the tick's decimals and volume with 8, as bare JSON numbers."""
    (_, snapshot, _) = v2(plugin).on_text(subscribe_v2(["BTC/USDT"]), NOW)
    assert isinstance(snapshot, Send) and isinstance(snapshot.message, str)
    row = snapshot.message.split('"data":[')[1].split("}")[0]
    fields = dict(part.split(":", 1) for part in row.replace('"', "").split(",") if part)
    assert len(fields["open"].split(".")[1]) == 2
    assert len(fields["volume"].split(".")[1]) == 8
    assert fields["trades"].isdigit()


def test_v2_snapshot_false_and_several_symbols(plugin: KrakenSpot) -> None:
    """One ack per symbol, no snapshot when ``snapshot`` is false."""
    actions = v2(plugin).on_text(subscribe_v2(["BTC/USDT", "ETH/USDT"], 5, snapshot=False), NOW)
    messages = sent(actions)
    assert [m["result"]["symbol"] for m in messages] == ["BTC/USDT", "ETH/USDT"]
    assert all(m["result"]["snapshot"] is False for m in messages)
    assert [a.subscription.pair for a in actions if isinstance(a, Subscribe)] == ["BTC-USDT", "ETH-USDT"]


@pytest.mark.parametrize(
    ("message", "error", "symbol"),
    [
        (subscribe_v2(["XBT/USDT"]), "Currency pair not supported XBT/USDT", "XBT/USDT"),
        (subscribe_v2(["BTCUSDT"]), "Currency pair not in ISO 4217-A3 format BTCUSDT", "BTCUSDT"),
        (subscribe_v2(["btc/usdt"]), "Currency pair not in ISO 4217-A3 format btc/usdt", "btc/usdt"),
        (subscribe_v2(["BTC/USDT\n"]), "Currency pair not in ISO 4217-A3 format BTC/USDT\n", "BTC/USDT\n"),
        (subscribe_v2(["BTC/USDT"], 2), "Subscription ohlc interval not supported", None),
        (subscribe_v2(["BTC/USDT"], "1"), "Subscription ohlc interval must be an integer", None),
        (subscribe_v2("BTC/USDT"), "Symbol field must be an array", None),  # type: ignore[arg-type]
        (subscribe_v2([]), "Symbol field must be an array", None),
        (subscribe_v2(["BTC/USDT"], depth=10), "Unsupported field: 'depth' for the given msg type: subscribe",
         None),
        (subscribe_v2(["BTC/USDT"], snapshot="yes"), "Malformed request", None),
        ('{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USDT"]},"req_id":7}',
         "Channel book not supported", None),
        ('{"method":"subscribe","params":{"channel":"executions"},"req_id":7}',
         "Private data and trading are unavailable on this endpoint. Try ws-auth.kraken.com", None),
        ('{"method":"subscribe","params":"ohlc","req_id":7}', "Malformed request", None),
        ('{"method":"subscribe","req_id":7}', "Malformed request", None),
    ],
)
def test_v2_subscribe_errors(plugin: KrakenSpot, message: str, error: str, symbol: str | None) -> None:
    """Refusals are ``success: false`` method answers with the request id, and nothing subscribes."""
    actions = v2(plugin).on_text(message, NOW)
    assert not any(isinstance(a, Subscribe) for a in actions)
    (answer,) = sent(actions)
    assert answer["success"] is False
    assert answer["error"] == error
    assert answer["method"] == "subscribe"
    assert answer["req_id"] == 7
    assert answer.get("symbol") == symbol


def test_v2_subscribe_twice_is_refused_per_symbol(plugin: KrakenSpot) -> None:
    """A second subscribe to the same symbol and interval is refused; another interval is not."""
    session = v2(plugin)
    session.on_text(subscribe_v2(["BTC/USDT"]), NOW)
    (again,) = sent(session.on_text(subscribe_v2(["BTC/USDT"]), NOW))
    assert (again["error"], again["symbol"]) == ("Already subscribed", "BTC/USDT")
    other = session.on_text(subscribe_v2(["BTC/USDT"], 5, snapshot=False), NOW)
    assert any(isinstance(a, Subscribe) for a in other)


def test_v2_unsubscribe(plugin: KrakenSpot) -> None:
    """Unsubscribe stops the stream and acks; an unknown subscription is refused."""
    session = v2(plugin)
    session.on_text(subscribe_v2(["BTC/USDT"]), NOW)
    message = (
        '{"method":"unsubscribe","params":{"channel":"ohlc","symbol":["BTC/USDT"],"interval":1},'
        '"req_id":8}'
    )
    actions = session.on_text(message, NOW)
    assert actions[0] == Unsubscribe(Subscription("BTC-USDT", ONE_MINUTE, "v2"))
    (ack,) = sent(actions)
    assert ack["result"] == {"channel": "ohlc", "interval": 1, "symbol": "BTC/USDT"}
    assert (ack["method"], ack["success"], ack["req_id"]) == ("unsubscribe", True, 8)
    (refused,) = sent(session.on_text(message, NOW))
    assert (refused["error"], refused["symbol"], refused["success"]) == (
        "Subscription Not Found", "BTC/USDT", False,
    )


def test_v2_ping_pong(plugin: KrakenSpot) -> None:
    """``{"method": "ping"}`` → ``{"method": "pong", ...}`` (what ccxt's handle_pong reads)."""
    session = v2(plugin)
    (pong,) = sent(session.on_text('{"method":"ping","req_id":101}', NOW))
    assert pong == {"method": "pong", "req_id": 101, "time_in": rfc3339(NOW), "time_out": rfc3339(NOW)}
    (bare,) = sent(session.on_text('{"method":"ping"}', NOW))
    assert bare["method"] == "pong" and "req_id" not in bare
    (refused,) = sent(session.on_text('{"method":"ping","params":{}}', NOW))
    assert refused["error"] == "Unsupported field: 'params' for the given msg type: ping"


@pytest.mark.parametrize(
    ("text", "error", "method"),
    [("not json", "Malformed request", None), ("[1]", "Malformed request", None),
     ('{"method":"hello","req_id":3}', "Event(s) not found", "hello"),
     ('{"req_id":3}', "Event(s) not found", None)],
)
def test_v2_malformed_messages(plugin: KrakenSpot, text: str, error: str, method: str | None) -> None:
    """Garbage and unknown methods get an error answer, the connection stays open."""
    (answer,) = sent(v2(plugin).on_text(text, NOW))
    assert answer["error"] == error
    assert answer["success"] is False
    assert answer.get("method") == method


def test_v2_heartbeat_once_subscribed(plugin: KrakenSpot) -> None:
    """No heartbeat before a subscription, ``{"channel":"heartbeat"}`` every tick after, none after."""
    session = v2(plugin)
    assert session.tick_period == 1.0
    assert session.on_tick(NOW) == []
    session.on_text(subscribe_v2(["BTC/USDT"], snapshot=False), NOW)
    assert session.on_tick(NOW) == [Send('{"channel":"heartbeat"}')]
    session.on_text('{"method":"unsubscribe","params":{"channel":"ohlc","symbol":["BTC/USDT"]}}', NOW)
    assert session.on_tick(NOW) == []
    (ack,) = sent(session.on_text('{"method":"subscribe","params":{"channel":"heartbeat"}}', NOW))
    assert ack["result"] == {"channel": "heartbeat"} and ack["success"] is True
    assert session.on_tick(NOW) == [Send('{"channel":"heartbeat"}')]


def test_v2_push_is_an_update_equal_to_the_rest_row(plugin: KrakenSpot) -> None:
    """The push of a closed candle carries the values REST serves for it afterwards."""
    subscription = Subscription("BTC-USDT", ONE_MINUTE, "v2")
    open_ms = NOW // 60_000 * 60_000 - 60_000
    candle = plugin.model.candle("BTC-USDT", ONE_MINUTE, open_ms, NOW)
    assert candle is not None and candle.closed
    push = json.loads(plugin.encode_push(subscription, candle, NOW))
    assert (push["channel"], push["type"], push["timestamp"]) == (
        "ohlc", "update", "2026-01-01T00:00:17.123000000Z",
    )
    (row,) = push["data"]
    rest = result(call(plugin, OHLC, ("pair", "XBTUSDT")))["XBTUSDT"][-2]
    assert rest[0] * 1000 == open_ms
    assert row["interval_begin"] == "2025-12-31T23:59:00.000000000Z"
    as_rest = [row["open"], row["high"], row["low"], row["close"], row["vwap"]]
    assert [Decimal(str(v)) for v in as_rest] == [Decimal(v) for v in rest[1:6]]
    assert (Decimal(str(row["volume"])), row["trades"]) == (Decimal(rest[6]), rest[7])


def test_push_period_and_no_protocol_heartbeat(plugin: KrakenSpot) -> None:
    """One push a second; Kraken sends application heartbeats, not protocol pings."""
    assert plugin.push_period(Subscription("BTC-USDT", ONE_MINUTE, "v2")) == 1.0
    assert plugin.heartbeat is None
    assert plugin.exchange is ExchangeType.KRAKEN_SPOT
    assert ExchangeType.KRAKEN_SPOT in available()


# -- WebSocket v1 -------------------------------------------------------------------------------------

def v1(plugin: KrakenSpot) -> V1Session:
    """A fresh v1 session."""
    session = plugin.open_session("/", "")
    assert isinstance(session, V1Session)
    return session


SUBSCRIBE_V1 = (
    '{"event":"subscribe","pair":["XBT/USDT"],"subscription":{"name":"ohlc","interval":5},"reqid":42}'
)


def test_v1_system_status_subscribe_and_push(plugin: KrakenSpot) -> None:
    """systemStatus on connect; subscriptionStatus, then the current candle as an array, then the stream."""
    session = v1(plugin)
    (status,) = sent(session.on_open(NOW))
    assert (status["event"], status["status"]) == ("systemStatus", "online")
    actions = session.on_text(SUBSCRIBE_V1, NOW)
    ack, push = sent(actions)
    assert ack == {
        "channelID": ack["channelID"], "channelName": "ohlc-5", "event": "subscriptionStatus",
        "pair": "XBT/USDT", "reqid": 42, "status": "subscribed",
        "subscription": {"interval": 5, "name": "ohlc"},
    }
    channel, values, name, pair = push
    assert (channel, name, pair) == (ack["channelID"], "ohlc-5", "XBT/USDT")
    assert values[0] == "1767225617.123000"
    assert values[1] == "1767225900.000000"  # the interval's end
    assert isinstance(values[8], int)
    assert actions[-1] == Subscribe(Subscription("BTC-USDT", INTERVALS[5], "v1:XBT/USDT"))


def test_v1_errors_ping_heartbeat_unsubscribe(plugin: KrakenSpot) -> None:
    """v1 error shapes, pong, heartbeat while subscribed, unsubscribe."""
    session = v1(plugin)
    (pong,) = sent(session.on_text('{"event":"ping","reqid":9}', NOW))
    assert pong == {"event": "pong", "reqid": 9}
    (bad,) = sent(session.on_text(
        '{"event":"subscribe","pair":["FOO/BAR"],"subscription":{"name":"ohlc"}}', NOW))
    assert (bad["status"], bad["errorMessage"], bad["pair"]) == (
        "error", "Currency pair not supported FOO/BAR", "FOO/BAR",
    )
    (interval,) = sent(session.on_text(
        '{"event":"subscribe","pair":["XBT/USDT"],"subscription":{"name":"ohlc","interval":3}}', NOW))
    assert interval["errorMessage"] == "Subscription ohlc interval not supported"
    (book,) = sent(session.on_text(
        '{"event":"subscribe","pair":["XBT/USDT"],"subscription":{"name":"book"}}', NOW))
    assert book["errorMessage"] == "Subscription name invalid"
    (unknown,) = sent(session.on_text('{"event":"dance"}', NOW))
    assert unknown == {"errorMessage": "Event(s) not found", "event": "error"}
    assert session.on_tick(NOW) == []
    session.on_text(SUBSCRIBE_V1, NOW)
    assert session.on_tick(NOW) == [Send('{"event":"heartbeat"}')]
    actions = session.on_text(SUBSCRIBE_V1.replace('"subscribe"', '"unsubscribe"'), NOW)
    assert isinstance(actions[0], Unsubscribe)
    (gone,) = sent(actions)
    assert gone["status"] == "unsubscribed"
    assert session.on_tick(NOW) == []


def test_v1_push_encoding_echoes_the_requested_name(plugin: KrakenSpot) -> None:
    """v1 accepts ``BTC/USDT`` too and pushes under the name it was asked for."""
    session = v1(plugin)
    actions = session.on_text(SUBSCRIBE_V1.replace("XBT/USDT", "BTC/USDT"), NOW)
    subscription = next(a.subscription for a in actions if isinstance(a, Subscribe))
    candle = plugin.model.candle("BTC-USDT", subscription.interval, NOW, NOW)
    assert candle is not None
    push = json.loads(plugin.encode_push(subscription, candle, NOW))
    assert push[2:] == ["ohlc-5", "BTC/USDT"]


def test_interval_table_is_kraken_minutes() -> None:
    """The nine Kraken intervals; 21600 minutes is 15 days (ccxt calls it ``2w``)."""
    assert sorted(INTERVALS) == [1, 5, 15, 30, 60, 240, 1440, 10080, 21600]
    assert INTERVALS[21600] == Interval.parse("15d")
    assert INTERVALS[10080].floor(NOW) % (7 * 86_400_000) == 0
