"""AscendEX spot: ``barhist`` REST candles, ``bar`` stream channels, JSON ping/pong heartbeat."""

from mockfeed.exchanges.ascend_ex.plugin import AscendExSpot

__all__ = ["AscendExSpot"]
