"""The market model: candles, intervals, pairs and the deterministic price path. Pure, no I/O."""

from mockfeed.market.candle import Candle
from mockfeed.market.interval import STANDARD_CODES, Interval, IntervalError
from mockfeed.market.model import ANCHOR_MS, DEFAULT_HISTORY_START_MS, MarketModel, PairModel
from mockfeed.market.pairs import DEFAULT_PAIRS, PairError, PairSpec, pair_spec, parse_pairs

__all__ = [
    "ANCHOR_MS",
    "DEFAULT_HISTORY_START_MS",
    "DEFAULT_PAIRS",
    "STANDARD_CODES",
    "Candle",
    "Interval",
    "IntervalError",
    "MarketModel",
    "PairError",
    "PairModel",
    "PairSpec",
    "pair_spec",
    "parse_pairs",
]
