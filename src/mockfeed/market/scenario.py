"""Scripted market events: jumps, crashes, trends, halts, volatility regimes, listings, gaps and
exchange maintenance windows, deterministic.

An event happens ``at`` an absolute time (epoch ms, or ISO 8601) or an offset from the server's
start (``"+2h"``), for one pair or all (``pair=None``), and lasts ``over`` a span (``"5m"``,
``"1h30m"``). A :class:`Scenario` is a tuple of events; :meth:`Scenario.resolve` fixes offsets
against a start time; :mod:`mockfeed.market.scenario_pair` turns the resolved events of one pair into
a transformed market that keeps the model's guarantees (determinism, OHLC invariants, exact
aggregation, prices on the tick grid).
"""

from __future__ import annotations

import datetime as _dt
import re
import time
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from itertools import pairwise
from typing import TYPE_CHECKING, TypeAlias

import attrs

from mockfeed.market.pairs import PairError, pair_spec

if TYPE_CHECKING:
    from mockfeed.market.model import Backend, PairModel
    from mockfeed.market.pairs import PairSpec

__all__ = [
    "Crash",
    "Event",
    "Gap",
    "Halt",
    "Jump",
    "Listing",
    "Maintenance",
    "Resolved",
    "Scenario",
    "ScenarioError",
    "Trend",
    "Volatility",
    "bind",
    "parse_duration",
    "resolve_time",
]

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_OFFSET = re.compile(r"^\+(.+)$")
_UNIT_S = (86_400, 3_600, 60, 1)
MAX_VOLATILITY = 100  # times the model's moves
EARLIEST_S = 1_483_228_800  # 2017-01-01: no event may come before the model's history
LATEST_S = 4_102_444_800  # 2100-01-01


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message names the key path when there is one."""


def parse_duration(value: str | _dt.timedelta) -> int:
    """Whole seconds of ``"90s"``, ``"5m"``, ``"1h30m"``, ``"2d"`` or a timedelta."""
    if isinstance(value, _dt.timedelta):
        seconds = value.total_seconds()
        if seconds < 0 or seconds != int(seconds):
            raise ScenarioError(f"a span must be a whole number of seconds >= 0, not {value}")
        return int(seconds)
    if not isinstance(value, str):
        raise ScenarioError(f"a span is a string such as '5m' or '1h30m', not {value!r}")
    match = _DURATION.fullmatch(value.strip())
    if match is None or not value.strip():
        raise ScenarioError(f"not a span: {value!r} (expected e.g. '90s', '5m', '1h30m', '2d')")
    return sum(int(g) * unit for g, unit in zip(match.groups(), _UNIT_S, strict=True) if g)


def _check_time(value: object) -> int | str | _dt.datetime:
    """Validate an event time without resolving it (offsets need the server's start)."""
    if isinstance(value, bool) or not isinstance(value, int | str | _dt.datetime):
        raise ScenarioError(
            f"a time is epoch ms, ISO 8601 or an offset such as '+2h', not {value!r}"
        )
    resolve_time(value, EARLIEST_S * 1000)
    return value


def resolve_time(value: int | str | _dt.datetime, origin_ms: int) -> int:
    """Epoch seconds of an event time; offsets (``"+2h"``) count from ``origin_ms``."""
    if isinstance(value, str):
        offset = _OFFSET.fullmatch(value.strip())
        if offset is not None:
            ms = origin_ms + parse_duration(offset.group(1)) * 1000
        else:
            try:
                value = _dt.datetime.fromisoformat(value.strip())
            except ValueError:
                raise ScenarioError(
                    f"not a time: {value!r} (expected ISO 8601 such as 2024-01-01T00:00:00Z, "
                    "epoch ms, or an offset such as '+2h')"
                ) from None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        ms = round(value.timestamp() * 1000)
    elif isinstance(value, int):
        ms = value
    seconds = ms // 1000
    if not EARLIEST_S <= seconds <= LATEST_S:
        raise ScenarioError(f"time {value!r} is outside 2017-01-01 .. 2100-01-01")
    return seconds


def _pair(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ScenarioError(f"a pair is a name such as 'BTC-USDT', not {value!r}")
    try:
        return pair_spec(value.strip().upper()).name
    except PairError as error:
        raise ScenarioError(str(error)) from None


def _span(value: str | _dt.timedelta) -> str | _dt.timedelta:
    parse_duration(value)
    return value


def _percent(value: object) -> Fraction:
    """An exact fraction from a number or numeric string (floats by their shortest repr)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ScenarioError(f"a percentage is a number, not {value!r}")
    try:
        exact = Fraction(Decimal(repr(value) if isinstance(value, float) else str(value)))
    except (InvalidOperation, ValueError):
        raise ScenarioError(f"a percentage is a number, not {value!r}") from None
    return exact


def _move(value: object) -> Fraction:
    pct = _percent(value)
    if pct <= -100:
        raise ScenarioError(f"a move must stay above -100 %, not {float(pct)}")
    return pct


def _drop(value: object) -> Fraction:
    pct = _percent(value)
    if not 0 < pct < 100:
        raise ScenarioError(f"a crash drops by more than 0 and less than 100 %, not {float(pct)}")
    return pct


def _rate(value: object) -> Fraction:
    return _percent(value)


def _wildness(value: object) -> Fraction:
    try:
        factor = _percent(value)
    except ScenarioError:
        raise ScenarioError(f"a volatility factor is a number, not {value!r}") from None
    if not 0 < factor <= MAX_VOLATILITY:
        raise ScenarioError(
            f"a volatility factor is above 0 and at most {MAX_VOLATILITY}, not {float(factor)}"
        )
    return factor


@attrs.frozen(slots=True)
class Jump:
    """The price moves by ``pct`` percent (negative: down) over ``over`` (a linear ramp), and
    stays moved: every later candle is scaled by ``1 + pct/100``. ``over="0s"`` jumps at once."""

    at: int | str | _dt.datetime = attrs.field(converter=_check_time)
    pct: Fraction = attrs.field(converter=_move)
    over: str | _dt.timedelta = attrs.field(default="0s", converter=_span)
    pair: str | None = attrs.field(default=None, converter=_pair, kw_only=True)


@attrs.frozen(slots=True)
class Crash:
    """The price falls by ``pct`` percent (0 < pct < 100) over ``over``, and stays down."""

    at: int | str | _dt.datetime = attrs.field(converter=_check_time)
    pct: Fraction = attrs.field(converter=_drop)
    over: str | _dt.timedelta = attrs.field(default="0s", converter=_span)
    pair: str | None = attrs.field(default=None, converter=_pair, kw_only=True)


@attrs.frozen(slots=True)
class Trend:
    """A drift of ``pct_per_day`` percent per day (simple, not compounded) over ``over``."""

    at: int | str | _dt.datetime = attrs.field(converter=_check_time)
    over: str | _dt.timedelta = attrs.field(converter=_span)
    pct_per_day: Fraction = attrs.field(converter=_rate)
    pair: str | None = attrs.field(default=None, converter=_pair, kw_only=True)


@attrs.frozen(slots=True)
class Halt:
    """A halted pair over ``over``: flat candles at the last close with zero volume and trades.
    Afterwards the market resumes from that price (later moves are the model's, rescaled)."""

    at: int | str | _dt.datetime = attrs.field(converter=_check_time)
    over: str | _dt.timedelta = attrs.field(converter=_span)
    pair: str | None = attrs.field(default=None, converter=_pair, kw_only=True)


@attrs.frozen(slots=True)
class Volatility:
    """A volatility regime over ``over``: every move is ``factor`` times the model's (3: three
    times as wild, 0.2: calm), around the price at ``at``; afterwards the market goes on from the
    price reached, with the model's own moves (rescaled, as after a halt).

    A wild regime over a falling stretch is tempered so that the price stays above a tenth of its
    level at ``at`` (the factor is lowered just enough)."""

    at: int | str | _dt.datetime = attrs.field(converter=_check_time)
    over: str | _dt.timedelta = attrs.field(converter=_span)
    factor: Fraction = attrs.field(converter=_wildness)
    pair: str | None = attrs.field(default=None, converter=_pair, kw_only=True)


@attrs.frozen(slots=True)
class Listing:
    """The pair is listed ``at``: it has no candles before (REST answers empty, WS pushes nothing)."""

    at: int | str | _dt.datetime = attrs.field(converter=_check_time)
    pair: str | None = attrs.field(default=None, converter=_pair, kw_only=True)


@attrs.frozen(slots=True)
class Gap:
    """Candles missing over ``over`` from ``at``: REST omits them, WS does not push them."""

    at: int | str | _dt.datetime = attrs.field(converter=_check_time)
    over: str | _dt.timedelta = attrs.field(converter=_span)
    pair: str | None = attrs.field(default=None, converter=_pair, kw_only=True)


def _exchange(value: str | None) -> str | None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ScenarioError(f"an exchange is a product name such as 'okx_spot', not {value!r}")
    return value


@attrs.frozen(slots=True)
class Maintenance:
    """An exchange down for maintenance over ``over`` from ``at`` (market time): REST answers the
    exchange's native maintenance error, WebSockets are closed (1001) and refused, then it resumes.
    ``exchange=None``: every exchange served. The candles are untouched (the market goes on)."""

    at: int | str | _dt.datetime = attrs.field(converter=_check_time)
    over: str | _dt.timedelta = attrs.field(converter=_span)
    exchange: str | None = attrs.field(default=None, converter=_exchange, kw_only=True)
    pair: None = attrs.field(default=None, init=False)  # not a pair's event

    def window(self, origin_ms: int) -> tuple[int, int]:
        """``[start, end)`` in epoch ms."""
        start = resolve_time(self.at, origin_ms) * 1000
        span = parse_duration(self.over)
        if span == 0:
            raise ScenarioError("a maintenance needs a span of at least 1s")
        return start, start + span * 1000


Event: TypeAlias = Jump | Crash | Trend | Halt | Volatility | Listing | Gap | Maintenance
EVENT_KINDS: dict[str, type[Event]] = {
    "jump": Jump, "crash": Crash, "trend": Trend, "halt": Halt, "volatility": Volatility,
    "listing": Listing, "gap": Gap, "maintenance": Maintenance,
}


@attrs.frozen(slots=True)
class Resolved:
    """One event for one pair in epoch seconds: ``[start, end)``; ``factor`` is the price multiplier
    reached at ``end`` (jumps, crashes, trends) or a regime's volatility factor; ``kind`` is the
    event's lower-case class name."""

    kind: str
    start: int
    end: int
    factor: Fraction = Fraction(1)


def _resolved(event: Event, origin_ms: int) -> Resolved:
    start = resolve_time(event.at, origin_ms)
    span = 0 if isinstance(event, Listing) else parse_duration(event.over)
    kind = type(event).__name__.lower()
    if isinstance(event, Halt | Gap | Volatility) and span == 0:
        raise ScenarioError(f"a {kind} needs a span of at least 1s")
    if isinstance(event, Jump):
        factor = 1 + event.pct / 100
    elif isinstance(event, Crash):
        factor = 1 - event.pct / 100
    elif isinstance(event, Trend):
        factor = 1 + event.pct_per_day / 100 * Fraction(span, 86_400)
        if factor <= 0:
            raise ScenarioError("a trend may not take the price to zero or below")
    elif isinstance(event, Volatility):
        factor = event.factor
    else:
        factor = Fraction(1)
    return Resolved(kind, start, start + span, factor)


def _events(value: Iterable[Event]) -> tuple[Event, ...]:
    events = tuple(value)
    for k, event in enumerate(events):
        if not isinstance(event, Event):
            raise ScenarioError(f"events[{k}]: not a scenario event: {event!r}")
    return events


@attrs.frozen(slots=True)
class Scenario:
    """A set of market events. Offsets in their times count from the server's start."""

    events: tuple[Event, ...] = attrs.field(default=(), converter=_events)

    def for_pair(self, pair: str, origin_ms: int) -> list[Resolved]:
        """The events of one pair with times resolved, in order; ScenarioError if they clash.

        Price events (jump, crash, trend, halt, volatility) may not overlap one another; a listing
        may be given once; gaps overlap anything.
        """
        out: list[Resolved] = []
        listings = 0
        for k, event in enumerate(self.events):
            if isinstance(event, Maintenance) or (event.pair is not None and event.pair != pair):
                continue
            try:
                out.append(_resolved(event, origin_ms))
            except ScenarioError as error:
                raise ScenarioError(f"events[{k}]: {error}") from None
            listings += isinstance(event, Listing)
        if listings > 1:
            raise ScenarioError(f"{pair} is listed more than once")
        moves = sorted((r for r in out if r.kind not in ("listing", "gap")), key=lambda r: r.start)
        for a, b in pairwise(moves):
            if b.start < a.end or (a.start == b.start and a.end > a.start and b.end > b.start):
                raise ScenarioError(f"{pair}: a {b.kind} overlaps a {a.kind}")
        return sorted(out, key=lambda r: (r.start, r.end))

    def check(self, pairs: Sequence[str], origin_ms: int) -> None:
        """Raise ScenarioError unless every event names a configured pair and no events clash."""
        for k, event in enumerate(self.events):
            if event.pair is not None and event.pair not in pairs:
                raise ScenarioError(
                    f"events[{k}].pair: {event.pair} is not served (pairs: {', '.join(pairs)})"
                )
        for pair in pairs:
            self.for_pair(pair, origin_ms)

    def maintenance_windows(self, exchange: str, origin_ms: int) -> list[tuple[int, int]]:
        """The ``[start, end)`` epoch-ms windows in which ``exchange`` is down, in order."""
        windows = []
        for k, event in enumerate(self.events):
            if isinstance(event, Maintenance) and event.exchange in (None, exchange):
                try:
                    windows.append(event.window(origin_ms))
                except ScenarioError as error:
                    raise ScenarioError(f"events[{k}]: {error}") from None
        return sorted(windows)

    def at(self, origin_ms: int) -> Bound:
        """This scenario with offsets counted from ``origin_ms`` (epoch ms of the server's start)."""
        return Bound(self, origin_ms)


@attrs.frozen(slots=True)
class Bound:
    """A scenario whose offsets are fixed: what :class:`~mockfeed.market.MarketModel` takes."""

    scenario: Scenario
    origin_ms: int

    def pair_model(
        self,
        spec: PairSpec,
        seed: int,
        history_start_ms: int,
        cache_size: int,
        backend: Backend,
        base: PairModel | None = None,
    ) -> PairModel | None:
        """The model of one pair under this scenario, or None if no event touches it. ``base``: the
        plain model of the pair to compute from (and share caches with), if there is one."""
        from mockfeed.market.scenario_pair import ScenarioPairModel  # it imports the model

        events = self.scenario.for_pair(spec.name, self.origin_ms)
        if not events:
            return None
        return ScenarioPairModel(
            spec, seed, history_start_ms, cache_size, backend, events=events, base=base
        )


def bind(scenario: Scenario | None, start_ms: int | None) -> Bound | None:
    """``scenario`` with offsets counted from ``start_ms`` (None: the wall-clock time now)."""
    if scenario is None:
        return None
    return scenario.at(time.time_ns() // 1_000_000 if start_ms is None else start_ms)
