"""Hyperliquid spot and perpetuals: one shared ``/info`` + ``/ws`` implementation, two product rows."""

from mockfeed.exchanges.hyperliquid.plugin import HyperliquidPerpetual, HyperliquidSpot

__all__ = ["HyperliquidPerpetual", "HyperliquidSpot"]
