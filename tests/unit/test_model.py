"""Unit and property tests of :mod:`mockfeed.market.model`: the deterministic random-access market.

Every test passes an explicit ``now_ms`` (2026-06-01T00:00:00Z, a Monday and the 1st of a month, so
a boundary of every standard interval but ``3d``), so results do not depend on the wall clock.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import statistics
import subprocess
import sys
from collections.abc import Sequence
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockfeed.market import (
    ANCHOR_MS,
    DEFAULT_HISTORY_START_MS,
    DEFAULT_PAIRS,
    STANDARD_CODES,
    Candle,
    Interval,
    MarketModel,
    daypath,
    draws,
    nodes,
    pair_spec,
    parse_pairs,
)
from mockfeed.market.model import RawCandle

SECOND_MS = 1000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
NOW_MS = 1_780_272_000_000  # 2026-06-01T00:00:00Z
FIVE_YEARS_AGO_MS = NOW_MS - 5 * 365 * DAY_MS
SEED = 20_240_601

ALL_PAIRS = (*DEFAULT_PAIRS, "DOGE-USDT", "XRP-USDT", "FOO-BAR")
MODEL = MarketModel([pair_spec(name) for name in ALL_PAIRS], seed=SEED)

# (sub-interval, interval): the interval's candles are the exact aggregates of the sub-interval's.
AGGREGATIONS = (
    ("1s", "1m"),
    ("1m", "1h"),
    ("1m", "15m"),
    ("1m", "3m"),
    ("5m", "30m"),
    ("1h", "1d"),
    ("1h", "4h"),
    ("2h", "12h"),
    ("1d", "3d"),
    ("1d", "1w"),
    ("1d", "1M"),
)
# The same in a time zone (Binance's timeZone parameter): boundaries shift, aggregation holds.
ZONED_AGGREGATIONS = (
    ("1h", "1d", 8 * HOUR_MS),
    ("1d", "1w", 8 * HOUR_MS),
    ("1d", "1M", 8 * HOUR_MS),
    ("1h", "1d", -5 * HOUR_MS),
    ("15m", "1h", 5 * HOUR_MS + 45 * 60_000),
)
# Intervals cheap enough for pages of many candles in every example.
CHEAP_CODES = ("1s", "1m", "3m", "15m", "1h", "4h", "1d", "1w")

pairs = st.sampled_from(DEFAULT_PAIRS)
any_pairs = st.sampled_from(ALL_PAIRS)
standard = st.sampled_from(STANDARD_CODES).map(Interval.parse)
cheap = st.sampled_from(CHEAP_CODES).map(Interval.parse)
seeds = st.integers(min_value=0, max_value=2**64)
recent = st.integers(min_value=FIVE_YEARS_AGO_MS, max_value=NOW_MS - 1)
# Times whose candles (up to a month long) all closed before NOW_MS.
settled = st.integers(min_value=FIVE_YEARS_AGO_MS, max_value=NOW_MS - 32 * DAY_MS)
history = st.integers(min_value=DEFAULT_HISTORY_START_MS, max_value=NOW_MS - 1)
few = settings(max_examples=25, deadline=None)
some = settings(max_examples=40, deadline=None)


def values(candle: Candle) -> tuple[object, ...]:
    """The market values of a candle (no times, no closed flag), for comparing aggregates."""
    return (
        candle.open,
        candle.high,
        candle.low,
        candle.close,
        candle.volume,
        candle.quote_volume,
        candle.trades,
        candle.taker_buy_volume,
        candle.taker_buy_quote_volume,
    )


def aggregate(candles: Sequence[Candle]) -> tuple[object, ...]:
    """The exact aggregate of consecutive candles, in the order of :func:`values`."""
    assert candles
    return (
        candles[0].open,
        max(c.high for c in candles),
        min(c.low for c in candles),
        candles[-1].close,
        sum((c.volume for c in candles), Decimal(0)),
        sum((c.quote_volume for c in candles), Decimal(0)),
        sum(c.trades for c in candles),
        sum((c.taker_buy_volume for c in candles), Decimal(0)),
        sum((c.taker_buy_quote_volume for c in candles), Decimal(0)),
    )


def fresh(seed: int = SEED, names: Sequence[str] = ALL_PAIRS, **kwargs: int) -> MarketModel:
    """A new model with cold caches."""
    return MarketModel([pair_spec(name) for name in names], seed=seed, **kwargs)


def first_open_at_or_after(interval: Interval, t: int) -> int:
    """Binance's rule for startTime: the first candle opening at or after ``t``."""
    start = interval.floor(t)
    return start if start == t else interval.next(start)


def assert_contiguous(interval: Interval, page: Sequence[Candle]) -> None:
    """Candles are aligned, oldest first, with no gaps or overlaps."""
    for candle in page:
        assert interval.floor(candle.open_time) == candle.open_time
        assert candle.close_time == interval.next(candle.open_time) - 1
    for before, after in pairwise(page):
        assert after.open_time == interval.next(before.open_time)


def assert_valid(model: MarketModel, pair: str, candle: Candle) -> None:
    """OHLC, volume and grid invariants of one candle."""
    spec = model.pair(pair).spec
    assert 0 < candle.low <= candle.open <= candle.high
    assert candle.low <= candle.close <= candle.high
    assert candle.volume >= 0
    assert candle.quote_volume >= 0
    assert 0 <= candle.taker_buy_volume <= candle.volume
    assert 0 <= candle.taker_buy_quote_volume <= candle.quote_volume
    assert candle.trades >= 0
    for price in (candle.open, candle.high, candle.low, candle.close):
        assert price % spec.tick_size == 0
    for volume in (candle.volume, candle.taker_buy_volume):
        assert volume % spec.lot_size == 0
    for quote in (candle.quote_volume, candle.taker_buy_quote_volume):
        assert quote % (spec.tick_size * spec.lot_size) == 0
    assert candle.close_time > candle.open_time


def sub_candles(model: MarketModel, pair: str, sub: Interval, candle: Candle, now_ms: int) -> list[Candle]:
    """The sub-interval candles that tile ``candle``, as they stand at ``now_ms``."""
    return model.candles(
        pair, sub, now_ms=now_ms, limit=1000, start_ms=candle.open_time, end_ms=candle.close_time
    )


# -- determinism -----------------------------------------------------------------------------


@few
@given(seed=seeds, pair=pairs, interval=cheap, a=recent, b=recent)
def test_same_seed_same_candles_in_any_order(
    seed: int, pair: str, interval: Interval, a: int, b: int
) -> None:
    """Two models with one seed serve identical pages, whatever order they are asked in."""
    one, two = fresh(seed), fresh(seed)
    page_a = one.candles(pair, interval, now_ms=NOW_MS, limit=30, start_ms=a)
    page_b = one.candles(pair, interval, now_ms=NOW_MS, limit=30, start_ms=b)
    assert two.candles(pair, interval, now_ms=NOW_MS, limit=30, start_ms=b) == page_b
    assert two.candles(pair, interval, now_ms=NOW_MS, limit=30, start_ms=a) == page_a
    assert page_a and page_b


@few
@given(seed=seeds, pair=pairs, interval=cheap, t=recent)
def test_cache_size_does_not_change_candles(seed: int, pair: str, interval: Interval, t: int) -> None:
    """A model with a one-entry cache serves the same candles as one with the default cache."""
    tiny = fresh(seed, cache_size=1)
    page = tiny.candles(pair, interval, now_ms=NOW_MS, limit=30, start_ms=t)
    assert page == fresh(seed).candles(pair, interval, now_ms=NOW_MS, limit=30, start_ms=t)


@few
@given(seed=seeds, t=recent)
def test_other_pairs_do_not_change_a_pair(seed: int, t: int) -> None:
    """A pair's candles do not depend on which other pairs the model serves."""
    hour = Interval.parse("1h")
    alone = fresh(seed, ["ETH-USDT"]).candles("ETH-USDT", hour, now_ms=NOW_MS, limit=24, start_ms=t)
    together = fresh(seed).candles("ETH-USDT", hour, now_ms=NOW_MS, limit=24, start_ms=t)
    assert alone == together


@few
@given(a=seeds, b=seeds, pair=pairs, t=recent)
def test_different_seed_different_path(a: int, b: int, pair: str, t: int) -> None:
    """Different seeds give different candles for the same pair and time."""
    if a == b:
        b = a + 1
    hour = Interval.parse("1h")
    page_a = fresh(a).candles(pair, hour, now_ms=NOW_MS, limit=24, start_ms=t)
    page_b = fresh(b).candles(pair, hour, now_ms=NOW_MS, limit=24, start_ms=t)
    assert [values(c) for c in page_a] != [values(c) for c in page_b]
    assert [c.close for c in page_a] != [c.close for c in page_b]


@few
@given(seed=seeds, t=recent)
def test_different_pair_different_path(seed: int, t: int) -> None:
    """Pairs with identical parameters still follow different paths under one seed."""
    names = ("BTC-USDT", "BTC-EUR", "FOO-USDT", "BAR-USDT")
    model = fresh(seed, names)
    assert model.pair("BTC-USDT").spec.start_price == model.pair("BTC-EUR").spec.start_price
    assert model.pair("FOO-USDT").spec.start_price == model.pair("BAR-USDT").spec.start_price
    hour = Interval.parse("1h")
    closes = {
        name: [c.close for c in model.candles(name, hour, now_ms=NOW_MS, limit=24, start_ms=t)]
        for name in names
    }
    assert closes["BTC-USDT"] != closes["BTC-EUR"]
    assert closes["FOO-USDT"] != closes["BAR-USDT"]


@few
@given(seed=seeds, pair=any_pairs, code=st.sampled_from(("1s", "1m", "1h", "1d")))
def test_anchor_price_is_the_start_price(seed: int, pair: str, code: str) -> None:
    """At the anchor (2025-01-01 00:00 UTC) every pair opens at its spec's start price."""
    model = fresh(seed)
    candle = model.candle(pair, Interval.parse(code), ANCHOR_MS, NOW_MS)
    assert candle is not None
    assert candle.open == model.pair(pair).spec.start_price


def test_default_pairs_trade_near_their_start_prices() -> None:
    """Near the anchor the default pairs trade around 50000, 3000 and 100."""
    day = Interval.parse("1d")
    for name, price in zip(DEFAULT_PAIRS, (50_000, 3_000, 100), strict=True):
        candle = MODEL.candle(name, day, ANCHOR_MS, NOW_MS)
        assert candle is not None
        assert Decimal(price) * Decimal("0.8") < candle.close < Decimal(price) * Decimal("1.25")


# -- invariants ------------------------------------------------------------------------------


@some
@given(pair=any_pairs, interval=standard, t=history)
def test_candle_invariants(pair: str, interval: Interval, t: int) -> None:
    """Every candle has low <= open, close <= high, sane volumes and on-grid prices and sizes."""
    page = MODEL.candles(pair, interval, now_ms=NOW_MS, limit=8, start_ms=t)
    candle = MODEL.candle(pair, interval, t, NOW_MS)
    assert candle is not None
    assert candle.open_time == interval.floor(t)
    assert candle.closed == (interval.next(candle.open_time) <= NOW_MS)
    assert candle.close_time == interval.next(candle.open_time) - 1
    for c in [candle, *page]:
        assert_valid(MODEL, pair, c)


@some
@given(pair=any_pairs, interval=cheap, t=recent)
def test_prices_are_continuous(pair: str, interval: Interval, t: int) -> None:
    """Each candle opens at the previous candle's close (the path has no gaps)."""
    page = MODEL.candles(pair, interval, now_ms=NOW_MS, limit=20, start_ms=t)
    for before, after in pairwise(page):
        assert after.open == before.close


@some
@given(pair=any_pairs, code=st.sampled_from(("1d", "3d", "1w", "1M")), t=history)
def test_average_price_within_range_daily_and_longer(pair: str, code: str, t: int) -> None:
    """For 1d and longer candles the average trade price lies within [low, high]."""
    interval = Interval.parse(code)
    for c in MODEL.candles(pair, interval, now_ms=NOW_MS, limit=5, start_ms=t):
        assert c.low * c.volume <= c.quote_volume <= c.high * c.volume
        assert c.low * c.taker_buy_volume <= c.taker_buy_quote_volume
        assert c.taker_buy_quote_volume <= c.high * c.taker_buy_volume


@pytest.mark.parametrize("code", ["1h", "1m", "1s"])
def test_average_price_within_range_intraday(code: str) -> None:
    """Intraday candles' average trade price (quote_volume / volume) lies within [low, high]."""
    interval = Interval.parse(code)
    start = NOW_MS - 40 * DAY_MS + 5 * HOUR_MS
    outside = []
    for pair in DEFAULT_PAIRS:
        for c in MODEL.candles(pair, interval, now_ms=NOW_MS, limit=48, start_ms=start):
            if not c.low * c.volume <= c.quote_volume <= c.high * c.volume:
                outside.append((pair, c.open_time, c.low, c.quote_volume / c.volume, c.high))
    assert not outside, f"{len(outside)} of {3 * 48} candles, e.g. {outside[:3]}"


# -- aggregation -----------------------------------------------------------------------------


@pytest.mark.parametrize(("sub_code", "code"), AGGREGATIONS)
@settings(max_examples=12, deadline=None)
@given(pair=pairs, t=settled)
def test_candle_is_aggregate_of_sub_candles(sub_code: str, code: str, pair: str, t: int) -> None:
    """A closed candle equals the exact aggregate of the sub-interval candles that tile it."""
    interval, sub = Interval.parse(code), Interval.parse(sub_code)
    candle = MODEL.candle(pair, interval, t, NOW_MS)
    assert candle is not None and candle.closed
    parts = sub_candles(MODEL, pair, sub, candle, NOW_MS)
    assert parts[0].open_time == candle.open_time
    assert parts[-1].close_time == candle.close_time
    assert_contiguous(sub, parts)
    assert all(part.closed for part in parts)
    assert values(candle) == aggregate(parts)


@pytest.mark.parametrize(("sub_code", "code", "offset"), ZONED_AGGREGATIONS)
@settings(max_examples=8, deadline=None)
@given(pair=pairs, t=settled)
def test_zoned_candle_is_aggregate_of_sub_candles(
    sub_code: str, code: str, offset: int, pair: str, t: int
) -> None:
    """With boundaries in a time zone, a candle is still the exact aggregate of its sub-candles."""
    interval = Interval.parse(code).in_zone(offset)
    sub = Interval.parse(sub_code).in_zone(offset)
    candle = MODEL.candle(pair, interval, t, NOW_MS)
    assert candle is not None
    assert candle.open_time == interval.floor(t)
    assert (candle.open_time + offset) % (60 * SECOND_MS) == 0
    parts = sub_candles(MODEL, pair, sub, candle, NOW_MS)
    assert parts[0].open_time == candle.open_time
    assert parts[-1].close_time == candle.close_time
    assert values(candle) == aggregate(parts)


@pytest.mark.parametrize(("sub_code", "code"), [("1s", "1m"), ("1m", "1h"), ("1h", "1d"), ("1d", "1w")])
@settings(max_examples=12, deadline=None)
@given(pair=pairs, t=settled, fraction=st.floats(min_value=0.0, max_value=1.0, exclude_max=True))
def test_forming_candle_is_aggregate_of_sub_candles(
    sub_code: str, code: str, pair: str, t: int, fraction: float
) -> None:
    """A forming candle equals the aggregate of its sub-candles so far, the last one forming too."""
    interval, sub = Interval.parse(code), Interval.parse(sub_code)
    open_ms = interval.floor(t)
    now = open_ms + int(fraction * interval.ms)
    candle = MODEL.candle(pair, interval, open_ms, now)
    assert candle is not None and not candle.closed
    parts = sub_candles(MODEL, pair, sub, candle, now)
    assert parts[0].open_time == open_ms
    assert parts[-1].open_time == sub.floor(now)
    assert not parts[-1].closed
    assert all(part.closed for part in parts[:-1])
    assert values(candle) == aggregate(parts)


# -- random access ---------------------------------------------------------------------------


@some
@given(
    pair=pairs,
    interval=cheap,
    t=recent,
    limit=st.integers(min_value=1, max_value=40),
    pick=st.integers(min_value=0, max_value=39),
)
def test_candle_alone_equals_candle_in_page(
    pair: str, interval: Interval, t: int, limit: int, pick: int
) -> None:
    """A candle computed alone by a fresh model equals the same candle in another's page."""
    page = fresh().candles(pair, interval, now_ms=NOW_MS, limit=limit, start_ms=t)
    assert page
    wanted = page[pick % len(page)]
    assert fresh().candle(pair, interval, wanted.open_time, NOW_MS) == wanted
    # Any time inside the candle addresses it.
    assert fresh().candle(pair, interval, wanted.close_time, NOW_MS) == wanted


@few
@given(pair=pairs, code=st.sampled_from(("3d", "1M")), t=recent)
def test_long_candle_alone_equals_candle_in_page(pair: str, code: str, t: int) -> None:
    """Random access holds for 3d and calendar-month candles too."""
    interval = Interval.parse(code)
    page = fresh().candles(pair, interval, now_ms=NOW_MS, limit=3, start_ms=t)
    for wanted in page:
        assert fresh().candle(pair, interval, wanted.open_time, NOW_MS) == wanted


# -- pages -----------------------------------------------------------------------------------


@some
@given(
    pair=pairs,
    interval=cheap,
    start=st.integers(min_value=DEFAULT_HISTORY_START_MS - 10 * DAY_MS, max_value=NOW_MS + DAY_MS),
    limit=st.integers(min_value=1, max_value=120),
)
def test_page_from_start(pair: str, interval: Interval, start: int, limit: int) -> None:
    """With start_ms the page holds up to limit contiguous candles from the first opening at/after it."""
    page = MODEL.candles(pair, interval, now_ms=NOW_MS, limit=limit, start_ms=start)
    first = max(first_open_at_or_after(interval, start), interval.floor(DEFAULT_HISTORY_START_MS))
    if first > NOW_MS:
        assert page == []
        return
    assert 1 <= len(page) <= limit
    assert page[0].open_time == first
    assert_contiguous(interval, page)
    assert all(c.open_time <= NOW_MS for c in page)
    if len(page) < limit:  # short only when it runs into now
        assert interval.next(page[-1].open_time) > NOW_MS
    for c in page:
        assert c.closed == (interval.next(c.open_time) <= NOW_MS)


@some
@given(
    pair=pairs,
    interval=cheap,
    end=st.one_of(st.none(), st.integers(min_value=NOW_MS - 400 * DAY_MS, max_value=NOW_MS * 2)),
    limit=st.integers(min_value=1, max_value=120),
)
def test_page_without_start(pair: str, interval: Interval, end: int | None, limit: int) -> None:
    """Without start_ms the page holds the newest limit candles opening at or before end (or now)."""
    page = MODEL.candles(pair, interval, now_ms=NOW_MS, limit=limit, end_ms=end)
    last = NOW_MS if end is None else min(end, NOW_MS)
    assert len(page) == limit
    assert page[-1].open_time == interval.floor(last)
    assert_contiguous(interval, page)


@some
@given(
    pair=pairs,
    interval=cheap,
    start=recent,
    span=st.integers(min_value=0, max_value=80),
    limit=st.integers(min_value=1, max_value=60),
)
def test_page_between_start_and_end(pair: str, interval: Interval, start: int, span: int, limit: int) -> None:
    """With start_ms and end_ms the page is the start-anchored page cut at end_ms."""
    end = start + span * interval.ms // 2
    page = MODEL.candles(pair, interval, now_ms=NOW_MS, limit=limit, start_ms=start, end_ms=end)
    unbounded = MODEL.candles(pair, interval, now_ms=NOW_MS, limit=limit, start_ms=start)
    assert page == [c for c in unbounded if c.open_time <= end]
    assert all(start <= c.open_time <= end for c in page)


def test_page_when_end_before_start_is_empty() -> None:
    """An end before the start selects nothing."""
    hour = Interval.parse("1h")
    start = NOW_MS - 10 * DAY_MS
    page = MODEL.candles("BTC-USDT", hour, now_ms=NOW_MS, limit=10, start_ms=start, end_ms=start - 1)
    assert page == []


@pytest.mark.parametrize("code", STANDARD_CODES)
def test_limit_is_respected(code: str) -> None:
    """Pages never exceed limit, with or without a start."""
    interval = Interval.parse(code)
    for limit in (1, 2, 7):
        start = NOW_MS - 40 * interval.ms
        assert len(MODEL.candles("SOL-USDT", interval, now_ms=NOW_MS, limit=limit)) == limit
        page = MODEL.candles("SOL-USDT", interval, now_ms=NOW_MS, limit=limit, start_ms=start)
        assert len(page) == limit


@some
@given(
    pair=pairs,
    interval=cheap,
    after=st.integers(min_value=1, max_value=40 * DAY_MS),
    back=st.integers(min_value=0, max_value=5),
)
def test_forming_candle_is_last_row(pair: str, interval: Interval, after: int, back: int) -> None:
    """When the window reaches now, the last row is the forming candle and all others are closed."""
    now = NOW_MS + after
    start = interval.floor(now) - back * interval.ms
    for page in (
        MODEL.candles(pair, interval, now_ms=now, limit=10),
        MODEL.candles(pair, interval, now_ms=now, limit=10, start_ms=start),
        MODEL.candles(pair, interval, now_ms=now, limit=10, end_ms=now + DAY_MS),
    ):
        assert page[-1].open_time == interval.floor(now)
        assert page[-1].closed is False
        assert all(c.closed for c in page[:-1])
    before_forming = interval.floor(now) - 1
    page = MODEL.candles(pair, interval, now_ms=now, limit=10, end_ms=before_forming)
    assert page[-1].open_time == interval.prev(interval.floor(now))
    assert all(c.closed for c in page)


@pytest.mark.parametrize("code", STANDARD_CODES)
def test_no_candles_before_history_start(code: str) -> None:
    """The first candle is the one holding the history start; nothing ends before it."""
    interval = Interval.parse(code)
    first_open = interval.floor(DEFAULT_HISTORY_START_MS)
    page = MODEL.candles("BTC-USDT", interval, now_ms=NOW_MS, limit=3, start_ms=0)
    assert [c.open_time for c in page][:1] == [first_open]
    assert page[0].close_time >= DEFAULT_HISTORY_START_MS
    assert_contiguous(interval, page)
    assert MODEL.candle("BTC-USDT", interval, first_open - 1, NOW_MS) is None
    assert MODEL.candles("BTC-USDT", interval, now_ms=NOW_MS, limit=5, end_ms=first_open - 1) == []
    oldest = MODEL.candles("BTC-USDT", interval, now_ms=DEFAULT_HISTORY_START_MS + 5, limit=1000)
    assert [c.open_time for c in oldest] == [first_open]
    # Its open is the price at the history start, even if the candle opens before it.
    second = MODEL.candle("BTC-USDT", Interval.parse("1s"), DEFAULT_HISTORY_START_MS, NOW_MS)
    assert second is not None
    assert page[0].open == second.open


@few
@given(pair=pairs, interval=standard, later=st.integers(min_value=1, max_value=400 * DAY_MS))
def test_no_candles_after_now(pair: str, interval: Interval, later: int) -> None:
    """No candle opens after now, whatever the start, end or address asked for."""
    after = interval.floor(NOW_MS) + later
    assert MODEL.candles(pair, interval, now_ms=NOW_MS, limit=10, start_ms=NOW_MS + 1) == []
    if interval.floor(after) > NOW_MS:
        assert MODEL.candle(pair, interval, after, NOW_MS) is None
    page = MODEL.candles(pair, interval, now_ms=NOW_MS, limit=10, end_ms=after)
    assert page[-1].open_time == interval.floor(NOW_MS)


def test_custom_history_start() -> None:
    """A model with a later history start serves nothing earlier, and aggregates from there."""
    start_ms = 1_584_273_600_000  # 2020-03-15T12:00:00Z; history starts at that day's midnight
    model = fresh(history_start_ms=start_ms)
    day, month = Interval.parse("1d"), Interval.parse("1M")
    days = model.candles("ETH-USDT", day, now_ms=NOW_MS, limit=20, start_ms=0)
    assert days[0].open_time == start_ms - 12 * HOUR_MS
    months = model.candles("ETH-USDT", month, now_ms=NOW_MS, limit=2, start_ms=0)
    assert months[0].open_time == 1_583_020_800_000  # 2020-03-01T00:00:00Z
    march = [c for c in days if c.open_time <= months[0].close_time]
    assert len(march) == 17
    assert values(months[0]) == aggregate(march)
    assert model.candle("ETH-USDT", day, start_ms - 13 * HOUR_MS, NOW_MS) is None
    # The market itself is the same path as with the default history start.
    default = fresh().candles("ETH-USDT", day, now_ms=NOW_MS, limit=20, start_ms=days[0].open_time)
    assert days == default


# -- the forming candle ----------------------------------------------------------------------


@some
@given(
    pair=pairs,
    interval=standard,
    t=settled,
    fraction=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)
def test_forming_candle_closes(pair: str, interval: Interval, t: int, fraction: float) -> None:
    """A forming candle is open until its close; from close_time + 1 ms on it is the closed candle."""
    open_ms = interval.floor(t)
    next_ms = interval.next(open_ms)
    now = open_ms + int(fraction * (next_ms - open_ms))
    forming = MODEL.candle(pair, interval, open_ms, now)
    assert forming is not None
    assert forming.closed is False
    assert (forming.open_time, forming.close_time) == (open_ms, next_ms - 1)
    assert_valid(MODEL, pair, forming)
    closed = MODEL.candle(pair, interval, open_ms, NOW_MS)
    assert closed is not None and closed.closed is True
    assert MODEL.candle(pair, interval, open_ms, next_ms) == closed  # at close_time + 1 ms
    at_close_time = MODEL.candle(pair, interval, open_ms, next_ms - 1)
    assert at_close_time is not None and at_close_time.closed is False
    # The forming state at close_time plus the final second is the closed candle.
    last_second = MODEL.candle(pair, Interval.parse("1s"), next_ms - SECOND_MS, NOW_MS)
    assert last_second is not None
    assert aggregate([at_close_time, last_second]) == values(closed)


@some
@given(
    pair=pairs,
    interval=standard,
    t=settled,
    fractions=st.lists(st.floats(min_value=0.0, max_value=1.0, exclude_max=True), min_size=2, max_size=6),
)
def test_forming_candle_grows(pair: str, interval: Interval, t: int, fractions: list[float]) -> None:
    """As now advances in a candle: open constant, high up, low down, volumes and trades up."""
    open_ms = interval.floor(t)
    length = interval.next(open_ms) - open_ms
    states = []
    for fraction in sorted(fractions):
        candle = MODEL.candle(pair, interval, open_ms, open_ms + int(fraction * length))
        assert candle is not None
        states.append(candle)
    closed = MODEL.candle(pair, interval, open_ms, NOW_MS)
    assert closed is not None
    states.append(closed)
    for before, after in pairwise(states):
        assert after.open == before.open
        assert after.high >= before.high
        assert after.low <= before.low
        assert after.volume >= before.volume
        assert after.quote_volume >= before.quote_volume
        assert after.taker_buy_volume >= before.taker_buy_volume
        assert after.taker_buy_quote_volume >= before.taker_buy_quote_volume
        assert after.trades >= before.trades


@few
@given(pair=pairs, interval=standard, t=settled, ms_in=st.integers(min_value=0, max_value=999))
def test_forming_candle_at_open_is_flat(pair: str, interval: Interval, t: int, ms_in: int) -> None:
    """Before its first second completes, a forming candle is flat at its open with no volume."""
    open_ms = interval.floor(t)
    forming = MODEL.candle(pair, interval, open_ms, open_ms + ms_in)
    closed = MODEL.candle(pair, interval, open_ms, NOW_MS)
    assert forming is not None and closed is not None
    assert forming.closed is False
    assert forming.open == forming.high == forming.low == forming.close == closed.open
    assert forming.volume == forming.quote_volume == 0
    assert forming.taker_buy_volume == forming.taker_buy_quote_volume == 0
    assert forming.trades == 0


def test_parse_pairs_specs_build_a_model() -> None:
    """Specs from parse_pairs build a model that serves exactly those pairs."""
    model = MarketModel(parse_pairs("BTC-USDT,ETH-USDT,SOL-USDT"), seed=1)
    assert set(model.pairs) == set(DEFAULT_PAIRS)
    assert model.tick_size("BTC-USDT") == Decimal("0.01")
    with pytest.raises(KeyError):
        model.pair("DOGE-USDT")


# -- the two ways of computing nodes, raw integers, bounded caches ---------------------------------


def model_with(seed: int, names: Sequence[str], **kwargs: Any) -> MarketModel:
    """A new model with cold caches and any constructor option."""
    return MarketModel([pair_spec(name) for name in names], seed=seed, **kwargs)


@few
@given(
    seed=seeds,
    pair=any_pairs,
    interval=standard,
    t=history,
    limit=st.integers(min_value=1, max_value=300),
)
def test_numpy_and_python_give_identical_candles(
    seed: int, pair: str, interval: Interval, t: int, limit: int
) -> None:
    """numpy only accelerates: computing every node in pure Python gives the very same integers."""
    pytest.importorskip("mockfeed.market.nodes_np")  # numpy installed
    fast = model_with(seed, [pair], backend="numpy")
    slow = model_with(seed, [pair], backend="python")
    page = fast.raw_candles(pair, interval, now_ms=NOW_MS, limit=limit, end_ms=t)
    assert page == slow.raw_candles(pair, interval, now_ms=NOW_MS, limit=limit, end_ms=t)
    assert page
    second = t // 1000
    assert fast.pair(pair).node(3, second) == slow.pair(pair).node(3, second)


def _parent(draw: st.DrawFn, level: int) -> nodes.Node:
    """A node value that a parent could hold: prices in range, average prices within it."""
    low = draw(st.integers(min_value=1, max_value=10**9))
    high = low + draw(st.sampled_from([0, 1, 2, draw(st.integers(min_value=0, max_value=low // 5 + 3))]))
    o = draw(st.integers(min_value=low, max_value=high))
    c = draw(st.integers(min_value=low, max_value=high))
    cap = max(0, min(10**12, (1 << 60) // (high * 2)))
    buy = draw(st.sampled_from([0, 1, 3, draw(st.integers(min_value=0, max_value=cap))]))
    sell = draw(st.sampled_from([0, 2, draw(st.integers(min_value=0, max_value=cap))]))
    at = draw(st.floats(min_value=0.0, max_value=1.0))
    buy_q = low * buy + int((high - low) * buy * at)
    sell_q = low * sell + int((high - low) * sell * (1.0 - at))
    trades = draw(st.integers(min_value=1, max_value=10**6)) if buy + sell else 0
    return (o, high, low, c, buy, sell, buy_q, sell_q, trades)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), level=st.sampled_from([1, 2]), key=st.integers(min_value=0, max_value=2**64 - 1))
def test_children_are_exact_and_in_range(data: st.DataObject, level: int, key: int) -> None:
    """Any node splits into children that aggregate to it exactly, each one a valid candle."""
    np = pytest.importorskip("numpy")
    nodes_np = pytest.importorskip("mockfeed.market.nodes_np")
    value = data.draw(st.composite(_parent)(level))
    params = nodes.PathParams(pair_spec(data.draw(any_pairs)))
    n = nodes.LEVELS[level][1]
    flat = nodes.expand(params, level, key, value)
    with np.errstate(all="ignore"):
        assert nodes_np.expand(params, level, [key], np.array([value])).tolist() == [flat]
    kids = [nodes.column_node(flat, n, i) for i in range(n)]
    assert nodes.combine(kids) == value
    h, low = value[1], value[2]
    for before, after in pairwise(kids):
        assert after[0] == before[3]
    for ko, kh, kl, kc, buy, sell, buy_q, sell_q, trades in kids:
        assert low <= kl <= min(ko, kc) <= max(ko, kc) <= kh <= h
        assert min(buy, sell, trades) >= 0
        assert kl * buy <= buy_q <= kh * buy
        assert kl * sell <= sell_q <= kh * sell


@few
@given(key=st.integers(min_value=0, max_value=2**64 - 1), o=st.integers(1, 10**8), move=st.floats(-0.3, 0.3))
def test_days_agree_between_numpy_and_python(key: int, o: int, move: float) -> None:
    """A day's value and hours are the same computed alone in Python or in a numpy batch."""
    np = pytest.importorskip("numpy")
    nodes_np = pytest.importorskip("mockfeed.market.nodes_np")
    c = max(1, round(o * (1 + move)))
    params = nodes.PathParams(pair_spec("SOL-USDT"))
    value, hours = nodes.expand_day(params, key, o, c)
    with np.errstate(all="ignore"):
        values, columns = nodes_np.expand_days(params, [key, key ^ 1], np.array([o, o]), np.array([c, c]))
    assert tuple(values[0].tolist()) == value
    assert columns[0].tolist() == hours
    assert nodes.combine([nodes.column_node(hours, 24, i) for i in range(24)]) == value


def test_draws_look_standard() -> None:
    """The counter-based normals have mean 0 and deviation 1; uniforms lie in [0, 1)."""
    normals = [draws.normal_of(draws.word(12345, k)) for k in range(1, 20_001)]
    assert abs(statistics.fmean(normals)) < 0.03
    assert 0.97 < statistics.pstdev(normals) < 1.03
    assert max(abs(z) for z in normals) < 3.47
    lanes = [u for k in range(1, 2_001) for u in draws.uniforms_of(draws.word(999, k))]
    assert min(lanes) >= 0.0
    assert max(lanes) < 1.0
    assert 0.48 < statistics.fmean(lanes) < 0.52


def test_same_candles_in_another_process() -> None:
    """Another interpreter (other hash seed, other imports) computes the same candles."""
    script = (
        "from mockfeed.market import Interval, MarketModel, pair_spec\n"
        f"m = MarketModel([pair_spec('ETH-USDT')], seed={SEED})\n"
        f"print(m.raw_candles('ETH-USDT', Interval.parse('1m'), now_ms={NOW_MS}, limit=500,"
        f" end_ms={NOW_MS - 400 * DAY_MS}))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120, check=True
    ).stdout
    here = fresh(names=["ETH-USDT"]).raw_candles(
        "ETH-USDT", Interval.parse("1m"), now_ms=NOW_MS, limit=500, end_ms=NOW_MS - 400 * DAY_MS
    )
    assert out.strip() == repr(here)


@some
@given(pair=any_pairs, interval=standard, t=history, limit=st.integers(min_value=1, max_value=60))
def test_raw_candles_are_the_candles_as_integers(pair: str, interval: Interval, t: int, limit: int) -> None:
    """raw_candles returns the candles' values as integers of ticks, lots and tick×lot."""
    raw: list[RawCandle] = MODEL.raw_candles(pair, interval, now_ms=NOW_MS, limit=limit, start_ms=t)
    candles = MODEL.candles(pair, interval, now_ms=NOW_MS, limit=limit, start_ms=t)
    model = MODEL.pair(pair)
    assert [model.candle_from_raw(r) for r in raw] == candles
    spec = model.spec
    for r, c in zip(raw, candles, strict=True):
        assert c.open == r[2] * spec.tick_size
        assert c.quote_volume == r[7] * spec.tick_size * spec.lot_size


@some
@given(
    pair=pairs,
    code=st.sampled_from((*CHEAP_CODES, "5m", "12h", "3d", "1M")),
    t=recent,
    picks=st.lists(st.integers(min_value=0, max_value=120), min_size=1, max_size=40),
    cut=st.integers(min_value=0, max_value=130),
    zone=st.sampled_from([0, 8 * HOUR_MS, -(5 * HOUR_MS + 30 * 60_000)]),
)
def test_batch_equals_one_by_one(
    pair: str, code: str, t: int, picks: list[int], cut: int, zone: int
) -> None:
    """candles_at over any ascending opens (gaps, forming, future) equals candle_at one by one."""
    interval = Interval.parse(code).in_zone(zone)
    grid = [interval.floor(t)]
    for _ in range(130):
        grid.append(interval.next(grid[-1]))
    opens = [grid[i] for i in sorted(set(picks))]
    now = grid[cut] + 1234
    model = fresh(names=[pair]).pair(pair)
    alone = fresh(names=[pair]).pair(pair)
    assert model.candles_at(interval, opens, now) == [alone.candle_at(interval, o, now) for o in opens]
    everything = grid[: max(picks) + 1]
    assert model.candles_at(interval, everything, now) == [model.candle_at(interval, o, now) for o in everything]


@some
@given(pair=any_pairs, code=st.sampled_from(("1s", "1m", "5m", "1h", "4h")), t=history)
def test_average_price_within_range_anywhere(pair: str, code: str, t: int) -> None:
    """Anywhere in history, each candle's average price (total and taker buy) lies in its range."""
    for c in MODEL.candles(pair, Interval.parse(code), now_ms=NOW_MS, limit=30, start_ms=t):
        assert c.low * c.volume <= c.quote_volume <= c.high * c.volume
        assert c.low * c.taker_buy_volume <= c.taker_buy_quote_volume <= c.high * c.taker_buy_volume


@pytest.mark.parametrize("code", ["1m", "1h", "1d"])
def test_volume_rises_with_moves(code: str) -> None:
    """Candles with wide ranges trade more than quiet ones, across pairs and seeds."""
    interval = Interval.parse(code)
    for seed in (1, 2, 3):
        for pair in DEFAULT_PAIRS:
            page = fresh(seed, [pair]).candles(pair, interval, now_ms=NOW_MS, limit=600, end_ms=NOW_MS - DAY_MS)
            ranked = sorted(page, key=lambda c: (c.high - c.low) / c.open)
            third = len(ranked) // 3
            quiet = statistics.fmean(float(c.quote_volume) for c in ranked[:third])
            busy = statistics.fmean(float(c.quote_volume) for c in ranked[-third:])
            assert busy > 1.2 * quiet, (seed, pair, quiet, busy)


def test_caches_stay_bounded_while_wandering() -> None:
    """Pages anywhere in history never grow a cache beyond its bound."""
    model = fresh(names=["BTC-USDT"], cache_size=32)
    rng = random.Random(7)
    codes = ("1s", "1m", "5m", "1h", "4h", "1d", "1w")
    for _ in range(150):
        interval = Interval.parse(rng.choice(codes))
        end = rng.randrange(DEFAULT_HISTORY_START_MS, NOW_MS)
        page = model.candles("BTC-USDT", interval, now_ms=NOW_MS, limit=rng.randrange(1, 400), end_ms=end)
        assert page
        info = model.pair("BTC-USDT").cache_info()
        for name in ("expansions", "days", "path_points"):
            assert info[name] <= info[f"{name}_max"], info


def test_default_caches_are_a_few_megabytes() -> None:
    """The default bounds keep a pair's caches to about 7.5 MB (4.4 KB per expanded node)."""
    info = fresh(names=["BTC-USDT"]).pair("BTC-USDT").cache_info()
    worst = info["expansions_max"] * 4_500 + info["days_max"] * 520 + info["path_points_max"] * 110
    assert worst < 8_000_000


#: sha256 of the pages in :func:`test_candles_are_pinned`. Change it only when the model is meant to
#: change; anything else that moves it (a platform, a numpy version) breaks determinism.
PINNED = "1c1372bfc116262feb1cb4c18ddc4f11794f7ea7501ad0f9ae15e6d441a7e370"


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_candles_are_pinned(backend: str) -> None:
    """The same seed gives the same candles on every machine, with or without numpy."""
    if backend == "numpy":
        pytest.importorskip("mockfeed.market.nodes_np")
    names = ("BTC-USDT", "DOGE-USDT", "FOO-BAR")
    model = model_with(SEED, names, backend=backend)
    digest = hashlib.sha256()
    for pair in names:
        for code, back in (("1s", 3), ("1m", 700), ("1h", 1500), ("1d", 0), ("1M", 0)):
            page = model.raw_candles(
                pair, Interval.parse(code), now_ms=NOW_MS, limit=200, end_ms=NOW_MS - back * DAY_MS
            )
            digest.update(repr(page).encode())
    assert digest.hexdigest() == PINNED


def test_exp_and_log_are_accurate() -> None:
    """The day path's own exp and log agree with the C library's to a few units in the last place."""
    rng = random.Random(3)
    for _ in range(2_000):
        x = rng.uniform(-40.0, 34.0)
        assert daypath.exp(x) == pytest.approx(math.exp(x), rel=2e-15)
        y = 10 ** rng.uniform(-9.0, 15.0)
        assert daypath.log(y) == pytest.approx(math.log(y), rel=2e-15, abs=1e-15)
    for ticks in (1, 60, 10_000, 300_000, 5_000_000, 10**14):
        assert round(daypath.exp(daypath.log(float(ticks)))) == ticks


@few
@given(
    first=st.integers(min_value=-4000, max_value=4000),
    count=st.integers(min_value=1, max_value=600),
    limit=st.sampled_from([3, 50, 8192]),
)
def test_day_path_ranges_equal_single_days(first: int, count: int, limit: int) -> None:
    """Prices of a run of days equal each day's price alone, whatever the path cache holds."""
    whole = daypath.DayPath(987, 12.0, 0.03)
    small = daypath.DayPath(987, 12.0, 0.03, cache_limit=limit)
    last = first + count - 1
    assert whole.prices(first, last) == [small.price(x) for x in range(first, last + 1)]
