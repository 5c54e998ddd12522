"""Which plugin serves which exchange product.

The table names each product's module and class; a module is imported only when its product is
served, which keeps start-up light. A product whose module does not exist yet is "not served yet".
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable

from mockfeed.exchanges.base import ExchangePlugin
from mockfeed.exchanges.exchange_type import ExchangeType as E
from mockfeed.market import MarketModel, PairSpec

_PKG = "mockfeed.exchanges"

PLUGINS: dict[E, tuple[str, str]] = {
    E.BINANCE_SPOT: (f"{_PKG}.binance", "BinanceSpot"),
    E.BINANCE_PERPETUAL: (f"{_PKG}.binance", "BinancePerpetual"),
    E.BYBIT_SPOT: (f"{_PKG}.bybit", "BybitSpot"),
    E.BYBIT_PERPETUAL: (f"{_PKG}.bybit", "BybitPerpetual"),
    E.COINBASE_ADVANCED_TRADE: (f"{_PKG}.coinbase", "CoinbaseAdvancedTrade"),
    E.KRAKEN_SPOT: (f"{_PKG}.kraken", "KrakenSpot"),
    E.KUCOIN_SPOT: (f"{_PKG}.kucoin", "KucoinSpot"),
    E.KUCOIN_PERPETUAL: (f"{_PKG}.kucoin", "KucoinPerpetual"),
    E.OKX_SPOT: (f"{_PKG}.okx", "OkxSpot"),
    E.OKX_PERPETUAL: (f"{_PKG}.okx", "OkxPerpetual"),
    E.GATE_IO_SPOT: (f"{_PKG}.gate_io", "GateIoSpot"),
    E.GATE_IO_PERPETUAL: (f"{_PKG}.gate_io", "GateIoPerpetual"),
    E.MEXC_SPOT: (f"{_PKG}.mexc", "MexcSpot"),
    E.MEXC_PERPETUAL: (f"{_PKG}.mexc", "MexcPerpetual"),
    E.HYPERLIQUID_SPOT: (f"{_PKG}.hyperliquid", "HyperliquidSpot"),
    E.HYPERLIQUID_PERPETUAL: (f"{_PKG}.hyperliquid", "HyperliquidPerpetual"),
    E.ASCEND_EX_SPOT: (f"{_PKG}.ascend_ex", "AscendExSpot"),
}


class NotAvailable(LookupError):
    """Raised for an exchange product whose plugin does not exist yet."""


def _exists(exchange: E) -> bool:
    return importlib.util.find_spec(PLUGINS[exchange][0]) is not None


def available() -> list[E]:
    """The exchange products that can be served now, in declaration order."""
    return [e for e in E if _exists(e)]


def plugin_class(exchange: E) -> type[ExchangePlugin]:
    """The plugin class of a product (imports its module)."""
    if not _exists(exchange):
        served = ", ".join(available())
        raise NotAvailable(
            f"{exchange} is a known exchange but mockfeed does not serve it yet (served: {served})"
        )
    module, name = PLUGINS[exchange]
    cls: type[ExchangePlugin] = getattr(importlib.import_module(module), name)
    return cls


def create_plugin(exchange: E, model: MarketModel, pairs: Iterable[PairSpec]) -> ExchangePlugin:
    """A fresh plugin instance for ``exchange``."""
    return plugin_class(exchange)(model, pairs)
