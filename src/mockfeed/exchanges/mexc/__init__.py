"""MEXC spot (v3, protobuf pushes) and USDT-M perpetual contracts (v1): one shared base, two products."""

from mockfeed.exchanges.mexc.plugin import MexcPerpetual, MexcSpot

__all__ = ["MexcPerpetual", "MexcSpot"]
