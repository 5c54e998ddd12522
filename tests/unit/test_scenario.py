"""Unit and property tests of scenarios in the model: events keep the model's guarantees.

Scenarios are generated around ``T0`` (2026-06-01T00:00:00Z); every test passes an explicit
``now_ms``, so nothing depends on the wall clock.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockfeed.market import Interval, MarketModel, pair_spec
from mockfeed.market.model import PairModel, RawCandle
from mockfeed.market.scenario import (
    Crash,
    Event,
    Gap,
    Halt,
    Jump,
    Listing,
    Scenario,
    ScenarioError,
    Trend,
    Volatility,
    parse_duration,
)
from mockfeed.market.scenario_pair import ScenarioPairModel, ramp_step

T0 = 1_780_272_000_000  # 2026-06-01T00:00:00Z
NOW = T0 + 2 * 86_400_000
SEED = 11
PAIR = "BTC-USDT"
SECOND, MINUTE, HOUR, DAY = (Interval.parse(c) for c in ("1s", "1m", "1h", "1d"))

few = settings(max_examples=30, deadline=None)


def _models(events: list[Event], pair: str = PAIR, seed: int = SEED) -> tuple[PairModel, PairModel]:
    """(the pair under the scenario, the plain pair)."""
    specs = [pair_spec(pair)]
    scenario = MarketModel(specs, seed=seed, scenario=Scenario(events).at(T0)).pair(pair)
    return scenario, MarketModel(specs, seed=seed).pair(pair)


def _page(model: PairModel, interval: Interval, start_ms: int, count: int, now: int = NOW) -> list[RawCandle]:
    opens = [start_ms]
    while len(opens) < count:
        opens.append(interval.next(opens[-1]))
    return [r for r in model.raw_at(interval, opens, now) if r is not None]


def _aggregate(rows: list[RawCandle]) -> tuple[int, ...]:
    """The OHLCV fields an enclosing candle must have: first open, max high, min low, last close, sums."""
    return (
        rows[0][2], max(r[3] for r in rows), min(r[4] for r in rows), rows[-1][5],
        *(sum(r[k] for r in rows) for k in (6, 7, 8, 9, 10)),
    )


def _check_row(row: RawCandle) -> None:
    _, _, o, h, low, c, volume, quote, trades, buy, buy_q, _ = row
    assert 1 <= low <= min(o, c) <= max(o, c) <= h
    assert 0 <= buy <= volume and 0 <= buy_q <= quote and trades >= 0
    if volume:
        assert low * volume - volume <= quote <= h * volume + volume  # the average price in range
    else:
        assert quote == 0


# -- generated scenarios -------------------------------------------------------------------------

spans = st.sampled_from(["1s", "7s", "1m", "90s", "5m", "17m", "1h", "2h", "3h"])
gaps_between = st.integers(min_value=0, max_value=3 * 3600)
wildness = st.sampled_from(["0.2", "0.5", "1.5", "3", "10", "100"])


@st.composite
def scenarios(draw: st.DrawFn) -> list[Event]:
    """Up to five events from T0 on, price events one after another, gaps and a listing anywhere."""
    events: list[Event] = []
    t = draw(st.integers(min_value=-1800, max_value=1800))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        t += draw(gaps_between)
        kind = draw(st.sampled_from(["jump", "crash", "trend", "halt", "volatility"]))
        over = draw(spans | st.just("0s")) if kind in ("jump", "crash") else draw(spans)
        at = T0 + t * 1000
        if kind == "jump":
            events.append(Jump(at=at, pct=draw(st.integers(-60, 150)), over=over))
        elif kind == "crash":
            events.append(Crash(at=at, pct=draw(st.integers(1, 80)), over=over))
        elif kind == "trend":
            events.append(Trend(at=at, pct_per_day=draw(st.integers(-90, 90)), over=over))
        elif kind == "volatility":
            events.append(Volatility(at=at, over=over, factor=draw(wildness)))
        else:
            events.append(Halt(at=at, over=over))
        t += parse_duration(over)
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        at = T0 + draw(st.integers(-3600, 8 * 3600)) * 1000
        events.append(Gap(at=at, over=draw(spans)))
    if draw(st.booleans()):
        events.append(Listing(at=T0 + draw(st.integers(-7200, 3600)) * 1000))
    return events


windows = st.integers(min_value=-1, max_value=9).map(lambda h: T0 + h * 3_600_000)


@few
@given(scenarios(), windows, st.sampled_from(["1s", "1m", "3m", "15m", "1h"]))
def test_batch_equals_one_by_one(events: list[Event], start: int, code: str) -> None:
    """A page (what REST serves) equals each candle computed alone (what the final WS push is)."""
    model, _ = _models(events)
    interval = Interval.parse(code)
    count = 90 if code == "1s" else 40
    opens = [start + k * interval.ms for k in range(count)]
    now = start + (count - 3) * interval.ms + 1234  # the last three not closed or not open yet
    batch = model.raw_at(interval, opens, now)
    alone = [model._raw_one(interval, t, now) for t in opens]
    assert batch == alone
    for row in batch:
        if row is not None:
            _check_row(row)


@few
@given(scenarios(), windows)
def test_intervals_are_aggregates_of_their_minutes_and_seconds(events: list[Event], start: int) -> None:
    """An hour is the aggregate of its present minutes, each minute of its present seconds."""
    model, _ = _models(events)
    hour = _page(model, HOUR, start, 1)
    minutes = _page(model, MINUTE, start, 60)
    if not minutes:
        assert hour == []
        return
    assert hour[0][2:11] == _aggregate(minutes)
    for minute in minutes[:: max(1, len(minutes) // 4)]:  # a few, seconds are many
        seconds = _page(model, SECOND, minute[0], 60)
        assert minute[2:11] == _aggregate(seconds)


@few
@given(scenarios())
def test_days_and_weeks_are_aggregates_of_hours(events: list[Event]) -> None:
    """The day of the events is the aggregate of its hours; the week of its days."""
    model, _ = _models(events)
    day_start = DAY.floor(T0)
    hours = _page(model, HOUR, day_start, 24)
    assert _page(model, DAY, day_start, 1)[0][2:11] == _aggregate(hours)
    week = Interval.parse("1w")
    days = _page(model, DAY, week.floor(T0), 7)
    assert _page(model, week, week.floor(T0), 1)[0][2:11] == _aggregate(days)


@few
@given(scenarios(), windows)
def test_same_scenario_same_candles_in_any_order(events: list[Event], start: int) -> None:
    """Two models (fresh caches, pages asked in other orders) give identical candles."""
    first, _ = _models(events)
    second, _ = _models(events)
    late = _page(first, MINUTE, start + 3_600_000, 60)
    early = _page(first, MINUTE, start, 60)
    assert _page(second, MINUTE, start, 60) == early
    assert _page(second, MINUTE, start + 3_600_000, 60) == late


@few
@given(scenarios())
def test_nothing_changes_before_the_first_event(events: list[Event]) -> None:
    """Candles wholly before every event (a listing aside: before it there are none) are the model's."""
    events = [e for e in events if not isinstance(e, Listing)]
    model, plain = _models(events)
    first = min(ev.at for ev in events)
    assert isinstance(first, int)
    start = HOUR.floor(first) - 6 * 3_600_000
    stop = HOUR.floor(first) - 3_600_000
    mine = [r for r in _page(model, MINUTE, start, 300) if r[1] < stop]
    theirs = [r for r in _page(plain, MINUTE, start, 300) if r[1] < stop]
    assert mine == theirs


# -- each kind -----------------------------------------------------------------------------------


def test_jump_ramps_then_scales_every_later_candle() -> None:
    """+10 % over 10 minutes: the ramp moves step by step; afterwards prices are the model's × 1.1."""
    model, plain = _models([Jump(at="+1h", pct=10, over="10m")])
    after = _page(model, MINUTE, T0 + 2 * 3_600_000, 120)
    base = _page(plain, MINUTE, T0 + 2 * 3_600_000, 120)
    for mine, theirs in zip(after, base, strict=True):
        assert mine[2:6] == tuple((2 * p * 11 + 10) // 20 for p in theirs[2:6])  # round half up
        assert mine[6] == theirs[6] and mine[8:10] == theirs[8:10]  # base volume, trades unchanged
        assert abs(mine[7] - Fraction(11, 10) * theirs[7]) <= 2  # taker buy and sell: 1 unit each
    ramp = _page(model, MINUTE, T0 + 3_600_000, 10)
    ratios = [Fraction(m[5], b[5]) for m, b in zip(ramp, _page(plain, MINUTE, T0 + 3_600_000, 10), strict=True)]
    assert ratios == sorted(ratios) and ratios[0] < Fraction(102, 100) and ratios[-1] > Fraction(109, 100)


def test_crash_of_thirty_percent() -> None:
    """A crash is a jump down: a day later the price is 70 % of the model's."""
    model, plain = _models([Crash(at="+1h", pct=30, over="1h")])
    mine, theirs = _page(model, HOUR, T0 + 86_400_000, 1)[0], _page(plain, HOUR, T0 + 86_400_000, 1)[0]
    assert mine[5] == (2 * theirs[5] * 7 + 10) // 20


def test_halt_is_flat_and_empty_then_resumes_from_its_price() -> None:
    """A halt's candles are flat at the last close with no volume; the market resumes from there."""
    model, _ = _models([Halt(at="+30m", over="1h", pair=PAIR)])
    before = _page(model, MINUTE, T0 + 29 * 60_000, 1)[0]
    halted = _page(model, MINUTE, T0 + 30 * 60_000, 60)
    assert len(halted) == 60
    assert {r[2:11] for r in halted} == {(before[5],) * 4 + (0,) * 5}
    after = _page(model, SECOND, T0 + 90 * 60_000, 1)[0]
    assert after[2] == before[5]  # no jump on reopening


def test_gap_omits_candles_and_partial_intervals_keep_the_rest() -> None:
    """Minutes inside a gap do not exist; the hour around it aggregates the others."""
    model, _ = _models([Gap(at="+10m", over="20m")])
    minutes = _page(model, MINUTE, T0, 60)
    assert len(minutes) == 40
    assert not any(T0 + 10 * 60_000 <= r[0] < T0 + 30 * 60_000 for r in minutes)
    assert _page(model, HOUR, T0, 1)[0][2:11] == _aggregate(minutes)
    assert model.candle_at(MINUTE, T0 + 15 * 60_000, T0 + 15 * 60_000 + 30_500) is None  # nothing forming


def test_listing_has_no_candles_before_and_pages_start_at_it() -> None:
    """Before the listing nothing exists; the first candle of each interval contains it."""
    specs = [pair_spec(PAIR), pair_spec("ETH-USDT")]
    model = MarketModel(specs, seed=SEED, scenario=Scenario([Listing(at="+2h30m", pair=PAIR)]).at(T0))
    assert model.raw_candles(PAIR, MINUTE, now_ms=T0 + 3_600_000, limit=100) == []
    rows = model.raw_candles(PAIR, HOUR, now_ms=NOW, limit=5, start_ms=T0 - 86_400_000)
    assert rows[0][0] == T0 + 2 * 3_600_000  # the hour that holds the listing
    minutes = model.raw_candles(PAIR, MINUTE, now_ms=NOW, limit=60, start_ms=rows[0][0])
    assert minutes[0][0] == T0 + 150 * 60_000 and rows[0][2:11] == _aggregate(minutes[:30])
    assert model.raw_candles("ETH-USDT", MINUTE, now_ms=T0 + 3_600_000, limit=3)  # other pairs trade


def test_forming_candle_reaches_the_closed_one() -> None:
    """During a ramp the forming candle grows second by second into the closed candle."""
    model, _ = _models([Jump(at="+1m", pct=5, over="2m")])
    closed = model._raw_one(MINUTE, T0 + 60_000, NOW)
    forming = model._raw_one(MINUTE, T0 + 60_000, T0 + 119_999)
    assert closed is not None and forming is not None and not forming[11]
    last_second = model._raw_one(SECOND, T0 + 119_000, NOW)
    assert last_second is not None
    assert _aggregate([forming, last_second]) == closed[2:11]


def test_ramp_steps() -> None:
    """Short ramps move every second, longer ones every minute, then every hour."""
    assert (ramp_step(600), ramp_step(36_000), ramp_step(10 * 86_400)) == (1, 60, 3_600)


def test_unaffected_pairs_keep_the_plain_model() -> None:
    """An event for one pair leaves the others as the plain model built them."""
    model = MarketModel([pair_spec(PAIR), pair_spec("ETH-USDT")], scenario=Scenario(
        [Jump(at="+1h", pct=10, pair="ETH-USDT")]).at(T0))
    assert type(model.pair(PAIR)) is PairModel
    assert isinstance(model.pair("ETH-USDT"), ScenarioPairModel)


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([Jump(at="+1h", pct=5, over="1h"), Halt(at="+90m", over="1m")], "a halt overlaps a jump"),
        ([Listing(at="+1h"), Listing(at="+2h")], "listed more than once"),
        ([Halt(at="+1h", over="0s")], "events[0]: a halt needs a span"),
        ([Trend(at="+1h", over="2d", pct_per_day=-60)], "zero or below"),
    ],
)
def test_clashing_events_are_refused(events: list[Event], message: str) -> None:
    """Overlapping price events, two listings, empty halts and trends through zero are errors."""
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Scenario(events).check([PAIR], T0)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Jump(at="soon", pct=5), "not a time"),
        (lambda: Jump(at="+1h", pct=-100), "above -100"),
        (lambda: Crash(at="+1h", pct=120), "less than 100"),
        (lambda: Halt(at="+1h", over="5 minutes"), "not a span"),
        (lambda: Gap(at="2016-06-01", over="1m"), "outside 2017"),
        (lambda: Jump(at="+1h", pct="ten"), "percentage is a number"),
        (lambda: Listing(at="+1h", pair="BTCUSDT"), "BASE-QUOTE"),
    ],
)
def test_bad_event_values_are_refused(build: object, message: str) -> None:
    """Each field checks its value when the event is made."""
    with pytest.raises(ScenarioError, match=message):
        build()  # type: ignore[operator]


def test_pages_go_on_past_a_gap() -> None:
    """A page selects the candles that exist: over a gap it refills from beyond it, both ways."""
    model = MarketModel([pair_spec(PAIR)], seed=SEED, scenario=Scenario([Gap(at="+1h", over="1d")]).at(T0))
    now = T0 + 3 * 86_400_000
    forward = list(model.open_times(PAIR, MINUTE, now_ms=now, limit=100, start_ms=T0 + 30 * 60_000))
    assert forward[:30] == [T0 + k * 60_000 for k in range(30, 60)]
    assert forward[30:] == [T0 + 86_400_000 + 3_600_000 + k * 60_000 for k in range(70)]
    end = T0 + 86_400_000 + 3_600_000 + 9 * 60_000
    back = list(model.open_times(PAIR, MINUTE, now_ms=now, limit=100, end_ms=end))
    assert back == [*(T0 + k * 60_000 for k in range(-30, 60)), *forward[30:40]]
    inside = model.raw_candles(PAIR, MINUTE, now_ms=now, limit=5, start_ms=T0 + 2 * 3_600_000)
    assert [r[0] for r in inside] == forward[30:35]
    assert model.raw_candles(PAIR, MINUTE, now_ms=T0 + 2 * 3_600_000, limit=5, start_ms=T0 + 3_600_000) == []


@few
@given(scenarios(), windows, st.sampled_from(["1m", "5m", "1h"]))
def test_pagination_over_gaps_is_seamless(events: list[Event], start: int, code: str) -> None:
    """Two pages (the second from the last open + 1) are one page of twice the size, forward and
    backward, and every open a page selects has a candle."""
    model = MarketModel([pair_spec(PAIR)], seed=SEED, scenario=Scenario(events).at(T0))
    interval = Interval.parse(code)
    now = T0 + 12 * 3_600_000
    whole = list(model.open_times(PAIR, interval, now_ms=now, limit=60, start_ms=start))
    first = list(model.open_times(PAIR, interval, now_ms=now, limit=30, start_ms=start))
    rest = (
        list(model.open_times(PAIR, interval, now_ms=now, limit=30, start_ms=first[-1] + 1)) if first else []
    )
    assert [*first, *rest] == whole
    newest = list(model.open_times(PAIR, interval, now_ms=now, limit=60, end_ms=now - 1))
    last = list(model.open_times(PAIR, interval, now_ms=now, limit=30, end_ms=now - 1))
    before = list(model.open_times(PAIR, interval, now_ms=now, limit=30, end_ms=last[0] - 1)) if last else []
    assert [*before, *last] == newest
    assert all(model.candle(PAIR, interval, t, now) is not None for t in whole[:10] + newest[-10:])


# -- volatility regimes --------------------------------------------------------------------------


def _second(model: PairModel, t_s: int) -> RawCandle:
    row = model._raw_one(SECOND, t_s * 1000, NOW)
    assert row is not None
    return row


@pytest.mark.parametrize("factor", ["3", "0.2"])
def test_volatility_multiplies_moves_around_the_start_price(factor: str) -> None:
    """Inside a regime every price is P0 + k·(p - P0) (to the tick), P0 the model's price at its
    start; base volumes and trades are the model's, quotes within a unit per side of a·q + b·v."""
    k = Fraction(factor)
    start_s = T0 // 1000 + 3_600
    model, plain = _models([Volatility(at="+1h", over="2h", factor=factor)])
    p0 = _second(plain, start_s)[2]
    mine = _page(model, MINUTE, start_s * 1000, 120)
    base = _page(plain, MINUTE, start_s * 1000, 120)
    for row, theirs in zip(mine, base, strict=True):
        assert row[2:6] == tuple((2 * (p0 + k * (p - p0)).numerator + (p0 + k * (p - p0)).denominator)
                                 // (2 * (p0 + k * (p - p0)).denominator) for p in theirs[2:6])
        assert (row[6], row[8], row[9]) == (theirs[6], theirs[8], theirs[9])
        exact = k * theirs[7] + p0 * (1 - k) * theirs[6]
        assert abs(row[7] - exact) <= 2
        _check_row(row)
    mine_range = max(r[3] for r in mine) - min(r[4] for r in mine)
    base_range = max(r[3] for r in base) - min(r[4] for r in base)
    assert abs(mine_range - k * base_range) <= 1


def test_volatility_regime_is_continuous_at_both_ends() -> None:
    """The regime starts at the model's price and the market goes on from the price it reached:
    each second opens at the previous one's close across both edges, then moves like the model."""
    start_s, end_s = T0 // 1000 + 3_600, T0 // 1000 + 3 * 3_600
    model, plain = _models([Volatility(at="+1h", over="2h", factor=4)])
    for edge in (start_s, end_s):
        before, after = _second(model, edge - 1), _second(model, edge)
        assert after[2] == before[5]
    assert _second(model, start_s)[2] == _second(plain, start_s)[2]  # no jump at the start
    later = _page(model, MINUTE, (end_s + 3_600) * 1000, 30)
    base = _page(plain, MINUTE, (end_s + 3_600) * 1000, 30)
    ratio = Fraction(_second(model, end_s)[2], _second(plain, end_s)[2])
    for row, theirs in zip(later, base, strict=True):
        assert abs(row[5] - ratio * theirs[5]) <= 1  # the model's moves, rescaled


def test_wild_regime_is_tempered_above_a_tenth_of_its_start() -> None:
    """×100 over a week: the factor is lowered so that the price stays at P0/10 or above; the candles
    keep their invariants and the week aggregates its days."""
    model, plain = _models([Volatility(at="+1h", over="7d", factor=100)])
    p0 = _second(plain, T0 // 1000 + 3_600)[2]
    now = T0 + 10 * 86_400_000
    days = _page(model, DAY, DAY.floor(T0), 9, now=now)
    assert p0 // 10 <= min(r[4] for r in days) <= p0 // 5  # tempered: 100 × would reach zero
    for row in days:
        _check_row(row)
    hours = _page(model, HOUR, DAY.floor(T0) + 86_400_000, 24, now=now)
    assert days[1][2:11] == _aggregate(hours)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Volatility(at="+1h", over="1h", factor=0), "above 0"),
        (lambda: Volatility(at="+1h", over="1h", factor=-2), "above 0"),
        (lambda: Volatility(at="+1h", over="1h", factor=1000), "at most 100"),
        (lambda: Volatility(at="+1h", over="1h", factor="wild"), "factor is a number"),
    ],
)
def test_bad_volatility_factors_are_refused(build: object, message: str) -> None:
    """A factor is a number above 0 and at most 100."""
    with pytest.raises(ScenarioError, match=message):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([Jump(at="+1h", pct=5, over="1h"), Volatility(at="+90m", over="1h", factor=2)],
         "a volatility overlaps a jump"),
        ([Volatility(at="+1h", over="0s", factor=2)], "events[0]: a volatility needs a span"),
    ],
)
def test_clashing_regimes_are_refused(events: list[Event], message: str) -> None:
    """A regime is a price event: it may not overlap another, and needs a span."""
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Scenario(events).check([PAIR], T0)


def test_set_scenario_swaps_every_pair_and_counts_generations() -> None:
    """MarketModel.set_scenario replaces the pair models at once; None restores the plain ones
    (the very objects, caches and all)."""
    specs = [pair_spec(PAIR), pair_spec("ETH-USDT")]
    model = MarketModel(specs, seed=SEED)
    plain = dict(model.pairs)
    before = model.raw_candles(PAIR, HOUR, now_ms=NOW, limit=30)
    model.set_scenario(Scenario([Volatility(at="+1h", over="3h", factor=5, pair=PAIR)]).at(T0))
    assert model.generation == 1
    assert isinstance(model.pair(PAIR), ScenarioPairModel) and model.pair("ETH-USDT") is plain["ETH-USDT"]
    assert model.raw_candles(PAIR, HOUR, now_ms=NOW, limit=30) != before
    model.set_scenario(None)
    assert model.generation == 2 and model.pairs == plain
    assert model.raw_candles(PAIR, HOUR, now_ms=NOW, limit=30) == before
