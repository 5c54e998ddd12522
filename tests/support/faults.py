"""Plain values the fault tests of every exchange group share: a product's plugin on a small model,
and a request as a plugin sees it."""

from __future__ import annotations

from mockfeed.exchanges.base import ExchangePlugin, RestRequest
from mockfeed.exchanges.exchange_type import ExchangeType
from mockfeed.exchanges.registry import create_plugin
from mockfeed.market import MarketModel, pair_spec

PAIRS = tuple(pair_spec(p) for p in ("BTC-USDT", "ETH-USDT"))
NOW = 1_767_225_617_123  # 2026-01-01T00:00:17.123Z: a market time with milliseconds


def make_plugin(product: ExchangeType) -> ExchangePlugin:
    """``product``'s plugin on a fresh model of :data:`PAIRS` (seed 0)."""
    return create_plugin(product, MarketModel(PAIRS, seed=0), PAIRS)


def rest_request(path: str = "/", *, method: str = "GET", now_ms: int = NOW) -> RestRequest:
    """A request of ``path`` without query or body, as a plugin sees it."""
    return RestRequest(method, path, (), b"", now_ms)
