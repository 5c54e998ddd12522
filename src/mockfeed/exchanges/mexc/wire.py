"""MEXC's wire formats: symbols, interval codes, numbers, REST rows and WebSocket pushes.

Spot writes prices and volumes as plain decimal strings without trailing zeros (``"61262.4"``,
``"117341"``) and times in ms on REST, seconds in its protobuf pushes. Contract writes JSON numbers,
times in seconds, and volumes in contracts (``vol``, ``q``) next to quote amounts (``amount``, ``a``).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from decimal import Decimal

import orjson

from mockfeed.exchanges import rows
from mockfeed.exchanges.mexc.proto import mexc_push_pb2 as pb
from mockfeed.market import Candle, Interval, PairSpec

#: Spot REST ``interval`` values (note ``60m`` and ``1W``: ``1h``/``1w`` are refused).
SPOT_INTERVALS: Mapping[str, Interval] = {
    code: Interval.parse(model)
    for code, model in {
        "1m": "1m", "5m": "5m", "15m": "15m", "30m": "30m", "60m": "1h",
        "4h": "4h", "1d": "1d", "1W": "1w", "1M": "1M",
    }.items()
}

#: Contract REST and WS ``interval`` values, also the spot WS channel suffixes.
NAMED_INTERVALS: Mapping[str, Interval] = {
    code: Interval.parse(model)
    for code, model in {
        "Min1": "1m", "Min5": "5m", "Min15": "15m", "Min30": "30m", "Min60": "1h",
        "Hour4": "4h", "Hour8": "8h", "Day1": "1d", "Week1": "1w", "Month1": "1M",
    }.items()
}
_NAMES: Mapping[Interval, str] = {interval: code for code, interval in NAMED_INTERVALS.items()}

SPOT_KLINE_CHANNEL = "spot@public.kline.v3.api.pb"


def spot_symbol(pair: PairSpec) -> str:
    """``BTCUSDT``."""
    return pair.base + pair.quote


def contract_symbol(pair: PairSpec) -> str:
    """``BTC_USDT``."""
    return f"{pair.base}_{pair.quote}"


def interval_name(interval: Interval) -> str:
    """The ``Min1``-style name of an interval."""
    return _NAMES[interval]


def plain(value: Decimal) -> str:
    """A decimal as MEXC spot writes it: plain notation, no trailing zeros."""
    return f"{value.normalize():f}"


def number(value: Decimal) -> int | float:
    """A decimal as a JSON number, as MEXC contract writes it (integers without a fraction)."""
    return int(value) if value == value.to_integral_value() else float(value)


def contracts(pair: PairSpec, volume: Decimal) -> int:
    """A base volume in contracts (one contract is one lot of the pair: ``contractSize``)."""
    return int(volume / pair.lot_size)


def end_ms(candle: Candle) -> int:
    """MEXC's close time: the next candle's open, not the candle's own last millisecond."""
    return candle.close_time + 1


# -- spot ---------------------------------------------------------------------------------------


def spot_row(candle: Candle) -> list[object]:
    """One spot REST kline: open ms, o, h, l, c, base volume, close ms, quote volume."""
    return [
        candle.open_time,
        plain(candle.open),
        plain(candle.high),
        plain(candle.low),
        plain(candle.close),
        plain(candle.volume),
        end_ms(candle),
        plain(candle.quote_volume),
    ]


@functools.cache
def spot_layout(pair: PairSpec) -> rows.Layout:
    """:func:`spot_row`, encoded from the model's integers."""
    tick, lot = pair.tick_size, pair.lot_size
    return rows.Layout(
        "[", rows.integer(0), ',"', rows.plain(2, tick), '","', rows.plain(3, tick), '","',
        rows.plain(4, tick), '","', rows.plain(5, tick), '","', rows.plain(6, lot), '",',
        rows.integer(1, offset=1), ',"', rows.plain(7, tick * lot), '"]',
    )


def spot_channel(symbol: str, interval: Interval) -> str:
    """``spot@public.kline.v3.api.pb@BTCUSDT@Min1``."""
    return f"{SPOT_KLINE_CHANNEL}@{symbol}@{interval_name(interval)}"


def symbol_id(symbol: str) -> str:
    """A stable 32-hex-digit id for a symbol, shaped like MEXC's ``symbolId``."""
    return hashlib.blake2b(symbol.encode(), digest_size=16).hexdigest()


def spot_push(pair: PairSpec, interval: Interval, candle: Candle, event_ms: int) -> bytes:
    """The binary protobuf push (``PushDataV3ApiWrapper`` with ``publicSpotKline``) of one candle state."""
    symbol = spot_symbol(pair)
    wrapper = pb.PushDataV3ApiWrapper(
        channel=spot_channel(symbol, interval),
        symbol=symbol,
        symbolId=symbol_id(symbol),
        createTime=event_ms,
        sendTime=event_ms,
        publicSpotKline=pb.PublicSpotKlineV3Api(
            interval=interval_name(interval),
            windowStart=candle.open_time // 1000,
            openingPrice=plain(candle.open),
            closingPrice=plain(candle.close),
            highestPrice=plain(candle.high),
            lowestPrice=plain(candle.low),
            volume=plain(candle.volume),
            amount=plain(candle.quote_volume),
            windowEnd=end_ms(candle) // 1000,
        ),
    )
    data: bytes = wrapper.SerializeToString()
    return data


# -- contract -----------------------------------------------------------------------------------


def contract_row(pair: PairSpec, candle: Candle) -> list[int | float]:
    """One contract candle as ``[time (s), open, close, high, low, vol (contracts), amount]``."""
    return [
        candle.open_time // 1000,
        number(candle.open),
        number(candle.close),
        number(candle.high),
        number(candle.low),
        contracts(pair, candle.volume),
        number(candle.quote_volume),
    ]


_COLUMNS = ("time", "open", "close", "high", "low", "vol", "amount")
_REAL = {"realOpen": "open", "realClose": "close", "realHigh": "high", "realLow": "low"}


def contract_columns(rows: list[list[int | float]]) -> dict[str, list[int | float]]:
    """Contract REST klines, columnar, from :func:`contract_row` rows.

    ``realOpen``... repeat the prices: the mock has no separate "real" (non-index-adjusted) series.
    """
    columns: dict[str, list[int | float]] = {name: [row[i] for row in rows] for i, name in enumerate(_COLUMNS)}
    columns.update({real: columns[price] for real, price in _REAL.items()})
    return columns


def contract_push(pair: PairSpec, interval: Interval, candle: Candle, event_ms: int) -> str:
    """The JSON ``push.kline`` message of one candle state."""
    symbol = contract_symbol(pair)
    o, c, h, low = (number(v) for v in (candle.open, candle.close, candle.high, candle.low))
    data = {
        "symbol": symbol,
        "interval": interval_name(interval),
        "t": candle.open_time // 1000,
        "o": o,
        "c": c,
        "h": h,
        "l": low,
        "a": number(candle.quote_volume),
        "q": contracts(pair, candle.volume),
        "ro": o,
        "rc": c,
        "rh": h,
        "rl": low,
    }
    message = {"channel": "push.kline", "data": data, "symbol": symbol, "ts": event_ms}
    return orjson.dumps(message).decode()
