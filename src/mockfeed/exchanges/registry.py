"""Which plugin serves which exchange product."""

from __future__ import annotations

from collections.abc import Iterable

from mockfeed.exchanges.base import ExchangePlugin
from mockfeed.exchanges.binance import BinancePerpetual, BinanceSpot
from mockfeed.exchanges.exchange_type import ExchangeType
from mockfeed.market import MarketModel, PairSpec

PLUGINS: dict[ExchangeType, type[ExchangePlugin]] = {
    ExchangeType.BINANCE_SPOT: BinanceSpot,
    ExchangeType.BINANCE_PERPETUAL: BinancePerpetual,
}


class NotAvailable(LookupError):
    """Raised for an exchange product whose plugin does not exist yet."""


def available() -> list[ExchangeType]:
    """The exchange products that can be served now, in declaration order."""
    return [e for e in ExchangeType if e in PLUGINS]


def create_plugin(
    exchange: ExchangeType, model: MarketModel, pairs: Iterable[PairSpec]
) -> ExchangePlugin:
    """A fresh plugin instance for ``exchange``."""
    try:
        cls = PLUGINS[exchange]
    except KeyError:
        served = ", ".join(available())
        raise NotAvailable(
            f"{exchange} is a known exchange but mockfeed does not serve it yet (served: {served})"
        ) from None
    return cls(model, pairs)
