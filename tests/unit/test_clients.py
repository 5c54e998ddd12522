"""mockfeed.ccxt_urls / point_ccxt: every origin rewritten, paths kept, ccxt's layout untouched."""

from __future__ import annotations

from typing import Any

import ccxt.pro as ccxtpro
import pytest

from mockfeed import ccxt_urls, point_ccxt

REST, WS = "http://127.0.0.1:9116", "ws://127.0.0.1:9117"


def _leaves(tree: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for value in tree.values():
        out += _leaves(value) if isinstance(value, dict) else [value] if isinstance(value, str) else []
    return out


def test_rewrites_origins_and_keeps_paths() -> None:
    """https goes to the REST base, wss to the WS base, nested sections too, paths unchanged."""
    urls = {
        "public": "https://api.binance.com/api/v3",
        "ws": {"spot": "wss://stream.binance.com:9443/ws", "ws-api": {"spot": "wss://x.y/ws-api/v3"}},
        "rateLimit": 50,
    }
    assert ccxt_urls(urls, REST, WS) == {
        "public": REST + "/api/v3",
        "ws": {"spot": WS + "/ws", "ws-api": {"spot": WS + "/ws-api/v3"}},
        "rateLimit": 50,
    }
    assert urls["public"] == "https://api.binance.com/api/v3"  # the input is not modified


@pytest.mark.parametrize("cls", [ccxtpro.okx, ccxtpro.kraken, ccxtpro.kucoin, ccxtpro.hyperliquid])
def test_point_ccxt_leaves_no_real_host(cls: Any) -> None:
    """After point_ccxt no URL of a real ccxt client names a host other than the mock's."""

    class Mock:
        rest_url, ws_url = REST, WS

    client = point_ccxt(cls(), Mock())
    leaves = _leaves(client.urls["api"])
    assert leaves
    assert all(url.startswith((REST, WS)) for url in leaves)
