"""Which Hyperliquid coin serves which canonical pair, and the metadata that lists them.

Hyperliquid quotes in USDC, so the canonical quote ``USDT`` is served as ``USDC``; other quotes keep
their name. A spot pair is a universe entry named ``@<index>`` (``BTC-USDT`` → tokens ``BTC`` and
``USDC``, market ``@0``, ccxt symbol ``BTC/USDC``); a perpetual is its bare base (``BTC-USDT`` →
coin ``BTC``, ccxt symbol ``BTC/USDC:USDC``). When two canonical pairs map to the same native market
(``BTC-USDT`` and ``BTC-USDC``), the first configured one is served and the other is not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from mockfeed.market import PairSpec

USDC = "USDC"
QUOTE_ALIASES = {"USDT": USDC}  # Hyperliquid's quote asset is USDC
USDC_TOKEN_ID = "0x6d1e7cde53ba9467b783cb7c530ce054"  # USDC's tokenId on Hyperliquid
QUOTE_ONLY_DECIMALS = 8  # szDecimals/weiDecimals of a token that is never a base (as USDC's)
WEI_EXTRA_DECIMALS = 5  # weiDecimals = szDecimals + 5 for most tokens (UBTC 5/10, UETH 4/9, USOL 3/8)
MAX_LEVERAGE = {"BTC": 40, "ETH": 25, "SOL": 20, "XRP": 20, "BNB": 10, "DOGE": 10}
DEFAULT_LEVERAGE = 10


@attrs.frozen
class Market:
    """One served market: its coin (the name requests use), universe index and pair."""

    coin: str
    index: int
    pair: PairSpec
    base: str  # token names
    quote: str


def _quote(pair: PairSpec) -> str:
    return QUOTE_ALIASES.get(pair.quote, pair.quote)


@attrs.frozen
class Listing:
    """How one market type names its markets: the coin, and what makes two pairs the same market."""

    coin: Callable[[int, PairSpec], str]
    key: Callable[[PairSpec], str]


#: Spot: ``@<universe index>`` (on Hyperliquid only ``PURR/USDC`` has a name), one per base/quote.
SPOT = Listing(coin=lambda index, pair: f"@{index}", key=lambda pair: f"{pair.base}/{_quote(pair)}")
#: Perpetuals: the bare base asset, one per base.
PERP = Listing(coin=lambda index, pair: pair.base, key=lambda pair: pair.base)


def markets(pairs: Iterable[PairSpec], listing: Listing | None) -> tuple[Market, ...]:
    """The markets of one type, in configuration order, the first pair winning on a clash.

    ``None`` lists nothing: the market type a product does not serve.
    """
    if listing is None:
        return ()
    out: list[Market] = []
    seen: set[str] = set()
    for pair in pairs:
        key = listing.key(pair)
        if key in seen:
            continue
        seen.add(key)
        out.append(Market(listing.coin(len(out), pair), len(out), pair, pair.base, _quote(pair)))
    return tuple(out)


def _token_id(name: str) -> str:
    return USDC_TOKEN_ID if name == USDC else "0x" + hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()


def tokens(spot: tuple[Market, ...]) -> list[dict[str, Any]]:
    """``spotMeta.tokens``: USDC at index 0, then every base and quote in order of appearance."""
    sizes: dict[str, int | None] = {USDC: None}
    for market in spot:
        if market.base != USDC and sizes.get(market.base) is None:
            sizes[market.base] = market.pair.volume_decimals
        sizes.setdefault(market.quote, None)
    out = []
    for index, (name, size) in enumerate(sizes.items()):
        sz = QUOTE_ONLY_DECIMALS if size is None else size
        wei = QUOTE_ONLY_DECIMALS if size is None else size + WEI_EXTRA_DECIMALS
        out.append({
            "name": name,
            "szDecimals": sz,
            "weiDecimals": wei,
            "index": index,
            "tokenId": _token_id(name),
            "isCanonical": name == USDC,
            "evmContract": None,
            "fullName": None,
        })
    return out


def spot_meta(spot: tuple[Market, ...]) -> dict[str, Any]:
    """``spotMeta``: tokens and the universe of spot markets (``@<index>`` names)."""
    listed = tokens(spot)
    index = {token["name"]: token["index"] for token in listed}
    universe = [
        {"tokens": [index[m.base], index[m.quote]], "name": m.coin, "index": m.index, "isCanonical": False}
        for m in spot
    ]
    return {"tokens": listed, "universe": universe}


def leverage(market: Market) -> int:
    """The maximum leverage of a perpetual (Hyperliquid's, for the bases it lists)."""
    return MAX_LEVERAGE.get(market.pair.base, DEFAULT_LEVERAGE)


def perp_meta(perps: tuple[Market, ...]) -> dict[str, Any]:
    """``meta``: the perpetual universe (the asset id is the list position) and margin tables."""
    universe = [
        {
            "szDecimals": m.pair.volume_decimals,
            "name": m.coin,
            "maxLeverage": leverage(m),
            "marginTableId": leverage(m),
        }
        for m in perps
    ]
    tables = sorted({leverage(m) for m in perps})
    return {
        "universe": universe,
        "marginTables": [
            [lev, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": lev}]}]
            for lev in tables
        ],
        "collateralToken": 0,
    }
