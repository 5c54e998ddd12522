"""Reading Kraken public REST parameters (query string or form body) with Kraken's own errors."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from mockfeed.exchanges.base import RestRequest
from mockfeed.exchanges.kraken import errors
from mockfeed.exchanges.kraken.wire import INTERVALS
from mockfeed.market import Interval

_INTEGER = re.compile(r"[0-9]{1,12}")
_SINCE = re.compile(r"-?[0-9]{1,20}(\.[0-9]{0,9})?")


class Params:
    """The parameters of one request, read the way Kraken reads them.

    Kraken's public methods take GET query strings or POST form bodies (krakenex posts); both are
    read, the body after the query. A repeated name keeps its last value, and an empty value counts
    as absent (UNVERIFIED: no primary source for either; clients never send them).
    """

    def __init__(self, request: RestRequest) -> None:
        values = dict(request.query)
        if request.method == "POST" and request.body:
            values.update(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        self._values = {k: v for k, v in values.items() if v != ""}

    def text(self, name: str, *, required: bool = False) -> str | None:
        """A string parameter; absent gives None, or ``EGeneral:Invalid arguments`` when required."""
        value = self._values.get(name)
        if value is None and required:
            raise errors.invalid_arguments()
        return value

    def names(self, name: str) -> list[str] | None:
        """A comma-separated list (``pair=XBTUSD,ETHUSD``), or None when absent."""
        value = self.text(name)
        if value is None:
            return None
        return value.split(",")

    def interval(self, name: str = "interval") -> Interval:
        """An OHLC interval in minutes (default 1); anything else is ``EGeneral:Invalid arguments``."""
        value = self.text(name)
        if value is None:
            return INTERVALS[1]
        if _INTEGER.fullmatch(value) is None or int(value) not in INTERVALS:
            raise errors.invalid_arguments()
        return INTERVALS[int(value)]

    def since_seconds(self, name: str = "since") -> int | None:
        """A ``since`` time in seconds (a fraction is dropped, a negative counts as 0)."""
        value = self.text(name)
        if value is None:
            return None
        if _SINCE.fullmatch(value) is None:
            raise errors.invalid_arguments()
        return max(0, int(value.split(".")[0]))

    def display_names(self) -> bool:
        """``assetVersion=1`` asks for display names (``BTC``, ``BTC/USD``); it is the only value."""
        value = self.text("assetVersion")
        if value is None:
            return False
        if value != "1":
            raise errors.invalid_arguments()
        return True
