"""Reading a KuCoin query the way its (Spring) gateway binds it, with KuCoin's errors."""

from __future__ import annotations

import re

from mockfeed.exchanges.kucoin import errors

_LONG = re.compile(r"^\+?[0-9]{1,19}$")
_LONG_MAX = 2**63 - 1


class Params:
    """The query of one request.

    A name given twice binds as the values joined by commas (so ``symbol=A&symbol=B`` names no pair
    and ``startAt=1&startAt=2`` does not parse); an empty value binds as absent.
    """

    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    def text(self, name: str) -> str | None:
        """A string parameter, None when absent or empty."""
        found = self._values.get(name)
        if not found:
            return None
        value = ",".join(found)
        return value or None

    def long(self, name: str) -> int | None:
        """A non-negative 64-bit integer (epoch seconds or ms, granularity minutes), None if absent."""
        value = self.text(name)
        if value is None:
            return None
        if _LONG.match(value) is None or int(value) > _LONG_MAX:
            raise errors.invalid(name)
        return int(value)

    def number_text(self, name: str) -> str | None:
        """An integer parameter as its canonical digits (``"01"`` reads as ``"1"``), None if absent."""
        value = self.long(name)
        return None if value is None else str(value)

    def time(self, name: str, unit_ms: int) -> int | None:
        """A time bound in ``unit_ms`` milliseconds per unit, in ms; 0 (the default) means unbounded."""
        value = self.long(name)
        return value * unit_ms if value else None
