"""The candle value class."""

from __future__ import annotations

from decimal import Decimal

import attrs


@attrs.frozen(slots=True)
class Candle:
    """One OHLCV candle, exchange-neutral.

    Times are epoch milliseconds; ``close_time`` is the last millisecond of the candle (open of the next
    candle minus one), as Binance reports it. Prices are multiples of the pair's tick size and volumes of
    its lot size, as exact decimals. ``closed`` is False for the forming candle.
    """

    open_time: int
    close_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    trades: int
    taker_buy_volume: Decimal
    taker_buy_quote_volume: Decimal
    closed: bool = True
