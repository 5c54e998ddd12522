"""Unit and property tests of :mod:`mockfeed.market.interval`: parsing, formatting, UTC alignment."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockfeed.market import STANDARD_CODES, Interval, IntervalError

SECOND_MS = 1000
DAY_MS = 86_400 * SECOND_MS
WEEK_MS = 7 * DAY_MS
T2017_MS = 1_483_228_800_000  # 2017-01-01T00:00:00Z
T2030_MS = 1_893_456_000_000  # 2030-01-01T00:00:00Z

FIXED_CODES = tuple(code for code in STANDARD_CODES if not code.endswith("M"))
# Fixed intervals that tile a UTC day exactly, so they are aligned to the epoch (and to midnight).
DAY_DIVIDING_CODES = tuple(code for code in FIXED_CODES if DAY_MS % Interval.parse(code).ms == 0)
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}

times = st.integers(min_value=T2017_MS, max_value=T2030_MS)
standard = st.sampled_from(STANDARD_CODES).map(Interval.parse)
fixed = st.sampled_from(FIXED_CODES).map(Interval.parse)
settings_ = settings(max_examples=50, deadline=None)


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    """Epoch milliseconds of a UTC wall-clock time."""
    when = dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    return int(when.timestamp()) * SECOND_MS


def utc(t_ms: int) -> dt.datetime:
    """The UTC datetime of epoch milliseconds (whole seconds)."""
    return dt.datetime.fromtimestamp(t_ms // SECOND_MS, dt.UTC)


# -- parsing and formatting ------------------------------------------------------------------


@pytest.mark.parametrize("code", STANDARD_CODES)
def test_standard_codes_round_trip(code: str) -> None:
    """Every standard code parses and formats back to itself, and re-parses to an equal value."""
    interval = Interval.parse(code)
    assert interval.code == code
    assert Interval.parse(interval.code) == interval


@pytest.mark.parametrize(
    ("code", "seconds", "months"),
    [
        ("1s", 1, 0),
        ("1m", 60, 0),
        ("15m", 900, 0),
        ("4h", 14_400, 0),
        ("1d", 86_400, 0),
        ("3d", 259_200, 0),
        ("1w", 604_800, 0),
        ("1M", 0, 1),
        ("3M", 0, 3),
    ],
)
def test_parse_values(code: str, seconds: int, months: int) -> None:
    """Codes parse to the expected fixed length in seconds or number of calendar months."""
    assert Interval.parse(code) == Interval(seconds=seconds, months=months)


def test_month_and_minute_are_distinct() -> None:
    """``1M`` is a calendar month and ``1m`` a minute: the unit letter is case-sensitive."""
    assert Interval.parse("1M").months == 1
    assert Interval.parse("1m").seconds == 60
    assert Interval.parse("1M") != Interval.parse("1m")


def test_ms_lengths() -> None:
    """``ms`` is the fixed length in milliseconds, and a nominal 30 days for a month."""
    assert Interval.parse("1s").ms == 1000
    assert Interval.parse("1h").ms == 3_600_000
    assert Interval.parse("1w").ms == WEEK_MS
    assert Interval.parse("1M").ms == 30 * DAY_MS


def test_non_canonical_codes_format_canonically() -> None:
    """Codes that spell a larger unit in a smaller one format in the largest exact unit."""
    assert Interval.parse("60s").code == "1m"
    assert Interval.parse("120m").code == "2h"
    assert Interval.parse("24h").code == "1d"
    assert Interval.parse("14d").code == "2w"
    assert Interval.parse("90s").code == "90s"


@pytest.mark.parametrize(
    "code",
    [
        "",
        "m",
        "1",
        "0m",
        "00m",
        "01m",
        "-1m",
        "+1m",
        "1.5h",
        "1y",
        "1W",
        "1D",
        "1H",
        "1S",
        "1mm",
        "m1",
        " 1m",
        "1m ",
        "1 m",
        "10000s",
        "1m1",
        "１m",
    ],
)
def test_invalid_codes_raise(code: str) -> None:
    """Malformed codes raise IntervalError, which is a ValueError."""
    with pytest.raises(IntervalError):
        Interval.parse(code)
    assert issubclass(IntervalError, ValueError)


def test_trailing_newline_is_invalid() -> None:
    """A code with a trailing newline is not a valid code."""
    with pytest.raises(IntervalError):
        Interval.parse("1m\n")


@settings_
@given(count=st.integers(min_value=1, max_value=9999), unit=st.sampled_from("smhdwM"))
def test_parse_any_valid_code(count: int, unit: str) -> None:
    """Any 1-4 digit count with a unit parses to its length, and its code re-parses equal."""
    interval = Interval.parse(f"{count}{unit}")
    if unit == "M":
        assert interval == Interval(months=count)
    else:
        assert interval == Interval(seconds=count * UNIT_SECONDS[unit])
    assert Interval.parse(interval.code) == interval


# -- alignment -------------------------------------------------------------------------------


@settings_
@given(interval=standard, t=times)
def test_floor_contains_time(interval: Interval, t: int) -> None:
    """floor(t) <= t < next(floor(t)) for every standard interval; floor is idempotent."""
    start = interval.floor(t)
    assert start <= t < interval.next(start)
    assert interval.floor(start) == start
    assert interval.floor(interval.next(start) - 1) == start


@settings_
@given(interval=standard, t=times)
def test_next_and_prev_are_inverse(interval: Interval, t: int) -> None:
    """next and prev step between adjacent aligned opens and undo each other."""
    start = interval.floor(t)
    after, before = interval.next(start), interval.prev(start)
    assert before < start < after
    assert interval.prev(after) == start
    assert interval.next(before) == start
    assert interval.floor(after) == after
    assert interval.floor(before) == before
    assert interval.floor(start - 1) == before


@settings_
@given(interval=fixed, t=times)
def test_fixed_interval_steps(interval: Interval, t: int) -> None:
    """A fixed interval's consecutive opens are exactly its length apart."""
    start = interval.floor(t)
    assert interval.next(start) - start == interval.ms
    assert start - interval.prev(start) == interval.ms
    assert t - start < interval.ms


@settings_
@given(code=st.sampled_from(DAY_DIVIDING_CODES), t=times)
def test_day_dividing_intervals_align_to_epoch(code: str, t: int) -> None:
    """Intervals up to 1d open on multiples of their length from the epoch (so at UTC midnight)."""
    interval = Interval.parse(code)
    start = interval.floor(t)
    assert start % interval.ms == 0
    assert (t - t % DAY_MS) <= start  # never crosses back over midnight


@pytest.mark.parametrize(
    ("code", "t", "expected"),
    [
        ("1s", ms(2024, 3, 5, 12, 34, 56) + 789, ms(2024, 3, 5, 12, 34, 56)),
        ("1m", ms(2024, 3, 5, 12, 34, 56), ms(2024, 3, 5, 12, 34)),
        ("3m", ms(2024, 3, 5, 12, 34, 56), ms(2024, 3, 5, 12, 33)),
        ("15m", ms(2024, 3, 5, 12, 34, 56), ms(2024, 3, 5, 12, 30)),
        ("1h", ms(2024, 3, 5, 12, 34, 56), ms(2024, 3, 5, 12)),
        ("4h", ms(2024, 3, 5, 12, 34, 56), ms(2024, 3, 5, 12)),
        ("4h", ms(2024, 3, 5, 11, 59, 59), ms(2024, 3, 5, 8)),
        ("12h", ms(2024, 3, 5, 11, 59, 59), ms(2024, 3, 5)),
        ("1d", ms(2024, 3, 5, 23, 59, 59) + 999, ms(2024, 3, 5)),
        ("1d", ms(2024, 3, 6), ms(2024, 3, 6)),
    ],
)
def test_floor_examples(code: str, t: int, expected: int) -> None:
    """Known floors of fixed intervals."""
    assert Interval.parse(code).floor(t) == expected


# -- weeks -----------------------------------------------------------------------------------


@settings_
@given(t=times)
def test_week_opens_monday_midnight(t: int) -> None:
    """1w candles open on Monday 00:00 UTC and last exactly seven days."""
    week = Interval.parse("1w")
    start = week.floor(t)
    opened = utc(start)
    assert opened.weekday() == 0
    assert (opened.hour, opened.minute, opened.second) == (0, 0, 0)
    assert start % SECOND_MS == 0
    assert t - start < WEEK_MS
    assert week.next(start) == start + WEEK_MS


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (ms(2026, 6, 3, 15, 0), ms(2026, 6, 1)),  # Wednesday -> Monday of that week
        (ms(2026, 6, 1), ms(2026, 6, 1)),  # Monday midnight is its own open
        (ms(2026, 5, 31, 23, 59, 59), ms(2026, 5, 25)),  # Sunday -> previous Monday
        (ms(2017, 1, 1), ms(2016, 12, 26)),  # a Sunday, across a year boundary
        (0, ms(1969, 12, 29)),  # the epoch was a Thursday
    ],
)
def test_week_floor_examples(t: int, expected: int) -> None:
    """Known 1w floors, including across year boundaries and at the epoch."""
    assert Interval.parse("1w").floor(t) == expected


# -- calendar months -------------------------------------------------------------------------


@settings_
@given(t=times)
def test_month_opens_on_the_first(t: int) -> None:
    """1M candles open on the 1st at 00:00 UTC and the next opens on the 1st of the next month."""
    month = Interval.parse("1M")
    start = month.floor(t)
    opened, when = utc(start), utc(t)
    assert (opened.year, opened.month) == (when.year, when.month)
    assert (opened.day, opened.hour, opened.minute, opened.second) == (1, 0, 0, 0)
    following = utc(month.next(start))
    assert following.day == 1
    assert following.year * 12 + following.month == opened.year * 12 + opened.month + 1


@pytest.mark.parametrize(
    ("t", "floor", "following", "previous"),
    [
        (ms(2024, 1, 31, 23, 59, 59) + 999, ms(2024, 1, 1), ms(2024, 2, 1), ms(2023, 12, 1)),
        (ms(2024, 2, 29, 12), ms(2024, 2, 1), ms(2024, 3, 1), ms(2024, 1, 1)),  # leap year
        (ms(2025, 2, 28, 12), ms(2025, 2, 1), ms(2025, 3, 1), ms(2025, 1, 1)),
        (ms(2025, 12, 31, 23), ms(2025, 12, 1), ms(2026, 1, 1), ms(2025, 11, 1)),  # year end
        (ms(2026, 1, 1), ms(2026, 1, 1), ms(2026, 2, 1), ms(2025, 12, 1)),  # year start
        (ms(2024, 4, 30, 6), ms(2024, 4, 1), ms(2024, 5, 1), ms(2024, 3, 1)),
    ],
)
def test_month_examples(t: int, floor: int, following: int, previous: int) -> None:
    """Known 1M floors, nexts and prevs across month lengths, leap years and year boundaries."""
    month = Interval.parse("1M")
    assert month.floor(t) == floor
    assert month.next(floor) == following
    assert month.prev(floor) == previous


def test_month_lengths_vary() -> None:
    """1M candles are calendar months, so their lengths follow the calendar (28 to 31 days)."""
    month = Interval.parse("1M")
    start = ms(2024, 1, 1)
    lengths = []
    for _ in range(12):
        following = month.next(start)
        lengths.append((following - start) // DAY_MS)
        start = following
    assert lengths == [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


# -- time zones ----------------------------------------------------------------------------

HOUR_MS = 3_600_000
# Offsets east of UTC in Binance's accepted range [-12:00, +14:00], including non-whole hours.
ZONES_MS = (8 * HOUR_MS, -5 * HOUR_MS, 14 * HOUR_MS, -12 * HOUR_MS, 5 * HOUR_MS + 45 * 60_000)
zones = st.sampled_from(ZONES_MS)


def test_in_zone_keeps_length_and_code() -> None:
    """in_zone changes only the boundaries: length and code stay; in_zone(0) is plain UTC."""
    day = Interval.parse("1d")
    shifted = day.in_zone(8 * HOUR_MS)
    assert shifted.offset_ms == 8 * HOUR_MS
    assert (shifted.seconds, shifted.months, shifted.ms, shifted.code) == (86_400, 0, DAY_MS, "1d")
    assert shifted != day
    assert day.in_zone(0) == day


@pytest.mark.parametrize(
    ("code", "offset", "t", "expected"),
    [
        ("1d", 8 * HOUR_MS, ms(2026, 6, 1, 12), ms(2026, 5, 31, 16)),  # +08:00 days open 16:00 UTC
        ("1d", 8 * HOUR_MS, ms(2026, 6, 1, 16), ms(2026, 6, 1, 16)),
        ("1d", -5 * HOUR_MS, ms(2026, 6, 1, 3), ms(2026, 5, 31, 5)),  # -05:00 days open 05:00 UTC
        ("4h", 8 * HOUR_MS, ms(2026, 6, 1, 1), ms(2026, 6, 1)),  # 4h divides 8h: UTC grid kept
        ("12h", 5 * HOUR_MS, ms(2026, 6, 1, 12), ms(2026, 6, 1, 7)),
        ("1h", 5 * HOUR_MS + 45 * 60_000, ms(2026, 6, 1, 12, 10), ms(2026, 6, 1, 11, 15)),
        ("1w", 8 * HOUR_MS, ms(2026, 6, 1, 12), ms(2026, 5, 31, 16)),  # Monday 00:00 at +08:00
        ("1M", 8 * HOUR_MS, ms(2026, 6, 1, 12), ms(2026, 5, 31, 16)),  # the 1st 00:00 at +08:00
        ("1M", 8 * HOUR_MS, ms(2026, 5, 31, 15, 59, 59), ms(2026, 4, 30, 16)),
        ("1M", -5 * HOUR_MS, ms(2026, 6, 1, 3), ms(2026, 5, 1, 5)),
    ],
)
def test_zone_floor_examples(code: str, offset: int, t: int, expected: int) -> None:
    """Known floors of intervals whose boundaries are in a time zone east or west of UTC."""
    assert Interval.parse(code).in_zone(offset).floor(t) == expected


@settings_
@given(interval=standard, offset=zones, t=times)
def test_zone_floor_next_prev(interval: Interval, offset: int, t: int) -> None:
    """Zoned intervals keep the floor/next/prev laws and are the UTC grid shifted by the offset."""
    zoned = interval.in_zone(offset)
    start = zoned.floor(t)
    assert start <= t < zoned.next(start)
    assert zoned.floor(start) == start
    assert zoned.prev(zoned.next(start)) == start
    assert zoned.next(zoned.prev(start)) == start
    assert start + offset == interval.floor(t + offset)
    assert zoned.next(start) + offset == interval.next(start + offset)
