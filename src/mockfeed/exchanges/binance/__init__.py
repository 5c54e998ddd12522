"""Binance spot and USDⓈ-M perpetual: one shared base, two product tables."""

from mockfeed.exchanges.binance.plugin import BinancePerpetual, BinanceSpot

__all__ = ["BinancePerpetual", "BinanceSpot"]
