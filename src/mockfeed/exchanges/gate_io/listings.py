"""Gate's market metadata objects: currencies, spot currency pairs and USDT-settled contracts.

Fields follow the APIv4 docs; ccxt requires only ``id`` (pairs), ``name`` (contracts) and
``currency`` (currencies) and reads the rest with defaults.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mockfeed.exchanges.gate_io.candles import fmt
from mockfeed.market import PairSpec

_NAMES = {
    "BTC": "Bitcoin", "ETH": "Ethereum", "SOL": "Solana", "BNB": "BNB", "XRP": "XRP",
    "DOGE": "Dogecoin", "USDT": "Tether", "USDC": "USD Coin",
}
_LISTED_S = 1_483_228_800  # 2017-01-01, the first candle mockfeed serves
_FUNDING_INTERVAL_S = 8 * 3600


def market_id(pair: PairSpec) -> str:
    """Gate's name of a pair or contract: ``BTC_USDT``."""
    return f"{pair.base}_{pair.quote}"


def currency(code: str) -> dict[str, Any]:
    """One ``GET /spot/currencies`` entry."""
    return {
        "currency": code,
        "name": _NAMES.get(code, code),
        "delisted": False,
        "withdraw_disabled": False,
        "withdraw_delayed": False,
        "deposit_disabled": False,
        "trade_disabled": False,
        "fixed_rate": "",
        "chain": code,
        "chains": [],
    }


def currency_pair(pair: PairSpec) -> dict[str, Any]:
    """One ``GET /spot/currency_pairs`` entry (``precision``/``amount_precision`` are decimal places)."""
    name = market_id(pair)
    return {
        "id": name,
        "base": pair.base,
        "base_name": _NAMES.get(pair.base, pair.base),
        "quote": pair.quote,
        "quote_name": _NAMES.get(pair.quote, pair.quote),
        "fee": "0.2",
        "min_base_amount": fmt(pair.lot_size),
        "min_quote_amount": "3",
        "max_quote_amount": "5000000",
        "amount_precision": pair.volume_decimals,
        "precision": pair.price_decimals,
        "trade_status": "tradable",
        "sell_start": 0,
        "buy_start": 0,
        "delisting_time": 0,
        "type": "normal",
        "trade_url": f"https://www.gate.com/trade/{name}",
    }


def contract(pair: PairSpec, price: Decimal, now_ms: int) -> dict[str, Any]:
    """One ``GET /futures/usdt/contracts`` entry; one contract is one lot of the base currency."""
    now_s = now_ms // 1000
    return {
        "name": market_id(pair),
        "type": "direct",
        "quanto_multiplier": fmt(pair.lot_size),
        "order_price_round": fmt(pair.tick_size),
        "mark_price_round": fmt(pair.tick_size),
        "order_size_min": 1,
        "order_size_max": 1_000_000,
        "order_price_deviate": "0.2",
        "leverage_min": "1",
        "leverage_max": "100",
        "maintenance_rate": "0.005",
        "mark_type": "index",
        "mark_price": fmt(price),
        "index_price": fmt(price),
        "last_price": fmt(price),
        "maker_fee_rate": "-0.0001",
        "taker_fee_rate": "0.00075",
        "funding_rate": "0.0001",
        "funding_rate_indicative": "0.0001",
        "funding_interval": _FUNDING_INTERVAL_S,
        "funding_next_apply": (now_s // _FUNDING_INTERVAL_S + 1) * _FUNDING_INTERVAL_S,
        "funding_offset": 0,
        "risk_limit_base": "1000000",
        "risk_limit_step": "1000000",
        "risk_limit_max": "10000000",
        "orders_limit": 100,
        "enable_decimal": False,
        "in_delisting": False,
        "status": "trading",
        "create_time": _LISTED_S,
        "launch_time": _LISTED_S,
        "config_change_time": _LISTED_S,
        "is_pre_market": False,
    }
