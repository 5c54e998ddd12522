"""OKX query parameters, read with OKX's own validation errors.

OKX binds query values to typed fields: an empty value counts as absent and, when a name repeats,
the first value is used (UNVERIFIED: no source records repeated names; this is the usual binding).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mockfeed.exchanges.okx import errors

_DIGITS = re.compile(r"^[0-9]{1,20}$")

class Params:
    """The query of one request, read the way OKX reads it."""

    def __init__(self, values: Mapping[str, list[str]]) -> None:
        self._values = values

    def text(self, name: str) -> str | None:
        """One string parameter; absent or empty gives None."""
        found = self._values.get(name)
        return found[0] if found and found[0] != "" else None

    def required(self, name: str) -> str:
        """A mandatory parameter; absent or empty raises 50014."""
        value = self.text(name)
        if value is None:
            raise errors.empty(name)
        return value

    def choice(self, name: str, table: Mapping[str, object], default: str) -> str:
        """A parameter naming a key of ``table`` (``default`` when absent); 51000 otherwise."""
        value = self.text(name) or default
        if value not in table:
            raise errors.bad(name)
        return value

    def timestamp(self, name: str) -> int | None:
        """Epoch milliseconds (``after``, ``before``); 51000 unless plain digits."""
        value = self.text(name)
        if value is None:
            return None
        if _DIGITS.match(value) is None:
            raise errors.bad(name)
        return int(value)

    def limit(self, name: str, default: int, maximum: int) -> int:
        """A page size: ``default`` when absent, capped at ``maximum``; 51000 unless a positive integer.

        UNVERIFIED: OKX's docs give only the maximum; an oversized limit is capped, not refused, which
        matches third-party records of OKX answering 100 or 300 rows whatever was asked.
        """
        value = self.text(name)
        if value is None:
            return default
        if _DIGITS.match(value) is None or int(value) < 1:
            raise errors.bad(name)
        return min(int(value), maximum)
