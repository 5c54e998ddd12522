"""mockfeed: a local mock of crypto exchanges' candle (kline) REST and WebSocket APIs, on trio."""

from mockfeed.clients import ccxt_urls, point_ccxt
from mockfeed.config import ServerConfig
from mockfeed.exchanges import ExchangeType
from mockfeed.market import Candle, Interval, MarketModel, PairSpec, pair_spec
from mockfeed.runtime import ExchangeServer, Server, serve
from mockfeed.threaded import ThreadedServer

__all__ = [
    "Candle",
    "ExchangeServer",
    "ExchangeType",
    "Interval",
    "MarketModel",
    "PairSpec",
    "Server",
    "ServerConfig",
    "ThreadedServer",
    "ccxt_urls",
    "pair_spec",
    "point_ccxt",
    "serve",
]
__version__ = "0.1.0"
