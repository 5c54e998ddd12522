"""Coinbase and AscendEX candle pages served from :class:`RowCache` are the bytes of the old encoding.

The references below are the handlers as they were before the rows were cached: ``model.candles``
(Decimal :class:`Candle` objects), one dict per row, ``orjson.dumps`` of the whole answer. Each
property runs a few requests on one plugin at later and later seconds, so cold rows, cached closed
rows and the recomputed forming row are all compared, with odd ticks and lots, gaps and listings.
"""

from __future__ import annotations

from decimal import Decimal

import orjson
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mockfeed.exchanges.ascend_ex import AscendExSpot
from mockfeed.exchanges.ascend_ex import errors as ax_errors
from mockfeed.exchanges.ascend_ex.params import Params
from mockfeed.exchanges.ascend_ex.plugin import INTERVALS
from mockfeed.exchanges.base import RestRequest
from mockfeed.exchanges.coinbase import CoinbaseAdvancedTrade
from mockfeed.exchanges.coinbase import errors as cb_errors
from mockfeed.exchanges.coinbase.params import GRANULARITIES, Query
from mockfeed.exchanges.rows import Layout
from mockfeed.market import Candle, Interval, MarketModel, PairSpec
from mockfeed.market.scenario import Gap, Listing, Scenario
from tests.support.pairs import odd_pairs

NOW = 1_767_225_617_123  # 2026-01-01T00:00:17.123Z
YEARS_MS = 9 * 365 * 86_400_000
DAY_MS = 86_400_000
CANDLES = "/api/v3/brokerage/market/products/{product_id}/candles"
BARHIST = "/api/pro/v1/barhist"

pairs = odd_pairs()


@st.composite
def models(draw: st.DrawFn) -> tuple[MarketModel, PairSpec, int]:
    """A one-pair model, perhaps with a gap and a listing, and a market time to ask at."""
    spec = draw(pairs)
    now = NOW - draw(st.integers(0, YEARS_MS))
    events: list[Gap | Listing] = []
    if draw(st.booleans()):
        at = now - draw(st.integers(0, 3 * DAY_MS))
        events.append(Gap(at=max(at, 1_483_228_800_000), over=draw(st.sampled_from(["3m", "2h", "1d", "9d"]))))
    if draw(st.booleans()):
        events.append(Listing(at=max(now - draw(st.integers(0, 30 * DAY_MS)), 1_483_228_800_000)))
    scenario = Scenario(events).at(NOW) if events else None
    backend = draw(st.sampled_from(["auto", "python"]))  # numpy batches, or lists
    model = MarketModel([spec], seed=draw(st.integers(0, 2**31)), scenario=scenario, backend=backend)
    return model, spec, now


def _outcome(body: bytes) -> str:
    """What kind of answer a body is (for hypothesis' statistics)."""
    rows = body.count(b'"start"') + body.count(b'"ts"')
    if rows:
        return "rows" if rows > 20 else "a few rows"
    return "empty" if body.endswith(b"[]}") else "error"


# -- Coinbase: the reference --------------------------------------------------------------------


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def coinbase_reference(plugin: CoinbaseAdvancedTrade, request: RestRequest) -> bytes:
    """The candles body (or error body) as ``_candles`` built it from Candle objects."""
    try:
        rows = _coinbase_rows(plugin, request)
    except cb_errors.CoinbaseError as error:
        return error.response().body
    return orjson.dumps({"candles": rows})


def _coinbase_rows(plugin: CoinbaseAdvancedTrade, request: RestRequest) -> list[dict[str, str]]:
    pair = plugin.products.get(request.path_params["product_id"])
    if pair is None:
        raise cb_errors.INVALID_PRODUCT
    query = Query(request.params())
    interval = query.granularity()
    start, end = query.seconds("start"), query.seconds("end")
    limit = query.count("limit") or cb_errors.MAX_CANDLES
    if start is None or end is None:
        raise cb_errors.time_range("start and end must both be set")
    if start > end:
        raise cb_errors.time_range("start must be before end")
    if end - start > cb_errors.MAX_CANDLES * interval.seconds:
        raise cb_errors.TOO_MANY_CANDLES
    if limit > cb_errors.MAX_CANDLES:
        raise cb_errors.argument("limit")
    if end == start:
        return []
    first = interval.floor(start * 1000)
    last = min(interval.floor(end * 1000 - 1), interval.floor(request.now_ms))
    if last < first:
        return []
    count = min(limit, (last - first) // interval.ms + 1)
    candles = plugin.model.candles(pair.name, interval, now_ms=request.now_ms, limit=count, end_ms=last)
    return [_coinbase_row(c) for c in reversed(candles)]


def _coinbase_row(candle: Candle) -> dict[str, str]:
    return {
        "start": str(candle.open_time // 1000),
        "low": _plain(candle.low),
        "high": _plain(candle.high),
        "open": _plain(candle.open),
        "close": _plain(candle.close),
        "volume": _plain(candle.volume),
    }


def _coinbase_request(product: str, query: list[tuple[str, str]], now: int) -> RestRequest:
    path = CANDLES.format(product_id=product)
    return RestRequest("GET", path, tuple(query), b"", now, path_params={"product_id": product})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    setup=models(),
    name=st.sampled_from(sorted(GRANULARITIES)),
    back_buckets=st.integers(-3, 2000),
    span_buckets=st.integers(-2, 360),
    jitter=st.integers(0, 3599),
    limit=st.one_of(st.none(), st.integers(0, 400)),
    later=st.lists(st.integers(0, 90_000), min_size=1, max_size=3),
)
def test_coinbase_pages_equal_the_decimal_encoding(
    setup: tuple[MarketModel, PairSpec, int],
    name: str,
    back_buckets: int,
    span_buckets: int,
    jitter: int,
    limit: int | None,
    later: list[int],
) -> None:
    model, spec, now = setup
    plugin = CoinbaseAdvancedTrade(model, [spec])
    handler = plugin.routes()[("GET", CANDLES)]
    seconds = GRANULARITIES[name].seconds
    end = now // 1000 - back_buckets * seconds + jitter % seconds
    query = [("start", str(end - span_buckets * seconds)), ("end", str(end)), ("granularity", name)]
    if limit is not None:
        query.append(("limit", str(limit)))
    at = now
    for step in later:  # the same page at later seconds: cached closed rows, a new forming row
        at += step
        request = _coinbase_request(spec.name, query, at)
        answer = handler(request)
        assert answer.body == coinbase_reference(plugin, request)
        assert answer.reuse == plugin.reusable(request)
        event(_outcome(answer.body))


def test_coinbase_rows_are_a_layout_of_the_raw_integers() -> None:
    spec = PairSpec("BTC", "USDT", Decimal("50000"), 0.9, Decimal("0.01"), Decimal("0.00001"), 1e9)
    plugin = CoinbaseAdvancedTrade(MarketModel([spec]), [spec])
    assert isinstance(plugin.layouts[spec.name], Layout)


def test_coinbase_latest_full_page_twice_in_one_second_and_the_next() -> None:
    spec = PairSpec("BTC", "USDT", Decimal("50000"), 0.9, Decimal("0.01"), Decimal("0.00001"), 1e9)
    plugin = CoinbaseAdvancedTrade(MarketModel([spec], seed=5), [spec])
    handler = plugin.routes()[("GET", CANDLES)]
    end = NOW // 1000
    query = [("start", str(end - 349 * 60)), ("end", str(end + 60)), ("granularity", "ONE_MINUTE")]
    for at in (NOW, NOW, NOW + 1000, NOW + 61_000):
        request = _coinbase_request(spec.name, query, at)
        answer = handler(request)
        assert answer.body == coinbase_reference(plugin, request)
        assert len(orjson.loads(answer.body)["candles"]) == 350


# -- AscendEX: the reference --------------------------------------------------------------------


def ascend_ex_reference(plugin: AscendExSpot, request: RestRequest) -> bytes:
    """The barhist body (or error body) as ``_barhist`` built it from Candle objects."""
    try:
        rows = _ascend_ex_bars(plugin, request)
    except ax_errors.AscendExError as error:
        return error.response().body
    return orjson.dumps({"code": 0, "data": rows})


def _ascend_ex_bars(plugin: AscendExSpot, request: RestRequest) -> list[dict[str, object]]:
    params = Params(request.params())
    symbol = params.text("symbol")
    name = params.text("interval")
    end = params.timestamp("to")
    start = params.timestamp("from")
    count = params.count("n")
    pair = plugin.symbols.get(symbol)
    if pair is None:
        raise ax_errors.bad_symbol(symbol)
    interval = plugin.intervals.get(name)
    if interval is None:
        raise ax_errors.bad_argument(f"Invalid interval: {name[:64]}")
    product = plugin.product
    if count is None:
        count = product.max_bars if start is not None else product.default_bars
    limit = min(count, product.max_bars)
    candles = plugin.model.candles(
        pair.name, interval, now_ms=request.now_ms, limit=limit,
        end_ms=request.now_ms if end is None else end,
    )
    if start is not None:
        candles = [c for c in candles if c.open_time >= start]
    return [_ascend_ex_bar(pair, name, c) for c in candles]


def _ascend_ex_bar(pair: PairSpec, name: str, candle: Candle) -> dict[str, object]:
    p, v = pair.price_decimals, pair.volume_decimals
    return {
        "m": "bar",
        "s": f"{pair.base}/{pair.quote}",
        "data": {
            "i": name,
            "ts": candle.open_time,
            "o": f"{candle.open:.{p}f}",
            "c": f"{candle.close:.{p}f}",
            "h": f"{candle.high:.{p}f}",
            "l": f"{candle.low:.{p}f}",
            "v": f"{candle.volume:.{v}f}",
        },
    }


def _interval_ms(name: str) -> int:
    interval = Interval.parse(INTERVALS[name])
    return interval.seconds * 1000 if interval.seconds else 31 * DAY_MS


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    setup=models(),
    name=st.sampled_from(sorted(INTERVALS)),
    to_back=st.one_of(st.none(), st.integers(-5, 3000)),
    from_back=st.one_of(st.none(), st.integers(-3, 700)),
    jitter=st.integers(0, 10**7),
    count=st.one_of(st.none(), st.integers(1, 700)),
    later=st.lists(st.integers(0, 90_000), min_size=1, max_size=3),
)
def test_ascend_ex_pages_equal_the_decimal_encoding(
    setup: tuple[MarketModel, PairSpec, int],
    name: str,
    to_back: int | None,
    from_back: int | None,
    jitter: int,
    count: int | None,
    later: list[int],
) -> None:
    model, spec, now = setup
    plugin = AscendExSpot(model, [spec])
    handler = plugin.routes()[("GET", BARHIST)]
    step = _interval_ms(name)
    to = now - (to_back or 0) * step + jitter % step
    query = [("symbol", f"{spec.base}/{spec.quote}"), ("interval", name)]
    if to_back is not None:
        query.append(("to", str(max(to, 0))))
    if from_back is not None:
        query.append(("from", str(max(to - from_back * step - jitter % step, 0))))
    if count is not None:
        query.append(("n", str(count)))
    at = now
    for delay in later:
        at += delay
        request = RestRequest("GET", BARHIST, tuple(query), b"", at)
        answer = handler(request)
        assert answer.body == ascend_ex_reference(plugin, request)
        assert answer.reuse == plugin.reusable(request)
        event(_outcome(answer.body))


def test_ascend_ex_latest_full_page_twice_in_one_second_and_the_next() -> None:
    spec = PairSpec("BTC", "USDT", Decimal("50000"), 0.9, Decimal("0.01"), Decimal("0.00001"), 1e9)
    plugin = AscendExSpot(MarketModel([spec], seed=5), [spec])
    handler = plugin.routes()[("GET", BARHIST)]
    query = (("symbol", "BTC/USDT"), ("interval", "1"), ("n", "500"))
    for at in (NOW, NOW, NOW + 1000, NOW + 61_000):
        request = RestRequest("GET", BARHIST, query, b"", at)
        answer = handler(request)
        assert answer.body == ascend_ex_reference(plugin, request)
        assert len(orjson.loads(answer.body)["data"]) == 500


def test_ascend_ex_rows_are_layouts_for_every_interval() -> None:
    spec = PairSpec("XYZ", "USDT", Decimal("3"), 0.9, Decimal("0.25"), Decimal("100"), 1e6)
    plugin = AscendExSpot(MarketModel([spec]), [spec])
    assert all(isinstance(plugin.bar_layout(spec, name), Layout) for name in INTERVALS)
