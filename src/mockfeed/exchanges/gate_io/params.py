"""Query parameters read the way Gate APIv4 reads them, refusing bad values with native errors.

Gate's server takes the first value of a repeated parameter and treats an empty one as absent
(UNVERIFIED; Go's ``url.Values.Get`` semantics, which the API's behaviour suggests).
"""

from __future__ import annotations

import re

from mockfeed.exchanges.gate_io import errors

_INTEGER = re.compile(r"^[0-9]{1,18}$")  # int64 seconds / counts; signs and fractions are refused


class Params:
    """The query of one request."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    def text(self, name: str, *, required: bool = False) -> str | None:
        """One string parameter; None when absent or empty, MISSING_REQUIRED_PARAM if required."""
        found = self._values.get(name)
        value = found[0] if found else ""
        if value == "":
            if required:
                raise errors.missing(name)
            return None
        return value

    def integer(self, name: str) -> int | None:
        """A non-negative integer parameter (seconds, counts); INVALID_PARAM_VALUE if malformed."""
        value = self.text(name)
        if value is None:
            return None
        if _INTEGER.match(value) is None:
            raise errors.invalid_value(name, value)
        return int(value)
