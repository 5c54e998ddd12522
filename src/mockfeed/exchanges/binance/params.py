"""Parsing of Binance query parameters with Binance's own validation errors."""

from __future__ import annotations

import re

from mockfeed.exchanges.binance import errors

_SYMBOL = re.compile(r"^[A-Z0-9\-_.]{1,20}$")
_NUMBER = re.compile(r"^[0-9]{1,20}$")
_ZONE = re.compile(r"^([+-]?)([0-9]{1,2})(?::([0-9]{2}))?$")
_ZONE_MIN_MS = -12 * 3_600_000
_ZONE_MAX_MS = 14 * 3_600_000


def zone_offset_ms(text: str) -> int | None:
    """Milliseconds east of UTC for a Binance ``timeZone`` (``8``, ``-1:00``, ``05:45``), or None."""
    match = _ZONE.match(text)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    if minutes is not None and int(minutes) >= 60:
        return None
    offset = (int(hours) * 60 + int(minutes or 0)) * 60_000 * (-1 if sign == "-" else 1)
    return offset if _ZONE_MIN_MS <= offset <= _ZONE_MAX_MS else None


class Params:
    """The query of one request, read the way Binance reads it."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    def text(self, name: str, *, required: bool = False) -> str | None:
        """One string parameter; absent gives None, or -1102 when required."""
        found = self._values.get(name)
        if not found:
            if required:
                raise errors.missing(name)
            return None
        if len(found) > 1:
            raise errors.duplicate(name)
        value = found[0]
        if value == "":
            raise errors.missing(name) if required else errors.empty(name)
        return value

    def symbol(self, name: str = "symbol", *, required: bool = True) -> str | None:
        """A symbol parameter, checked against Binance's legal range."""
        value = self.text(name, required=required)
        if value is not None and _SYMBOL.match(value) is None:
            raise errors.illegal(name, errors.SYMBOL_RANGE)
        return value

    def time_zone(self, name: str = "timeZone") -> int:
        """A ``timeZone`` parameter as milliseconds east of UTC (0 when absent); -1130 if invalid."""
        value = self.text(name)
        if value is None:
            return 0
        offset = zone_offset_ms(value)
        if offset is None:
            raise errors.invalid_data(name)
        return offset

    def integer(self, name: str) -> int | None:
        """A non-negative integer parameter (times in ms, limits)."""
        value = self.text(name)
        if value is None:
            return None
        if _NUMBER.match(value) is None:
            raise errors.illegal(name, errors.NUMBER_RANGE)
        return int(value)
