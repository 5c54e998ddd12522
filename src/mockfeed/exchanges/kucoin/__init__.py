"""KuCoin spot and Futures USDT-margined perpetuals: one shared base, two product tables."""

from mockfeed.exchanges.kucoin.plugin import KucoinPerpetual, KucoinSpot

__all__ = ["KucoinPerpetual", "KucoinSpot"]
