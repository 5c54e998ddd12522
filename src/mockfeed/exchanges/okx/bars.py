"""OKX bar codes (REST ``bar``, WS ``candle<bar>``) as model intervals, and which endpoint takes which.

Codes are case-sensitive (``1H``, not ``1h``). From six hours up a plain code (``6H``, ``1D``, ``1W``,
``1M``) opens at UTC+8 boundaries and its ``utc`` twin (``6Hutc``, ``1Dutc``...) at UTC ones.
"""

from __future__ import annotations

from types import MappingProxyType

from mockfeed.market import Interval

UTC8_MS = 8 * 3_600_000

_MINUTE, _HOUR, _DAY = 60, 3_600, 86_400

# Below six hours UTC+8 and UTC boundaries coincide, so these codes have no ``utc`` twin.
_PLAIN: dict[str, Interval] = {
    "1s": Interval(seconds=1),
    "1m": Interval(seconds=_MINUTE),
    "3m": Interval(seconds=3 * _MINUTE),
    "5m": Interval(seconds=5 * _MINUTE),
    "15m": Interval(seconds=15 * _MINUTE),
    "30m": Interval(seconds=30 * _MINUTE),
    "1H": Interval(seconds=_HOUR),
    "2H": Interval(seconds=2 * _HOUR),
    "4H": Interval(seconds=4 * _HOUR),
}

_ZONED: dict[str, Interval] = {
    "6H": Interval(seconds=6 * _HOUR),
    "12H": Interval(seconds=12 * _HOUR),
    "1D": Interval(seconds=_DAY),
    "2D": Interval(seconds=2 * _DAY),
    "3D": Interval(seconds=3 * _DAY),
    "5D": Interval(seconds=5 * _DAY),
    "1W": Interval(seconds=7 * _DAY),
    "1M": Interval(months=1),
    "3M": Interval(months=3),
}


def _all_bars() -> dict[str, Interval]:
    bars = dict(_PLAIN)
    for code, interval in _ZONED.items():
        bars[code] = interval.in_zone(UTC8_MS)
        bars[code + "utc"] = interval
    return bars


#: Every bar OKX knows, WS channel names included (``candle`` + code).
WS_BARS: MappingProxyType[str, Interval] = MappingProxyType(_all_bars())

#: ``/api/v5/market/history-candles``: no ``5D`` (WS only).
HISTORY_BARS: MappingProxyType[str, Interval] = MappingProxyType(
    {code: iv for code, iv in WS_BARS.items() if not code.startswith("5D")}
)

#: ``/api/v5/market/candles``: as history, without ``1s`` (refused there with 51000).
CANDLE_BARS: MappingProxyType[str, Interval] = MappingProxyType(
    {code: iv for code, iv in HISTORY_BARS.items() if code != "1s"}
)
