"""Trading pairs: canonical ``BASE-QUOTE`` names and the parameters of their synthetic markets."""

from __future__ import annotations

import math
import re
from decimal import Decimal

import attrs

_PAIR = re.compile(r"^([A-Z0-9]{2,12})-([A-Z0-9]{2,12})$")

#: The pairs served when the user names none.
DEFAULT_PAIRS = ("BTC-USDT", "ETH-USDT", "SOL-USDT")


class PairError(ValueError):
    """Raised for a pair name that is not canonical ``BASE-QUOTE``."""


@attrs.frozen(slots=True)
class PairSpec:
    """A pair and the parameters of its synthetic market.

    ``start_price`` is the price at the model's anchor date (2025-01-01 00:00 UTC); ``volatility`` is
    annualised (0.5 = 50 %); ``daily_quote_volume`` is the typical traded value per day in quote units.
    """

    base: str
    quote: str
    start_price: Decimal
    volatility: float
    tick_size: Decimal
    lot_size: Decimal
    daily_quote_volume: float
    mean_trade_quote: float = 400.0

    @property
    def name(self) -> str:
        """Canonical name, ``BASE-QUOTE``."""
        return f"{self.base}-{self.quote}"

    @property
    def price_decimals(self) -> int:
        """Digits after the point of a price."""
        return _decimals(self.tick_size)

    @property
    def volume_decimals(self) -> int:
        """Digits after the point of a base volume."""
        return _decimals(self.lot_size)

    @property
    def quote_decimals(self) -> int:
        """Digits after the point of a quote volume (price × volume is exact at this scale)."""
        return self.price_decimals + self.volume_decimals


def _decimals(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


# start price, annual volatility, tick, lot, daily quote volume
_KNOWN: dict[str, tuple[str, float, str, str, float]] = {
    "BTC": ("50000", 0.50, "0.01", "0.00001", 1.5e9),
    "ETH": ("3000", 0.65, "0.01", "0.0001", 8e8),
    "SOL": ("100", 0.85, "0.01", "0.001", 3e8),
    "BNB": ("600", 0.55, "0.01", "0.001", 1e8),
    "XRP": ("0.6", 0.80, "0.0001", "1", 2e8),
    "DOGE": ("0.1", 0.95, "0.00001", "1", 1.5e8),
}


def pair_spec(name: str) -> PairSpec:
    """The spec for a canonical pair name, with sane defaults for unknown bases."""
    match = _PAIR.fullmatch(name)
    if match is None:
        raise PairError(f"pair {name!r} is not of the form BASE-QUOTE (e.g. BTC-USDT)")
    base, quote = match.groups()
    price, vol, tick, lot, daily = _KNOWN.get(base, ("10", 0.9, "0.001", "0.01", 2e7))
    return PairSpec(
        base=base,
        quote=quote,
        start_price=Decimal(price),
        volatility=vol,
        tick_size=Decimal(tick),
        lot_size=Decimal(lot),
        daily_quote_volume=daily,
    )


def parse_pairs(text: str) -> tuple[PairSpec, ...]:
    """Parse ``BTC-USDT,ETH-USDT`` into specs, refusing duplicates."""
    names = [part.strip().upper() for part in text.split(",") if part.strip()]
    if not names:
        raise PairError("no pairs given")
    if len(set(names)) != len(names):
        raise PairError("a pair is listed twice")
    return tuple(pair_spec(n) for n in names)


def log_start_price(spec: PairSpec) -> float:
    """Natural log of the anchor price."""
    return math.log(float(spec.start_price))
