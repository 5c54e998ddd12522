"""Injected faults and heartbeat cut-offs of Bybit, Kraken, Coinbase and KuCoin through real sockets.

REST: an unmodified ccxt client (only URLs changed) against a mock started with ``maintenance``,
``error_rate=1`` or ``timeout_rate=1``: ``fetch_ohlcv`` raises ccxt's own class for each product's
native answer. WebSocket: silent clients under pytest-trio's ``autojump_clock`` (virtual time, real
loopback sockets) are cut off when, and only when, the exchange documents it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt
import ccxt.pro as ccxtpro
import pytest

from mockfeed import ThreadedServer
from tests.e2e import ccxt_support as cx

# (product, ccxt class, symbol, {condition: (expected ccxt class, text the message must hold)})
PRODUCTS: list[tuple[str, Any, str]] = [
    ("bybit_spot", ccxtpro.bybit, "BTC/USDT"),
    ("bybit_perpetual", ccxtpro.bybit, "BTC/USDT:USDT"),
    ("kraken_spot", ccxtpro.kraken, "BTC/USDT"),
    ("coinbase_advanced_trade", ccxtpro.coinbase, "BTC/USDT"),
    ("kucoin_spot", ccxtpro.kucoin, "BTC/USDT"),
    ("kucoin_perpetual", ccxtpro.kucoinfutures, "BTC/USDT:USDT"),
]
CONDITIONS: dict[str, dict[str, Any]] = {
    "maintenance": {"maintenance": True},
    "server_error": {"error_rate": 1},
    "timeout": {"timeout_rate": 1, "timeout_ms": 50},
}
_BYBIT = {
    "maintenance": (ccxt.ExchangeNotAvailable, "503"),
    "server_error": (ccxt.ExchangeError, "10016"),
    "timeout": (ccxt.RequestTimeout, "Request timeout"),
}
_KUCOIN = {
    "maintenance": (ccxt.ExchangeNotAvailable, "503"),
    "server_error": (ccxt.ExchangeNotAvailable, "500000"),
    "timeout": (ccxt.RequestTimeout, "504"),
}
EXPECTED: dict[str, dict[str, tuple[type[Exception], str]]] = {
    "bybit_spot": _BYBIT,
    "bybit_perpetual": _BYBIT,
    "kraken_spot": {
        "maintenance": (ccxt.ExchangeNotAvailable, "EService:Unavailable"),
        "server_error": (ccxt.ExchangeNotAvailable, "EGeneral:Internal error"),
        "timeout": (ccxt.ExchangeNotAvailable, "EService:Busy"),
    },
    "coinbase_advanced_trade": {
        "maintenance": (ccxt.ExchangeNotAvailable, "503"),
        "server_error": (ccxt.ExchangeError, "INTERNAL"),
        "timeout": (ccxt.RequestTimeout, "504"),
    },
    "kucoin_spot": _KUCOIN,
    "kucoin_perpetual": _KUCOIN,
}
CASES = [
    pytest.param(product, cls, symbol, condition, id=f"{product}-{condition}")
    for product, cls, symbol in PRODUCTS
    for condition in CONDITIONS
]


async def _raised(server: ThreadedServer, cls: Any, symbol: str) -> BaseException:
    """What ``fetch_ohlcv`` (and the ``load_markets`` it starts with) raises against ``server``."""
    # enableRateLimit off only for speed (ccxt spaces Kraken's requests client-side).
    async with cx.open_client(cls, server, enableRateLimit=False) as client:
        try:
            await client.fetch_ohlcv(symbol, "1m", limit=5)
        except ccxt.BaseError as raised:
            return raised
    raise AssertionError("fetch_ohlcv succeeded")


@pytest.mark.parametrize(("product", "cls", "symbol", "condition"), CASES)
def test_ccxt_raises_its_natural_exception(product: str, cls: Any, symbol: str, condition: str) -> None:
    """Maintenance, server errors and timeouts each reach ccxt as the class of the native answer.

    The class is exact (not a subclass test) so that a change in either the answer or ccxt's
    mapping shows up here.
    """
    expected, text = EXPECTED[product][condition]
    with ThreadedServer(exchanges=[product], port=0, ws_port=0, **CONDITIONS[condition]) as server:
        raised = asyncio.run(_raised(server, cls, symbol))
    assert type(raised) is expected, repr(raised)
    assert text in str(raised)
    assert "Traceback" not in str(raised)
