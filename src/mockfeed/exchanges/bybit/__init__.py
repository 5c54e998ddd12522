"""Bybit v5 spot and USDT linear perpetual: one shared base, two product tables."""

from mockfeed.exchanges.bybit.plugin import BybitPerpetual, BybitSpot

__all__ = ["BybitPerpetual", "BybitSpot"]
