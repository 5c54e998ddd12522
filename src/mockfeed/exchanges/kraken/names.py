"""Kraken's names for assets and pairs, as data.

Kraken names an asset three ways: its id (``XXBT``, ``ZUSD``: legacy X/Z-prefixed codes for the
oldest assets, the plain code for the rest), its altname (``XBT``, ``USD``) and the display code
(``BTC``). A pair has an id (``XXBTZUSD`` when both sides are legacy assets, else the altname), an
altname (``XBTUSD``), a v1 WebSocket name (``wsname``: ``XBT/USD``) and a v2 WebSocket symbol
(``BTC/USD``). REST results are keyed by the pair id whatever alias was asked for.
"""

from __future__ import annotations

import attrs

from mockfeed.market import PairSpec


@attrs.frozen(slots=True)
class Asset:
    """One asset as ``/0/public/Assets`` lists it."""

    code: str  # display code, as mockfeed's canonical pairs spell it (BTC)
    id: str  # Kraken's asset id (XXBT)
    altname: str  # XBT
    decimals: int
    display_decimals: int


# Display code: (id, altname, decimals, display_decimals), as live /0/public/Assets lists them.
# Other codes are their own id and altname, with 10 and 5 decimals (Kraken's usual crypto values).
_KNOWN_ASSETS: dict[str, tuple[str, str, int, int]] = {
    "BTC": ("XXBT", "XBT", 10, 5),
    "ETH": ("XETH", "ETH", 10, 5),
    "LTC": ("XLTC", "LTC", 10, 5),
    "ETC": ("XETC", "ETC", 10, 5),
    "XRP": ("XXRP", "XRP", 8, 5),
    "XLM": ("XXLM", "XLM", 8, 5),
    "XMR": ("XXMR", "XMR", 10, 5),
    "ZEC": ("XZEC", "ZEC", 10, 5),
    "DOGE": ("XXDG", "XDG", 8, 2),
    "USD": ("ZUSD", "USD", 4, 2),
    "EUR": ("ZEUR", "EUR", 4, 2),
    "GBP": ("ZGBP", "GBP", 4, 2),
    "CAD": ("ZCAD", "CAD", 4, 2),
    "JPY": ("ZJPY", "JPY", 2, 0),
    "USDT": ("USDT", "USDT", 8, 4),
    "USDC": ("USDC", "USDC", 8, 4),
}

# Asset ids whose pairs with each other keep the legacy concatenated id (XXBTZUSD, XETHXXBT).
# XXDG is legacy as an asset but its pairs are not (XDGUSD), as on Kraken.
_LEGACY_PAIR_ASSETS = frozenset(
    {"XXBT", "XETH", "XLTC", "XETC", "XXRP", "XXLM", "XXMR", "XZEC", "ZUSD", "ZEUR", "ZGBP", "ZCAD",
     "ZJPY"}
)
# Pair ids that follow no rule.
_PAIR_ID_EXCEPTIONS: dict[tuple[str, str], str] = {("USDT", "USD"): "USDTZUSD"}


def asset(code: str) -> Asset:
    """The Kraken asset of a display code."""
    asset_id, altname, decimals, display = _KNOWN_ASSETS.get(code, (code, code, 10, 5))
    return Asset(code, asset_id, altname, decimals, display)


@attrs.frozen(slots=True)
class KrakenPair:
    """A configured pair under every name Kraken gives it."""

    spec: PairSpec
    base: Asset
    quote: Asset
    id: str  # REST result key (XXBTZUSD, XBTUSDT)
    altname: str  # XBTUSDT
    wsname: str  # v1 WebSocket name (XBT/USDT)
    symbol: str  # v2 WebSocket symbol and ``assetVersion=1`` key (BTC/USDT)

    @classmethod
    def of(cls, spec: PairSpec) -> KrakenPair:
        """Kraken's names for a canonical pair."""
        base, quote = asset(spec.base), asset(spec.quote)
        altname = base.altname + quote.altname
        legacy = base.id in _LEGACY_PAIR_ASSETS and quote.id in _LEGACY_PAIR_ASSETS
        pair_id = _PAIR_ID_EXCEPTIONS.get(
            (spec.base, spec.quote), base.id + quote.id if legacy else altname
        )
        return cls(
            spec=spec,
            base=base,
            quote=quote,
            id=pair_id,
            altname=altname,
            wsname=f"{base.altname}/{quote.altname}",
            symbol=f"{spec.base}/{spec.quote}",
        )

    @property
    def rest_aliases(self) -> tuple[str, ...]:
        """Names the REST ``pair`` parameter accepts: id, altname, ``BTCUSDT`` and ``BTC/USDT``.

        The v1 ``wsname`` (``XBT/USD``) is refused by REST, as live Kraken refuses it.
        """
        return (self.id, self.altname, self.spec.base + self.spec.quote, self.symbol)

    def key(self, display: bool) -> str:
        """The REST result key: the pair id, or the v2 symbol with ``assetVersion=1``."""
        return self.symbol if display else self.id
