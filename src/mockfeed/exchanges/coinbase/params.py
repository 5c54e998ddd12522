"""Reading Advanced Trade query parameters the way the API reads them, with its own errors."""

from __future__ import annotations

import re

from mockfeed.exchanges.coinbase import errors
from mockfeed.market import Interval

#: Advanced Trade candle granularities and the intervals they name (``ONE_DAY`` opens at 00:00 UTC).
#: ``ONE_WEEK`` was seen working live (3P) but is not documented, so it is refused like any unknown value.
GRANULARITIES: dict[str, Interval] = {
    name: Interval.parse(code)
    for name, code in (
        ("ONE_MINUTE", "1m"),
        ("FIVE_MINUTE", "5m"),
        ("FIFTEEN_MINUTE", "15m"),
        ("THIRTY_MINUTE", "30m"),
        ("ONE_HOUR", "1h"),
        ("TWO_HOUR", "2h"),
        ("FOUR_HOUR", "4h"),
        ("SIX_HOUR", "6h"),
        ("ONE_DAY", "1d"),
    )
}

_INT64 = re.compile(r"^[+-]?[0-9]{1,19}$")
_INT64_MAX = 2**63 - 1
_INT32_MAX = 2**31 - 1


class Query:
    """The query of one request, each scalar parameter at most once (repeats are refused)."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    def text(self, name: str) -> str | None:
        """One scalar parameter, or None when absent or empty (proto3: empty means unset)."""
        found = self._values.get(name)
        if not found:
            return None
        if len(found) > 1:
            raise errors.argument(name)
        return found[0] or None

    def texts(self, name: str) -> list[str]:
        """A repeated parameter (``product_ids=A&product_ids=B``), empty values dropped."""
        return [v for v in self._values.get(name, []) if v]

    def seconds(self, name: str) -> int | None:
        """A UNIX-seconds string such as ``start=1767225600`` (int64, as the API parses it)."""
        value = self.text(name)
        if value is None:
            return None
        number = _int(value, _INT64_MAX)
        if number is None:
            raise errors.time_range(f"could not parse {name}")
        return number

    def count(self, name: str) -> int:
        """A non-negative int32 count (``limit``); 0 when absent, as proto3 reads it."""
        value = self.text(name)
        if value is None:
            return 0
        number = _int(value, _INT32_MAX)
        if number is None or number < 0:
            raise errors.argument(name)
        return number

    def granularity(self) -> Interval:
        """The ``granularity`` enum name, in either case (the official SDK's test sends lower case)."""
        value = self.text("granularity")
        interval = GRANULARITIES.get(value.upper()) if value is not None else None
        if interval is None:
            raise errors.argument("granularity")
        return interval


def _int(text: str, maximum: int) -> int | None:
    if _INT64.match(text) is None:
        return None
    number = int(text)
    return number if -maximum - 1 <= number <= maximum else None
