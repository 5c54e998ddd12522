"""Hyperliquid's wire format for candles: interval codes, number strings, the candle row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mockfeed.market import Candle, Interval

_THURSDAY_MS = 4 * 86_400_000

#: Hyperliquid's interval codes. Its weeks open on Thursday 00:00 UTC (epoch-aligned), the model's
#: on Monday: shifting Monday weeks by four days with :meth:`Interval.in_zone` gives epoch weeks.
INTERVALS: dict[str, Interval] = {
    code: Interval.parse(code)
    for code in ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "3d", "1w", "1M")
} | {"1w": Interval.parse("1w").in_zone(_THURSDAY_MS)}


def num(value: Decimal) -> str:
    """A price or size as Hyperliquid writes it: a string without trailing zeros, ``"61230.0"``."""
    text = f"{value.normalize():f}"
    return text if "." in text else text + ".0"


def candle_row(coin: str, code: str, candle: Candle) -> dict[str, Any]:
    """One candle as ``candleSnapshot`` rows and ``candle`` pushes carry it (no closed flag)."""
    return {
        "t": candle.open_time,
        "T": candle.close_time,
        "s": coin,
        "i": code,
        "o": num(candle.open),
        "c": num(candle.close),
        "h": num(candle.high),
        "l": num(candle.low),
        "v": num(candle.volume),
        "n": candle.trades,
    }
