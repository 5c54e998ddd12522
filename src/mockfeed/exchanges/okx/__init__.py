"""OKX spot and USDT-margined SWAP (perpetual): one shared base, two product tables."""

from mockfeed.exchanges.okx.plugin import OkxPerpetual, OkxSpot

__all__ = ["OkxPerpetual", "OkxSpot"]
