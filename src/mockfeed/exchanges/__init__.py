"""Exchange plugins: sans-IO translators between the market model and each exchange's wire format."""

from mockfeed.exchanges.exchange_type import ExchangeType
from mockfeed.exchanges.registry import NotAvailable, available, create_plugin

__all__ = ["ExchangeType", "NotAvailable", "available", "create_plugin"]
