"""Products, currencies and exchange rates, as the public Coinbase endpoints list them.

Everything is derived from the configured pairs and the market model; the tables below only hold
what the model does not know (display names, which codes are fiat, sizes Coinbase publishes).
"""

from __future__ import annotations

import uuid
from decimal import Context, Decimal

from mockfeed.exchanges.coinbase.wire import plain
from mockfeed.market import Interval, MarketModel, PairSpec

_MINUTE = Interval.parse("1m")
_DAY_S = 86_400
_RATE_CONTEXT = Context(prec=10)
_ASSET_NAMESPACE = uuid.UUID("6f1c3a52-3c1e-4e3b-9a86-0c8f2b1c5a10")

#: Fiat currencies ``/v2/currencies`` lists: code → (name, min_size). Coinbase lists ~170; these suffice.
FIAT: dict[str, tuple[str, str]] = {
    "USD": ("US Dollar", "0.01"),
    "EUR": ("Euro", "0.01"),
    "GBP": ("British Pound", "0.01"),
}

#: Crypto display names; an unknown code is named after itself (ccxt needs ``name`` on every row).
CRYPTO_NAMES: dict[str, str] = {
    "BTC": "Bitcoin",
    "ETH": "Ethereum",
    "SOL": "Solana",
    "BNB": "BNB",
    "XRP": "XRP",
    "DOGE": "Dogecoin",
    "LTC": "Litecoin",
    "ADA": "Cardano",
    "AVAX": "Avalanche",
    "LINK": "Chainlink",
    "USDT": "Tether",
    "USDC": "USDC",
}

#: Codes valued at one US dollar in ``/v2/exchange-rates`` (UNVERIFIED: the live rates float slightly).
USD_PEGGED = ("USD", "USDC", "USDT")

#: Per-order maximum in quote units, as Coinbase publishes for its majors (BTC-USD: 150 000 000).
QUOTE_MAX_SIZE = Decimal(150_000_000)


def currency_name(code: str) -> str:
    """The display name of a currency code."""
    fiat = FIAT.get(code)
    return fiat[0] if fiat is not None else CRYPTO_NAMES.get(code, code)


def fiat_rows() -> list[dict[str, object]]:
    """``/v2/currencies``: the fiat currencies."""
    return [{"id": code, "name": name, "min_size": size} for code, (name, size) in FIAT.items()]


def crypto_codes(pairs: tuple[PairSpec, ...]) -> list[str]:
    """Every non-fiat code among the pairs' bases and quotes, in first-seen order."""
    codes: dict[str, None] = {}
    for pair in pairs:
        for code in (pair.base, pair.quote):
            if code not in FIAT:
                codes[code] = None
    return list(codes)


def crypto_rows(pairs: tuple[PairSpec, ...]) -> list[dict[str, object]]:
    """``/v2/currencies/crypto``: one row per crypto code, with a stable ``asset_id``."""
    return [
        {
            "asset_id": str(uuid.uuid5(_ASSET_NAMESPACE, code)),
            "code": code,
            "name": currency_name(code),
            "color": "#0052FF",
            "sort_index": str(index),
            "exponent": "8",
            "type": "crypto",
            "address_regex": "^[a-zA-Z0-9]{26,64}$",
        }
        for index, code in enumerate(crypto_codes(pairs))
    ]


def last_price(model: MarketModel, pair: PairSpec, now_ms: int) -> Decimal | None:
    """The pair's latest price: the close of its forming minute."""
    candle = model.candle(pair.name, _MINUTE, now_ms, now_ms)
    return candle.close if candle is not None else None


def usd_values(model: MarketModel, pairs: tuple[PairSpec, ...], now_ms: int) -> dict[str, Decimal]:
    """The US-dollar value of every code that can be priced: pegged codes, then bases of priced quotes."""
    values = {code: Decimal(1) for code in USD_PEGGED}
    changed = True
    while changed:  # ETH-BTC prices ETH once BTC-USDT has priced BTC
        changed = False
        for pair in pairs:
            if pair.base not in values and pair.quote in values:
                price = last_price(model, pair, now_ms)
                if price:
                    values[pair.base] = price * values[pair.quote]
                    changed = True
    return values


def exchange_rates(values: dict[str, Decimal], currency: str) -> dict[str, str]:
    """Units of each code that one unit of ``currency`` buys (``{"BTC": "0.0000155", ...}``)."""
    base = values[currency]
    return {code: plain(_RATE_CONTEXT.divide(base, value)) for code, value in values.items()}


def product_row(model: MarketModel, pair: PairSpec, now_ms: int) -> dict[str, object]:
    """One ``SPOT`` product as ``/market/products`` lists it (the fields ccxt and the SDK read)."""
    product_id = pair.name
    day = _window(model, pair, now_ms, 0)
    previous = _window(model, pair, now_ms, 1)
    price = last_price(model, pair, now_ms) or Decimal(0)
    change = (price - day[0]) / day[0] * 100 if day[0] else Decimal(0)
    volume_change = (day[1] - previous[1]) / previous[1] * 100 if previous[1] else Decimal(0)
    tick, lot = plain(pair.tick_size), plain(pair.lot_size)
    base_max = (QUOTE_MAX_SIZE / pair.start_price).quantize(pair.lot_size)
    return {
        "product_id": product_id,
        "price": plain(price),
        "price_percentage_change_24h": plain(_RATE_CONTEXT.plus(change)),
        "volume_24h": plain(day[1]),
        "volume_percentage_change_24h": plain(_RATE_CONTEXT.plus(volume_change)),
        "base_increment": lot,
        "quote_increment": tick,
        "quote_min_size": "1",
        "quote_max_size": plain(QUOTE_MAX_SIZE),
        "base_min_size": lot,
        "base_max_size": plain(base_max),
        "base_name": currency_name(pair.base),
        "quote_name": currency_name(pair.quote),
        "watched": False,
        "is_disabled": False,
        "new": False,
        "status": "online",
        "cancel_only": False,
        "limit_only": False,
        "post_only": False,
        "trading_disabled": False,
        "auction_mode": False,
        "product_type": "SPOT",
        "quote_currency_id": pair.quote,
        "base_currency_id": pair.base,
        "fcm_trading_session_details": None,
        "mid_market_price": "",
        "alias": "",
        "alias_to": [],
        "base_display_symbol": pair.base,
        "quote_display_symbol": pair.quote,
        "view_only": False,
        "price_increment": tick,
        "display_name": product_id,
        "product_venue": "CBE",
        "approximate_quote_24h_volume": plain(day[2].quantize(Decimal("0.01"))),
    }


def _window(
    model: MarketModel, pair: PairSpec, now_ms: int, days_back: int
) -> tuple[Decimal, Decimal, Decimal]:
    """(open, base volume, quote volume) of the 24 hours ending ``days_back`` days before now."""
    pair_model = model.pair(pair.name)
    end_s = now_ms // 1000 - days_back * _DAY_S
    value = pair_model.aggregate(end_s - _DAY_S, end_s)
    if value is None:
        return Decimal(0), Decimal(0), Decimal(0)
    candle = pair_model.to_candle(value, (end_s - _DAY_S) * 1000, end_s * 1000 - 1, True)
    return candle.open, candle.volume, candle.quote_volume
