"""Gate spot and USDT-settled perpetual futures: one shared base, two product tables."""

from mockfeed.exchanges.gate_io.plugin import GateIoPerpetual, GateIoSpot

__all__ = ["GateIoPerpetual", "GateIoSpot"]
