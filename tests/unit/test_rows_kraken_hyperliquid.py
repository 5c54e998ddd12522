"""Kraken OHLC and Hyperliquid candleSnapshot answers built from cached rows are the bytes of the
old per-row Decimal encoding.

The references below are the handlers' encodings as they were before :class:`RowCache` served
them: ``model.candles(...)`` turned into rows one :class:`Candle` at a time. Each example asks the
same plugin twice (a later time, so closed rows come from the cache and the forming one is new),
over random pairs, intervals, windows, listings and gaps.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockfeed.exchanges.base import RestRequest
from mockfeed.exchanges.hyperliquid import HyperliquidPerpetual, HyperliquidSpot
from mockfeed.exchanges.hyperliquid.plugin import _Hyperliquid
from mockfeed.exchanges.hyperliquid.wire import INTERVALS as HL_INTERVALS
from mockfeed.exchanges.kraken import KrakenSpot
from mockfeed.exchanges.kraken.wire import INTERVALS as KRAKEN_INTERVALS
from mockfeed.exchanges.kraken.wire import fixed, vwap
from mockfeed.exchanges.rows import Layout, integer, plain
from mockfeed.market import Interval, MarketModel, PairSpec
from mockfeed.market.scenario import Event, Gap, Listing, Scenario
from tests.support.pairs import odd_pairs

NOW = 1_767_225_617_123  # 2026-01-01T00:00:17.123Z
YEARS_MS = 8 * 365 * 86_400_000
EARLIEST_MS = 1_483_228_800_000  # scenario times start at 2017-01-01

pairs = odd_pairs(("USDT", "USD"))


@st.composite
def events(draw: st.DrawFn, now: int, interval_ms: int) -> list[Event]:
    """No event, a listing, a gap, or both, near the pages asked for."""
    out: list[Event] = []
    if draw(st.booleans()):
        out.append(Listing(at=max(EARLIEST_MS, now - draw(st.integers(-3, 800)) * interval_ms)))
    if draw(st.booleans()):
        at = max(EARLIEST_MS, now - draw(st.integers(0, 800)) * interval_ms)
        out.append(Gap(at=at, over=draw(st.sampled_from(["90s", "10m", "3h", "2d", "40d"]))))
    return out


def model_of(spec: PairSpec, seed: int, scenario: list[Event]) -> MarketModel:
    bound = Scenario(scenario).at(NOW) if scenario else None
    return MarketModel([spec], seed=seed, scenario=bound)


# -- Kraken ------------------------------------------------------------------------------------------

def kraken_reference(plugin: KrakenSpot, query: dict[str, str], now: int) -> bytes:
    """The old ``/0/public/OHLC`` body of a valid request."""
    market = plugin.by_rest_name[query["pair"]]
    interval = KRAKEN_INTERVALS[int(query["interval"])]
    since = int(query["since"]) if "since" in query else None
    candles = plugin.model.candles(market.spec.name, interval, now_ms=now, limit=720)
    forming_open = interval.floor(now)
    if since is not None:
        candles = [c for c in candles if c.open_time // 1000 > since or c.open_time == forming_open]
    places = market.spec.price_decimals
    rows = [
        [c.open_time // 1000, fixed(c.open, places), fixed(c.high, places), fixed(c.low, places),
         fixed(c.close, places), fixed(vwap(c, places), places), fixed(c.volume, 8), c.trades]
        for c in candles
    ]
    key = market.key("assetVersion" in query)
    return orjson.dumps({"error": [], "result": {key: rows, "last": interval.prev(forming_open) // 1000}})


def kraken_body(plugin: KrakenSpot, query: dict[str, str], now: int, method: str = "GET") -> bytes:
    if method == "POST":
        form = "&".join(f"{k}={v}" for k, v in query.items()).encode()
        request = RestRequest("POST", "/0/public/OHLC", (), form, now)
    else:
        request = RestRequest("GET", "/0/public/OHLC", tuple(query.items()), b"", now)
    response = plugin.routes()[(method, "/0/public/OHLC")](request)
    assert response.status == 200
    return response.body


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=pairs,
    seed=st.integers(0, 2**31),
    minutes=st.sampled_from(sorted(KRAKEN_INTERVALS)),
    back=st.integers(0, YEARS_MS),
    since=st.none() | st.integers(-5, 900),
    display=st.booleans(),
    later=st.integers(0, 3 * 86_400_000),
    method=st.sampled_from(["GET", "POST"]),
    data=st.data(),
)
def test_kraken_ohlc_equals_the_decimal_encoding(
    spec: PairSpec, seed: int, minutes: int, back: int, since: int | None, display: bool, later: int,
    method: str, data: st.DataObject,
) -> None:
    interval = KRAKEN_INTERVALS[minutes]
    now = NOW - back
    model = model_of(spec, seed, data.draw(events(now, interval.ms)))
    plugin = KrakenSpot(model, [spec])
    query = {"pair": plugin.markets[0].altname, "interval": str(minutes)}
    if since is not None:  # counted in intervals back from now (negative: in the future)
        query["since"] = str(max(0, (now - since * interval.ms) // 1000))
    if display:
        query["assetVersion"] = "1"
    for t in (now, now + later % interval.ms, now + later):  # cold, then the same page warm
        assert kraken_body(plugin, query, t, method) == kraken_reference(plugin, query, t)


# -- Hyperliquid -------------------------------------------------------------------------------------

def hyperliquid_reference(plugin: _Hyperliquid, req: dict[str, Any], now: int) -> bytes:
    """The old ``candleSnapshot`` body of a valid request."""
    market = plugin.by_coin.get(req["coin"])
    if market is None:
        return b"[]"
    code = req["interval"]
    interval = HL_INTERVALS[code]
    start, end = req["startTime"], req.get("endTime")
    last = now if end is None else min(end, now)
    name = market.pair.name
    if start > last:
        candles = []
    elif interval.floor(last) - start < 5000 * interval.ms:
        candles = plugin.model.candles(name, interval, now_ms=now, limit=5000, start_ms=start, end_ms=last)
    else:
        candles = plugin.model.candles(name, interval, now_ms=now, limit=5000, end_ms=last)
        candles = [c for c in candles if c.open_time >= start]

    def num(value: Decimal) -> str:
        text = f"{value.normalize():f}"
        return text if "." in text else text + ".0"

    return orjson.dumps([
        {"t": c.open_time, "T": c.close_time, "s": req["coin"], "i": code, "o": num(c.open),
         "c": num(c.close), "h": num(c.high), "l": num(c.low), "v": num(c.volume), "n": c.trades}
        for c in candles
    ])


def hyperliquid_body(plugin: _Hyperliquid, req: dict[str, Any], now: int) -> bytes:
    body = json.dumps({"type": "candleSnapshot", "req": req}).encode()
    response = plugin.routes()[("POST", "/info")](RestRequest("POST", "/info", (), body, now))
    assert response.status == 200
    return response.body


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=pairs,
    seed=st.integers(0, 2**31),
    perp=st.booleans(),
    code=st.sampled_from(list(HL_INTERVALS)),
    back=st.integers(0, YEARS_MS),
    start_back=st.integers(-3, 7000),
    span=st.none() | st.integers(-2, 7000),
    jitter=st.integers(-1, 1),
    later=st.integers(0, 3 * 86_400_000),
    data=st.data(),
)
def test_hyperliquid_snapshot_equals_the_decimal_encoding(
    spec: PairSpec, seed: int, perp: bool, code: str, back: int, start_back: int, span: int | None,
    jitter: int, later: int, data: st.DataObject,
) -> None:
    interval = HL_INTERVALS[code]
    now = NOW - back
    model = model_of(spec, seed, data.draw(events(now, interval.ms)))
    plugin: _Hyperliquid = (HyperliquidPerpetual if perp else HyperliquidSpot)(model, [spec])
    coin = next(iter(plugin.by_coin))
    start = max(0, now - start_back * interval.ms + jitter)
    req: dict[str, Any] = {"coin": coin, "interval": code, "startTime": start}
    if span is not None:
        req["endTime"] = max(0, start + span * interval.ms - jitter)
    for t in (now, now + later % interval.ms, now + later):  # cold, then the same page warm
        assert hyperliquid_body(plugin, req, t) == hyperliquid_reference(plugin, req, t)
    assert hyperliquid_body(plugin, {**req, "coin": "NOPE"}, now) == b"[]"


@pytest.mark.parametrize("code", ["1m", "1h", "1d", "1w", "1M"])
def test_hyperliquid_full_pages_of_the_default_pairs(code: str) -> None:
    """5000-row pages (numpy batches) of every default pair, both products, cold and warm."""
    from mockfeed.market import pair_spec

    specs = [pair_spec(n) for n in ("BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "DOGE-USDT")]
    model = MarketModel(specs, seed=5)
    for cls in (HyperliquidSpot, HyperliquidPerpetual):
        plugin = cls(model, specs)
        for coin in plugin.by_coin:
            req = {"coin": coin, "interval": code, "startTime": 0}
            for t in (NOW, NOW + 1000):
                assert hyperliquid_body(plugin, req, t) == hyperliquid_reference(plugin, req, t)


# -- the field Hyperliquid writes numbers with ---------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.integers(0, 2**63 - 1) | st.integers(0, 10**6), min_size=1, max_size=40),
    step=st.sampled_from([Decimal(x) for x in ("1", "0.01", "0.05", "0.00000001", "10", "2.5", "100")]),
)
def test_point_field_is_plain_with_a_point_on_both_paths(values: list[int], step: Decimal) -> None:
    np = pytest.importorskip("numpy")
    layout = Layout('{"a":"', plain(2, step, point=True), '","t":', integer(0), "}")
    columns = [list(values) for _ in range(11)]
    python = layout.columns(columns)
    assert layout.columns(np.array(columns, dtype=np.int64)) == python
    for value, row in zip(values, python, strict=True):
        text = f"{(value * step).normalize():f}"
        assert row == b'{"a":"%s","t":%d}' % ((text if "." in text else text + ".0").encode(), value)


def test_interval_codes_are_one_to_one() -> None:
    """Rows are cached by (pair, interval): an interval must name one code (the code is in the row)."""
    assert len(set(HL_INTERVALS.values())) == len(HL_INTERVALS)
    assert all(isinstance(i, Interval) for i in KRAKEN_INTERVALS.values())
