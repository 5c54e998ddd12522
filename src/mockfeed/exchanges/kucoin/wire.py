"""KuCoin's wire layouts: symbols, numbers, candle rows and push arrays.

Spot writes every number as a string in plain notation without trailing zeros (``"61250.1"``), time in
seconds, and orders a candle ``[time, open, close, high, low, volume, turnover]``. Futures REST writes
JSON numbers, time in ms, ``[time, open, high, low, close, volume]``, volume in contracts; its pushes
go back to the spot layout of strings with time in seconds.
"""

from __future__ import annotations

import functools
from decimal import Decimal

import orjson

from mockfeed.exchanges.rows import Encoder, Layout, integer
from mockfeed.exchanges.rows import plain as plain_field
from mockfeed.market import Candle, PairSpec

#: KuCoin Futures names bitcoin XBT (``XBTUSDTM``); ccxt maps XBT back to BTC.
FUTURES_ASSETS = {"BTC": "XBT"}


def plain(value: Decimal) -> str:
    """A decimal as KuCoin prints it: plain notation, no trailing zeros (``"0.058"``, ``"100"``)."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text


def spot_symbol(pair: PairSpec) -> str:
    """``BTC-USDT``."""
    return f"{pair.base}-{pair.quote}"


def futures_base(pair: PairSpec) -> str:
    """The base asset as KuCoin Futures names it (``XBT`` for BTC)."""
    return FUTURES_ASSETS.get(pair.base, pair.base)


def futures_symbol(pair: PairSpec) -> str:
    """``XBTUSDTM``: the USDT-margined perpetual contract of a pair."""
    return f"{futures_base(pair)}{pair.quote}M"


def contracts(pair: PairSpec, volume: Decimal) -> int:
    """A base volume in contracts; one contract is one lot of the pair (the contract multiplier)."""
    return int(volume / pair.lot_size)


def spot_candle(pair: PairSpec, candle: Candle) -> list[str]:
    """Spot REST row and push ``candles``: seven strings, close before high and low."""
    return [
        str(candle.open_time // 1000),
        plain(candle.open),
        plain(candle.close),
        plain(candle.high),
        plain(candle.low),
        plain(candle.volume),
        plain(candle.quote_volume),
    ]


@functools.cache
def spot_layout(pair: PairSpec) -> Layout:
    """:func:`spot_candle` as a REST row, encoded from the model's integers."""
    tick, lot = pair.tick_size, pair.lot_size
    return Layout(
        '["', integer(0, divisor=1000), '","', plain_field(2, tick), '","', plain_field(5, tick), '","',
        plain_field(3, tick), '","', plain_field(4, tick), '","', plain_field(6, lot), '","',
        plain_field(7, tick * lot), '"]',
    )


def futures_row(pair: PairSpec, candle: Candle) -> list[object]:
    """Futures REST row: ``[ms, open, high, low, close, contracts]`` as JSON numbers."""
    return [
        candle.open_time,
        float(candle.open),
        float(candle.high),
        float(candle.low),
        float(candle.close),
        contracts(pair, candle.volume),
    ]


def futures_encoder(pair: PairSpec) -> Encoder:
    """:func:`futures_row` as bytes. Not a :class:`Layout`: its prices are JSON floats (shortest
    repr of the nearest double, ``61250.0``), which no field kind writes from integers."""
    return lambda candle: orjson.dumps(futures_row(pair, candle))


def futures_candle(pair: PairSpec, candle: Candle) -> list[str]:
    """Futures push ``candles``: seven strings in the spot order, time in seconds.

    KuCoin documents element 5 as wrong ("do not use") and clients read the volume in contracts from
    element 6; as in KuCoin's own samples both carry the contract count, 5 as ``"902.0"``, 6 as ``"902"``.
    """
    count = contracts(pair, candle.volume)
    return [
        str(candle.open_time // 1000),
        plain(candle.open),
        plain(candle.close),
        plain(candle.high),
        plain(candle.low),
        f"{count}.0",
        str(count),
    ]
