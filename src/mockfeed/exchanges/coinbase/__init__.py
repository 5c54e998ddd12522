"""Coinbase Advanced Trade: public market data (REST ``/api/v3/brokerage``, ``/v2``) and the WS feed."""

from mockfeed.exchanges.coinbase.plugin import CoinbaseAdvancedTrade

__all__ = ["CoinbaseAdvancedTrade"]
