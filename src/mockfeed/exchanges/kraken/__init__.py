"""Kraken spot: ``/0/public`` REST and the v2 (ccxt) and v1 WebSocket OHLC feeds."""

from mockfeed.exchanges.kraken.plugin import KrakenSpot

__all__ = ["KrakenSpot"]
