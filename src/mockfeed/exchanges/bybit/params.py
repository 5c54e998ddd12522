"""Query parameters read the way Bybit's v5 gateway reads them, with Bybit's own errors."""

from __future__ import annotations

import re

from mockfeed.exchanges.bybit import errors

_INTEGER = re.compile(r"^[0-9]{1,19}$")
_INT64_MAX = 2**63 - 1


class Params:
    """The query of one request.

    An empty value counts as absent and a repeated name yields its first value, as a Go
    ``Query(name)`` lookup does (UNVERIFIED against the live gateway; no client depends on it).
    """

    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    def text(self, name: str) -> str | None:
        """One string parameter, or None when absent or empty."""
        found = self._values.get(name)
        if not found or found[0] == "":
            return None
        return found[0]

    def integer(self, name: str) -> int | None:
        """A non-negative 64-bit integer (times in ms, limits); 10001 when malformed."""
        value = self.text(name)
        if value is None:
            return None
        if _INTEGER.match(value) is None or int(value) > _INT64_MAX:
            raise errors.invalid(name)
        return int(value)

    def limit(self, default: int, maximum: int) -> int:
        """``limit`` in [1, maximum]: default when absent, 10001 below 1, capped above the maximum.

        The cap (rather than an error) is UNVERIFIED: Bybit documents only the range.
        """
        value = self.integer("limit")
        if value is None:
            return default
        if value < 1:
            raise errors.invalid("limit")
        return min(value, maximum)
