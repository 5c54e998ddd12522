"""Query parameters read the way AscendEX reads them, refused with AscendEX's own errors."""

from __future__ import annotations

import re

from mockfeed.exchanges.ascend_ex import errors

_TIMESTAMP = re.compile(r"^[0-9]{1,18}$")
_COUNT = re.compile(r"^[+-]?[0-9]{1,18}$")


class Params:
    """The query of one request: each parameter at most once, typed on demand."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    def _one(self, name: str) -> str | None:
        found = self._values.get(name)
        if not found:
            return None
        if len(found) > 1:
            raise errors.duplicate(name)
        return found[0]

    def text(self, name: str) -> str:
        """A required string parameter; absent or empty is ``INVALID_REQUEST_DATA``."""
        value = self._one(name)
        if not value:
            raise errors.missing(name)
        return value

    def timestamp(self, name: str) -> int | None:
        """An optional time in epoch milliseconds; anything but digits is ``INVALID_TIMESTAMP``."""
        value = self._one(name)
        if value is None:
            return None
        if _TIMESTAMP.match(value) is None:
            raise errors.bad_timestamp(name, value)
        return int(value)

    def count(self, name: str) -> int | None:
        """An optional positive count: not an integer is ``INVALID_NUM_FORMAT``, < 1 ``INVALID_ARGUMENT``."""
        value = self._one(name)
        if value is None:
            return None
        if _COUNT.match(value) is None:
            raise errors.bad_number(name, value)
        number = int(value)
        if number < 1:
            raise errors.bad_argument(f"Invalid argument: {name} must be a positive integer")
        return number
