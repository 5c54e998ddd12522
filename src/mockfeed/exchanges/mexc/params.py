"""Query parameters read the way MEXC's servers read them, refused with each API's own errors.

MEXC's REST servers bind query parameters like Java web frameworks do: a name given twice arrives as
its values joined by commas (so ``limit=5&limit=6`` is the malformed ``5,6``), and names the endpoint
does not know are ignored. What differs between the APIs is the error for a missing or malformed value
and whether an empty value counts as absent: that is a :class:`Rules` table.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs

from mockfeed.exchanges.base import RestRequest
from mockfeed.exchanges.mexc import errors

_NUMBER = re.compile(r"[0-9]{1,20}")


@attrs.frozen
class Rules:
    """How one API refuses a parameter."""

    missing: Callable[[str], errors.MexcError]  # a mandatory parameter is absent
    malformed: Callable[[str], errors.MexcError]  # a numeric parameter is not a number
    empty_is_absent: bool  # ``name=`` counts as not sent (else it is "empty", i.e. missing)


SPOT_RULES = Rules(missing=errors.spot_missing, malformed=errors.spot_illegal, empty_is_absent=False)
CONTRACT_RULES = Rules(
    missing=lambda name: errors.CONTRACT_PARAM_ERROR,
    malformed=lambda name: errors.CONTRACT_PARAM_ERROR,
    empty_is_absent=True,
)


class Query:
    """The query of one request under one API's :class:`Rules`."""

    def __init__(self, request: RestRequest, rules: Rules) -> None:
        self._values = {name: ",".join(values) for name, values in request.params().items()}
        self._rules = rules

    def text(self, name: str, *, required: bool = False) -> str | None:
        """A string parameter: None when absent (a refusal when ``required``)."""
        value = self._values.get(name)
        if value == "" and self._rules.empty_is_absent:
            value = None
        if value is None or value == "":
            if required or value == "":
                raise self._rules.missing(name)
            return None
        return value

    def integer(self, name: str) -> int | None:
        """A non-negative integer parameter (times, limits), or None when absent."""
        value = self.text(name)
        if value is None:
            return None
        if _NUMBER.fullmatch(value) is None:
            raise self._rules.malformed(name)
        return int(value)
