"""``/v5/market/instruments-info`` items for the categories mockfeed serves (spot, linear).

Filters come from the pair's tick and lot sizes; the rest are Bybit's usual values for a liquid
pair. ccxt reads ``symbol``, ``baseCoin``, ``quoteCoin``, ``status``, the filters and, for linear,
``contractType`` and ``settleCoin``; the other fields are there because Bybit sends them.
"""

from __future__ import annotations

from decimal import Decimal

from mockfeed.exchanges.bybit.wire import plain
from mockfeed.market import PairSpec

LAUNCH_MS = 1_585_526_400_000  # 2020-03-30, Bybit's BTCUSDT perpetual launch, used for every pair
_MAX_ORDER_LOTS = 100_000_000  # maxOrderQty as a number of lots
_MAX_PRICE_TICKS = 199_999_980  # maxPrice as a number of ticks (1999999.80 at a 0.01 tick)


def spot_item(pair: PairSpec) -> dict[str, object]:
    """A spot instrument, as ``category=spot`` lists it."""
    quote_step = Decimal(1).scaleb(-pair.quote_decimals)
    return {
        "symbol": pair.base + pair.quote,
        "baseCoin": pair.base,
        "quoteCoin": pair.quote,
        "innovation": "0",
        "status": "Trading",
        "marginTrading": "both",
        "stTag": "0",
        "lotSizeFilter": {
            "basePrecision": plain(pair.lot_size),
            "quotePrecision": plain(quote_step),
            "minOrderQty": plain(pair.lot_size),
            "maxOrderQty": plain(pair.lot_size * _MAX_ORDER_LOTS),
            "minOrderAmt": "1",
            "maxOrderAmt": "2000000",
        },
        "priceFilter": {"tickSize": plain(pair.tick_size)},
        "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"},
    }


def linear_item(pair: PairSpec) -> dict[str, object]:
    """A USDT-settled linear perpetual, as ``category=linear`` lists it.

    ccxt needs ``contractType: LinearPerpetual`` and the page's ``category: linear`` to build
    ``BTC/USDT:USDT`` as a linear swap (spec §3.2).
    """
    max_qty = plain(pair.lot_size * _MAX_ORDER_LOTS)
    return {
        "symbol": pair.base + pair.quote,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": pair.base,
        "quoteCoin": pair.quote,
        "launchTime": str(LAUNCH_MS),
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(pair.price_decimals),
        "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
        "priceFilter": {
            "minPrice": plain(pair.tick_size),
            "maxPrice": plain(pair.tick_size * _MAX_PRICE_TICKS),
            "tickSize": plain(pair.tick_size),
        },
        "lotSizeFilter": {
            "maxOrderQty": max_qty,
            "minOrderQty": plain(pair.lot_size),
            "qtyStep": plain(pair.lot_size),
            "postOnlyMaxOrderQty": max_qty,
            "maxMktOrderQty": max_qty,
            "minNotionalValue": "5",
        },
        "unifiedMarginTrade": True,
        "fundingInterval": 480,
        "settleCoin": pair.quote,
        "copyTrading": "both",
        "upperFundingRate": "0.005",
        "lowerFundingRate": "-0.005",
        "isPreListing": False,
        "preListingInfo": None,
        "displayName": "",
    }
