"""Gate's two REST candle endpoints as data: interval codes, limits, window rules and row layouts.

``GET /spot/candlesticks`` and ``GET /futures/{settle}/candlesticks`` share the selection rules
(``from``/``to`` in seconds, ``limit`` counted back from ``to`` or now, at most ``max_points`` per
request, nothing older than the last 10 000 points) and differ in the table below.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType

import attrs

from mockfeed.exchanges.gate_io import errors
from mockfeed.exchanges.gate_io.params import Params
from mockfeed.exchanges.rows import Layout, flag, integer, plain
from mockfeed.market import Candle, Interval, PairSpec

_DAY_MS = 86_400_000
_LATEST_S = 32_503_680_000  # 3000-01-01: later times are read as this (nothing exists there either)
# Interval weeks start on Monday (four days after the epoch). Gate's ``7d`` is "every 7d since unix 0"
# (futures docs; assumed for spot too, UNVERIFIED) and its futures ``1w`` a natural Monday week.
_EPOCH_WEEK = Interval.parse("1w").in_zone(4 * _DAY_MS)

#: Every Gate interval code and what it means.
INTERVALS: Mapping[str, Interval] = MappingProxyType({
    "1s": Interval.parse("1s"),
    "10s": Interval.parse("10s"),
    "1m": Interval.parse("1m"),
    "5m": Interval.parse("5m"),
    "15m": Interval.parse("15m"),
    "30m": Interval.parse("30m"),
    "1h": Interval.parse("1h"),
    "4h": Interval.parse("4h"),
    "8h": Interval.parse("8h"),
    "1d": Interval.parse("1d"),
    "7d": _EPOCH_WEEK,
    "1w": Interval.parse("1w"),
    "30d": Interval.parse("1M"),  # "30d represents a natural month, not 30 days"
})


def intervals(*codes: str) -> Mapping[str, Interval]:
    """The sub-table of :data:`INTERVALS` for ``codes``."""
    return MappingProxyType({code: INTERVALS[code] for code in codes})


def fmt(value: Decimal) -> str:
    """A decimal as Gate writes it: plain notation, no trailing zeros (``61262.4``, ``0.1``, ``0``)."""
    return format(value.normalize(), "f")


def spot_row(pair: PairSpec, candle: Candle) -> list[str]:
    """``[t, quote volume, close, high, low, open, base volume, window closed]``, all strings."""
    return [
        str(candle.open_time // 1000),
        fmt(candle.quote_volume),
        fmt(candle.close),
        fmt(candle.high),
        fmt(candle.low),
        fmt(candle.open),
        fmt(candle.volume),
        "true" if candle.closed else "false",
    ]


@functools.cache
def spot_layout(pair: PairSpec) -> Layout:
    """:func:`spot_row`, encoded from the model's integers."""
    tick, lot = pair.tick_size, pair.lot_size
    return Layout(
        '["', integer(0, divisor=1000), '","', plain(7, tick * lot), '","', plain(5, tick), '","',
        plain(3, tick), '","', plain(4, tick), '","', plain(2, tick), '","', plain(6, lot), '","',
        flag("false", "true"), '"]',
    )


def contracts(pair: PairSpec, volume: Decimal) -> int:
    """A base volume in whole contracts (one contract is one lot: ``quanto_multiplier`` = lot size)."""
    return int(volume / pair.lot_size)


def futures_row(pair: PairSpec, candle: Candle) -> dict[str, object]:
    """``{"t": seconds, "v": contracts, "c"/"h"/"l"/"o": price strings, "sum": quote volume}``."""
    return {
        "t": candle.open_time // 1000,
        "v": contracts(pair, candle.volume),
        "c": fmt(candle.close),
        "h": fmt(candle.high),
        "l": fmt(candle.low),
        "o": fmt(candle.open),
        "sum": fmt(candle.quote_volume),
    }


@functools.cache
def futures_layout(pair: PairSpec) -> Layout:
    """:func:`futures_row`, encoded from the model's integers (``v`` is the volume in lots)."""
    tick = pair.tick_size
    return Layout(
        '{"t":', integer(0, divisor=1000), ',"v":', integer(6), ',"c":"', plain(5, tick), '","h":"',
        plain(3, tick), '","l":"', plain(4, tick), '","o":"', plain(2, tick), '","sum":"',
        plain(7, tick * pair.lot_size), '"}',
    )


@attrs.frozen
class CandleEndpoint:
    """What differs between the spot and the futures candle endpoint."""

    market_param: str  # "currency_pair" or "contract"
    intervals: Mapping[str, Interval]
    max_points: int
    # Spot ignores ``limit`` next to ``from`` (ccxt#13340: "not enforced"); futures refuses it
    # (gateapi-python#100: "Invalid request parameter `limit` value: 100").
    limit_with_from: bool
    window_message: str  # "Candlestick too long ago..." as each product words it
    zones: Mapping[str, int]  # the ``timezone`` parameter (futures only) in ms east of UTC
    unknown: Callable[[str], errors.GateError]
    row: Callable[[PairSpec, Candle], object]
    layout: Callable[[PairSpec], Layout]  # ``row`` as bytes, from the model's integers
    default_limit: int = 100
    default_interval: str = "30m"
    window: int = 10_000  # only the last 10 000 points are reachable (ccxt#27887)


SPOT = CandleEndpoint(
    market_param="currency_pair",
    intervals=intervals("1s", "10s", "1m", "5m", "15m", "30m", "1h", "4h", "8h", "1d", "7d", "30d"),
    max_points=1000,
    limit_with_from=True,
    window_message="Candlestick too long ago. Maximum {window} points ago are allowed",
    zones=MappingProxyType({}),
    unknown=errors.unknown_pair,
    row=spot_row,
    layout=spot_layout,
)

FUTURES = CandleEndpoint(
    market_param="contract",
    # The enum lists 10s...7d; the description also defines 1w (natural week) and 30d (natural month).
    intervals=intervals("10s", "1m", "5m", "15m", "30m", "1h", "4h", "8h", "1d", "7d", "1w", "30d"),
    max_points=2000,
    limit_with_from=False,
    # Futures words it "points recently" (seen through ccxt in passivbot#563).
    window_message="Candlestick too long ago. Maximum {window} points recently are allowed",
    # all/utc0/utc8, default utc0; "all" is undocumented beyond its name and served as utc0.
    zones=MappingProxyType({"utc0": 0, "utc8": 8 * 3_600_000, "all": 0}),
    unknown=errors.unknown_contract,
    row=futures_row,
    layout=futures_layout,
)


@attrs.frozen
class Query:
    """A validated candle request, in the terms of :meth:`MarketModel.candles`."""

    interval: Interval
    limit: int
    start_ms: int | None
    end_ms: int | None


def _back(interval: Interval, open_ms: int, count: int) -> int:
    """The open time ``count`` candles before ``open_ms``."""
    return Interval(interval.seconds * count, interval.months * count, interval.offset_ms).prev(open_ms)


def _points(interval: Interval, first: int, last: int, cap: int) -> int:
    """How many candles open in ``[first, last]``, counting no further than ``cap + 1``."""
    count, t = 0, first
    while t <= last and count <= cap:
        count += 1
        t = interval.next(t)
    return count


def plan(endpoint: CandleEndpoint, params: Params, now_ms: int) -> Query:
    """Validate a candle request as Gate does and turn it into a :class:`Query`.

    With ``from``: the candles opening in ``[from, to or now]``; the range may hold at most
    ``max_points``. Without: the last ``limit`` (default 100) candles up to ``to`` or now. Either
    way the first requested candle must be one of the last ``window`` candles.
    """
    code = params.text("interval") or endpoint.default_interval
    interval = endpoint.intervals.get(code)
    if interval is None:
        raise errors.invalid_value("interval", code)
    if endpoint.zones:
        zone_name = params.text("timezone") or "utc0"
        zone = endpoint.zones.get(zone_name)
        if zone is None:
            raise errors.invalid_value("timezone", zone_name)
        interval = interval.in_zone(interval.offset_ms + zone)
    start_s = params.integer("from")
    end_s = params.integer("to")
    limit = params.integer("limit")
    if limit is not None and (
        not 1 <= limit <= endpoint.max_points or (start_s is not None and not endpoint.limit_with_from)
    ):
        raise errors.invalid_value("limit", str(limit))
    # ``to`` before ``from`` is an empty range, not an error: ccxt sends to = min(from + page, now),
    # so paginating with ``since`` past the newest candle always ends with such a request.
    end_ms = None if end_s is None else min(end_s, _LATEST_S) * 1000
    now_open = interval.floor(now_ms)
    oldest = _back(interval, now_open, endpoint.window - 1)
    if start_s is not None:
        start_s = min(start_s, _LATEST_S)
        first = interval.floor(start_s * 1000)
        last = interval.floor(now_ms if end_ms is None else end_ms)
        if _points(interval, first, last, endpoint.max_points) > endpoint.max_points:
            raise errors.too_broad(endpoint.max_points)
        if first < oldest:
            raise errors.too_long_ago(endpoint.window_message, endpoint.window)
        return Query(interval, endpoint.max_points, start_s * 1000, end_ms)
    count = limit or endpoint.default_limit
    last = now_open if end_ms is None else min(interval.floor(end_ms), now_open)
    if _back(interval, last, count - 1) < oldest:
        raise errors.too_long_ago(endpoint.window_message, endpoint.window)
    return Query(interval, count, None, end_ms)
