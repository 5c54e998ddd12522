"""A hypothesis strategy of pairs with odd ticks, lots, prices and volumes, for the row-encoding
property tests (every encoder must give the bytes its Decimal reference gives on any of them)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from mockfeed.market import PairSpec

PRICES = ("0.00002", "0.6", "3", "100", "3000", "50000", "90000")
TICKS = ("0.01", "0.05", "0.0001", "1", "10", "0.00000001", "0.25")
LOTS = ("0.00001", "1", "0.001", "0.5", "100", "0.01")


def odd_pairs(quotes: tuple[str, ...] = ("USDT",)) -> st.SearchStrategy[PairSpec]:
    """Pairs quoted in one of ``quotes``."""
    return st.builds(
        PairSpec,
        base=st.sampled_from(["BTC", "ETH", "XYZ", "SHIB"]),
        quote=st.sampled_from(quotes),
        start_price=st.sampled_from([Decimal(x) for x in PRICES]),
        volatility=st.sampled_from([0.3, 0.9, 2.0]),
        tick_size=st.sampled_from([Decimal(x) for x in TICKS]),
        lot_size=st.sampled_from([Decimal(x) for x in LOTS]),
        daily_quote_volume=st.sampled_from([2e4, 3e8, 1.5e9, 5e11]),
    )
