"""Kraken's wire conventions as data and small formatters: intervals in minutes, numbers, times."""

from __future__ import annotations

import datetime as _dt
from decimal import ROUND_HALF_EVEN, Decimal

import orjson

from mockfeed.market import Candle, Interval

WEEK_MS = 7 * 86_400_000
# mockfeed's Interval puts week boundaries on Monday (Binance). Kraken cuts every interval at a
# multiple of its length since the epoch (``t - t % interval``), which is the only alignment its
# 21600-minute (15-day) interval can have; weeks then open on Thursday 00:00 UTC. Shifting the
# Monday origin by four days lands on the epoch. UNVERIFIED for 1w; ccxt is indifferent.
_EPOCH_WEEK_SHIFT_MS = 4 * 86_400_000


def _epoch_aligned(code: str) -> Interval:
    interval = Interval.parse(code)
    return interval.in_zone(_EPOCH_WEEK_SHIFT_MS) if interval.ms % WEEK_MS == 0 else interval


#: Kraken's intervals: minutes on the wire -> the interval. ccxt calls 21600 ``2w``; it is 15 days.
INTERVALS: dict[int, Interval] = {
    minutes: _epoch_aligned(code)
    for minutes, code in (
        (1, "1m"), (5, "5m"), (15, "15m"), (30, "30m"), (60, "1h"), (240, "4h"), (1440, "1d"),
        (10080, "1w"), (21600, "15d"),
    )
}

VOLUME_DECIMALS = 8  # Kraken's lot_decimals for nearly every pair: volumes always carry 8 decimals


def minutes_of(interval: Interval) -> int:
    """The wire value (minutes) of one of :data:`INTERVALS`."""
    return interval.seconds // 60


def fixed(value: Decimal, places: int) -> str:
    """A decimal with exactly ``places`` digits after the point (REST strings, v1 pushes)."""
    return f"{value:.{places}f}"


def number(value: Decimal, places: int) -> orjson.Fragment:
    """A JSON number with exactly ``places`` decimals (v2 sends ``77400.0``, ``0.00044780``)."""
    return orjson.Fragment(fixed(value, places))


def vwap(candle: Candle, places: int) -> Decimal:
    """Volume-weighted average price at the price precision; 0 for a candle without volume (Kraken)."""
    if not candle.volume:
        return Decimal(0)
    exponent = Decimal(1).scaleb(-places)
    return (candle.quote_volume / candle.volume).quantize(exponent, rounding=ROUND_HALF_EVEN)


def rfc3339(ms: int, digits: int = 6) -> str:
    """``2026-01-01T00:00:17.123000Z`` with ``digits`` (6 or 9) fractional digits."""
    seconds, millis = divmod(ms, 1000)
    stamp = _dt.datetime.fromtimestamp(seconds, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{millis:03d}".ljust(digits, "0")
    return f"{stamp}.{fraction}Z"


def rfc3339_seconds(ms: int) -> str:
    """``2026-01-01T00:00:17Z`` (SystemStatus)."""
    return _dt.datetime.fromtimestamp(ms // 1000, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc1123(ms: int) -> str:
    """Kraken's ``rfc1123`` time: ``Thu,  1 Jan 26 00:00:01 +0000`` (day padded with a space)."""
    t = _dt.datetime.fromtimestamp(ms // 1000, _dt.UTC)
    return (
        f"{_DAYS[t.weekday()]}, {t.day:>2} {_MONTHS[t.month - 1]} {t.year % 100:02d} "
        f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} +0000"
    )


def epoch_seconds(ms: int) -> str:
    """Seconds with six decimals, as v1 pushes spell times (``1542057314.748456``)."""
    seconds, millis = divmod(ms, 1000)
    return f"{seconds}.{millis:03d}000"
