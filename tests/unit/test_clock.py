"""Unit and property tests of the market clocks, time parsing, the clock config and its control logic."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockfeed import ServerConfig
from mockfeed.cli import _control_port
from mockfeed.exchanges import ExchangeType
from mockfeed.market.clock import (
    EARLIEST_MS,
    LATEST_MS,
    MAX_SPEED,
    RealClock,
    ScaledClock,
    format_time,
    parse_time,
    wall_ms,
)
from mockfeed.runtime.control import change_time

START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z


class FakeSource:
    """A time source the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.s = 1000.0

    def __call__(self) -> float:
        return self.s


def clock(speed: float = 1.0, start_ms: int | None = START_MS) -> tuple[ScaledClock, FakeSource]:
    """A started ScaledClock on a fake source."""
    source = FakeSource()
    made = ScaledClock(start_ms=start_ms, speed=speed, source=source)
    made.start()
    return made, source


def test_starts_at_start_and_runs_at_speed() -> None:
    """Market time is start_ms when started and runs speed × the source."""
    c, source = clock(speed=60)
    assert c.now_ms() == START_MS
    source.s += 1.5
    assert c.now_ms() == START_MS + 90_000
    assert c.speed == 60.0


def test_starts_on_first_use_not_at_construction() -> None:
    """Until started, the source's progress does not count."""
    source = FakeSource()
    c = ScaledClock(start_ms=START_MS, source=source)
    source.s += 100
    assert c.start() == START_MS
    source.s += 1
    assert c.now_ms() == START_MS + 1000


def test_default_start_is_the_wall_clock() -> None:
    """Without start_ms the market starts at the current wall-clock time."""
    before = wall_ms()
    c, _ = clock(start_ms=None)
    assert before <= c.now_ms() <= wall_ms()


def test_advance_set_time_and_speed() -> None:
    """advance adds; set_time jumps (backwards too); set_speed keeps the time and changes the pace."""
    c, source = clock()
    assert c.advance(60_000) == START_MS + 60_000 == c.now_ms()
    assert c.set_time(START_MS - 3_600_000) == START_MS - 3_600_000 == c.now_ms()
    source.s += 1
    assert c.now_ms() == START_MS - 3_599_000
    assert c.set_speed(0) == START_MS - 3_599_000
    source.s += 1000
    assert c.now_ms() == START_MS - 3_599_000  # frozen
    c.advance(1)
    assert c.now_ms() == START_MS - 3_598_999
    c.set_speed(2)
    source.s += 0.25
    assert c.now_ms() == START_MS - 3_598_499


def test_seconds_until() -> None:
    """Source seconds until a market time at the current speed; 0 if past; inf when frozen."""
    c, _ = clock(speed=60)
    assert c.seconds_until(START_MS + 60_000) == pytest.approx(1.0)
    assert c.seconds_until(START_MS - 1) == 0.0
    c.set_speed(0)
    assert c.seconds_until(START_MS + 1) == math.inf


operations = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.floats(0, 5)),
        st.tuples(st.just("advance"), st.integers(0, 10**9)),
        st.tuples(st.just("speed"), st.floats(0, MAX_SPEED)),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(operations, st.floats(0, 1000))
def test_market_time_never_runs_backwards_without_set_time(ops: list[tuple[str, float]], speed: float) -> None:
    """Whatever mix of waiting, advancing and speed changes, readings never decrease."""
    c, source = clock(speed=speed)
    last = c.now_ms()
    for kind, value in ops:
        if kind == "wait":
            source.s += value
        elif kind == "advance":
            try:
                c.advance(int(value))
            except ValueError:
                assert last + int(value) > LATEST_MS
        else:
            c.set_speed(value)
        now = c.now_ms()
        assert last <= now <= LATEST_MS
        last = now


@settings(max_examples=100, deadline=None)
@given(st.integers(EARLIEST_MS, LATEST_MS), st.floats(0, MAX_SPEED), st.floats(0, 10))
def test_set_time_is_exact(target: int, speed: float, wait: float) -> None:
    """set_time(t) reads t right away, and t + speed × elapsed afterwards (capped at LATEST_MS)."""
    c, source = clock(speed=speed)
    source.s += wait
    assert c.set_time(target) == target == c.now_ms()
    source.s += 0.5
    assert c.now_ms() == min(target + math.floor(0.5 * speed * 1000), LATEST_MS)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda c: c.advance(-1), "never runs backwards"),
        (lambda c: c.advance(True), "whole number"),
        (lambda c: c.advance(2.0), "whole number"),
        (lambda c: c.advance(LATEST_MS), "outside the market's time span"),
        (lambda c: c.set_time(EARLIEST_MS - 1), "outside the market's time span"),
        (lambda c: c.set_time("2024"), "whole number"),
        (lambda c: c.set_speed(-0.1), "speed range"),
        (lambda c: c.set_speed(MAX_SPEED * 2), "speed range"),
        (lambda c: c.set_speed(math.nan), "speed range"),
        (lambda c: c.set_speed("2"), "expected a number"),
    ],
)
def test_bad_values_are_refused_without_effect(call: object, fragment: str) -> None:
    """A refused change raises ValueError with a message and leaves time and speed alone."""
    c, _ = clock(speed=3)
    with pytest.raises(ValueError, match=fragment):
        call(c)  # type: ignore[operator]
    assert (c.now_ms(), c.speed) == (START_MS, 3.0)


def test_real_clock_is_wall_time() -> None:
    """RealClock reads the wall clock."""
    before = wall_ms()
    assert before <= RealClock().now_ms() <= wall_ms()


# -- parsing and formatting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-01", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000Z", "2024-01-01T08:00:00+08:00",
        " 2024-01-01T00:00:00Z ", dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, tzinfo=dt.UTC), START_MS,
    ],
)
def test_parse_time_forms(value: object) -> None:
    """ISO 8601 strings (naive = UTC), datetimes and epoch ms all give the same instant."""
    assert parse_time(value) == START_MS  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("yesterday", "ISO 8601"), ("", "ISO 8601"), ("2016-12-31", "outside"), (True, "whole number"),
     (dt.datetime(2200, 1, 1), "outside")],
)
def test_parse_time_refusals(value: object, fragment: str) -> None:
    """Anything else is a ValueError saying what was expected."""
    with pytest.raises(ValueError, match=fragment):
        parse_time(value)  # type: ignore[arg-type]


@given(st.integers(EARLIEST_MS, LATEST_MS))
def test_format_then_parse_round_trips(ms: int) -> None:
    """format_time gives ISO 8601 UTC with milliseconds that parses back to the same instant."""
    text = format_time(ms)
    assert text.endswith("Z") and len(text) == 24
    assert parse_time(text) == ms


# -- config and CLI defaults -----------------------------------------------------------------------------


def test_config_clock_fields() -> None:
    """speed and start are validated and normalized; the defaults are real time and no control port."""
    default = ServerConfig()
    assert (default.speed, default.start, default.control_port) == (1.0, None, None)
    config = ServerConfig(speed=60, start="2024-01-01T00:00:00Z", control_port=0)
    assert (config.speed, config.start, config.control_port) == (60.0, START_MS, 0)
    with pytest.raises(ValueError, match="speed range"):
        ServerConfig(speed=-1)
    with pytest.raises(ValueError, match="ISO 8601"):
        ServerConfig(start="soon")
    with pytest.raises(ValueError, match=r"outside 0\.\.65535"):
        ServerConfig(control_port=70_000)


def test_default_control_port_sits_next_to_the_rest_ports() -> None:
    """REST port of the first exchange + 100; none for ephemeral runs unless asked; 'off' disables."""
    okx, binance = ExchangeType.OKX_SPOT, ExchangeType.BINANCE_SPOT
    assert _control_port(None, [binance, okx], None) == 9200
    assert _control_port(None, [okx], None) == 9216
    assert _control_port(None, [okx], 5000) == 5100
    assert _control_port(None, [okx], 0) is None
    assert _control_port("0", [okx], 0) == 0
    assert _control_port("OFF", [okx], None) is None
    with pytest.raises(ValueError, match="--control-port"):
        _control_port("x", [okx], None)


# -- the control endpoint's change logic -----------------------------------------------------------------


def test_change_time_applies_all_or_nothing() -> None:
    """A change with one bad key changes nothing; a good one applies time first, then speed."""
    c, source = clock()
    with pytest.raises(ValueError, match="speed: "):
        change_time(c, {"set_ms": START_MS + 5, "speed": -1})
    assert (c.now_ms(), c.speed) == (START_MS, 1.0)
    change_time(c, {"set_ms": START_MS + 5, "speed": 10})
    source.s += 1
    assert (c.now_ms(), c.speed) == (START_MS + 10_005, 10.0)
    change_time(c, {"advance_ms": 995})
    assert c.now_ms() == START_MS + 11_000
