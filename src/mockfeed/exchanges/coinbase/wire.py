"""How Coinbase writes numbers and times: plain decimal strings, UNIX-second strings, Go time formats."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal

from mockfeed.market import Candle


def plain(value: Decimal) -> str:
    """A decimal as Coinbase prints it: no exponent, no trailing zeros (``64260``, ``0.0012``)."""
    return format(value.normalize(), "f")


def _utc(ms: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(ms // 1000, _dt.UTC)


def _fraction(ms: int) -> str:
    """Go's trimmed fraction: ``.41`` for 410 ms, nothing for a whole second."""
    digits = f"{ms % 1000:03d}".rstrip("0")
    return f".{digits}" if digits else ""


def rfc3339_nano(ms: int) -> str:
    """Go's ``time.RFC3339Nano`` in UTC, as in WS ``timestamp``: ``2026-01-01T00:00:00.41Z``."""
    return _utc(ms).strftime("%Y-%m-%dT%H:%M:%S") + _fraction(ms) + "Z"


def rfc3339(ms: int) -> str:
    """Whole-second RFC 3339, as REST ``iso`` fields: ``2026-01-01T00:00:01Z``."""
    return _utc(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


def go_time(ms: int, monotonic_ms: int) -> str:
    """Go's ``time.Time.String()`` with its monotonic reading, as heartbeats' ``current_time``.

    ``2023-06-23 20:31:56.121 +0000 UTC m=+91717.525000000``.
    """
    return (
        _utc(ms).strftime("%Y-%m-%d %H:%M:%S")
        + _fraction(ms)
        + f" +0000 UTC m=+{monotonic_ms // 1000}.{monotonic_ms % 1000:03d}000000"
    )


def ws_candle(candle: Candle, product_id: str) -> dict[str, str]:
    """One WS candle: every value a string, ``start`` in UNIX seconds, plus ``product_id``."""
    return {
        "start": str(candle.open_time // 1000),
        "high": plain(candle.high),
        "low": plain(candle.low),
        "open": plain(candle.open),
        "close": plain(candle.close),
        "volume": plain(candle.volume),
        "product_id": product_id,
    }
