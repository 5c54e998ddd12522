"""Candle intervals: parsing, formatting and UTC alignment (Binance conventions)."""

from __future__ import annotations

import datetime as _dt
import re

import attrs

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_CODE = re.compile(r"^([1-9][0-9]{0,3})([smhdwM])$")
# 1970-01-01 was a Thursday; Binance weeks start on Monday 00:00 UTC, four days later.
_WEEK_ORIGIN_MS = 4 * 86400 * 1000

#: The intervals every exchange family maps its own codes onto, in Binance's spelling.
STANDARD_CODES = (
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M",
)


class IntervalError(ValueError):
    """Raised for an interval code that does not parse."""


@attrs.frozen(slots=True, cache_hash=True)
class Interval:
    """A candle interval: a fixed number of seconds, or a number of calendar months.

    ``seconds`` is 0 for month intervals; ``months`` is 0 for fixed ones. ``offset_ms`` shifts the
    boundaries to a time zone east of UTC (Binance's ``timeZone``: ``1d`` at +08:00 opens at 16:00 UTC).
    """

    seconds: int = 0
    months: int = 0
    offset_ms: int = 0

    def in_zone(self, offset_ms: int) -> Interval:
        """The same interval with boundaries in a time zone ``offset_ms`` east of UTC."""
        return Interval(self.seconds, self.months, offset_ms)

    @classmethod
    def parse(cls, code: str) -> Interval:
        """Parse a code such as ``1m``, ``4h``, ``1w`` or ``1M`` (``M`` is the calendar month)."""
        match = _CODE.fullmatch(code)
        if match is None:
            raise IntervalError(f"invalid interval {code!r}")
        count, unit = int(match.group(1)), match.group(2)
        if unit == "M":
            return cls(months=count)
        return cls(seconds=count * _UNIT_SECONDS[unit])

    @property
    def code(self) -> str:
        """The Binance-style code of this interval (``1m``, ``1h``, ``1M``...)."""
        if self.months:
            return f"{self.months}M"
        for unit in "wdhms":
            size = _UNIT_SECONDS[unit]
            if self.seconds % size == 0:
                return f"{self.seconds // size}{unit}"
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def ms(self) -> int:
        """The length in milliseconds of a fixed interval (30 days for one month, as a nominal)."""
        return self.seconds * 1000 if self.seconds else self.months * 30 * 86400 * 1000

    def floor(self, t_ms: int) -> int:
        """Open time (ms) of the candle that contains ``t_ms``."""
        if self.offset_ms:
            return self._utc.floor(t_ms + self.offset_ms) - self.offset_ms
        if self.months:
            day = _dt.datetime.fromtimestamp(t_ms // 1000, _dt.UTC)
            index = (day.year * 12 + day.month - 1) // self.months * self.months
            return _month_start_ms(index)
        size = self.seconds * 1000
        origin = _WEEK_ORIGIN_MS if self.seconds % (7 * 86400) == 0 else 0
        return (t_ms - origin) // size * size + origin

    @property
    def _utc(self) -> Interval:
        return Interval(self.seconds, self.months)

    def next(self, open_ms: int) -> int:
        """Open time (ms) of the candle after the one opening at ``open_ms``."""
        if self.offset_ms:
            return self._utc.next(open_ms + self.offset_ms) - self.offset_ms
        if self.months:
            day = _dt.datetime.fromtimestamp(open_ms // 1000, _dt.UTC)
            return _month_start_ms(day.year * 12 + day.month - 1 + self.months)
        return open_ms + self.seconds * 1000

    def prev(self, open_ms: int) -> int:
        """Open time (ms) of the candle before the one opening at ``open_ms``."""
        if self.offset_ms:
            return self._utc.prev(open_ms + self.offset_ms) - self.offset_ms
        if self.months:
            day = _dt.datetime.fromtimestamp(open_ms // 1000, _dt.UTC)
            return _month_start_ms(day.year * 12 + day.month - 1 - self.months)
        return open_ms - self.seconds * 1000


def _month_start_ms(month_index: int) -> int:
    year, month0 = divmod(month_index, 12)
    start = _dt.datetime(year, month0 + 1, 1, tzinfo=_dt.UTC)
    return int(start.timestamp()) * 1000
