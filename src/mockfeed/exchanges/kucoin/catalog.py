"""KuCoin's market listings: currencies, spot symbols and tickers, futures contracts.

Each entry carries every field ccxt's ``load_markets`` reads, plus KuCoin's usual companions, built
from the pair's spec and the market model (24-hour figures come from the latest hourly candles).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from mockfeed.exchanges.kucoin.wire import futures_base, futures_symbol, plain, spot_symbol
from mockfeed.market import Interval, MarketModel, PairSpec

_HOUR = Interval.parse("1h")
_FUNDING_MS = 8 * 3_600_000
_FIRST_OPEN_MS = 1585555200000  # 2020-03-30, when KuCoin listed its first USDT perpetual
_ZERO = Decimal(0)


@attrs.frozen
class DayStats:
    """A pair's last price and figures over roughly the last 24 hours."""

    last: Decimal
    open: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal
    turnover: Decimal

    @property
    def change(self) -> Decimal:
        """Last minus open."""
        return self.last - self.open

    @property
    def change_rate(self) -> Decimal:
        """Relative change, four places as KuCoin shows it."""
        return (self.change / self.open).quantize(Decimal("0.0001")) if self.open else _ZERO


def day_stats(model: MarketModel, pair: PairSpec, now_ms: int) -> DayStats:
    """The pair's figures from its newest 25 hourly candles (the forming one included)."""
    candles = model.candles(pair.name, _HOUR, now_ms=now_ms, limit=25)
    if not candles:
        return DayStats(_ZERO, _ZERO, _ZERO, _ZERO, _ZERO, _ZERO)
    return DayStats(
        last=candles[-1].close,
        open=candles[0].open,
        high=max(c.high for c in candles),
        low=min(c.low for c in candles),
        volume=sum((c.volume for c in candles), _ZERO),
        turnover=sum((c.quote_volume for c in candles), _ZERO),
    )


def currencies(pairs: tuple[PairSpec, ...]) -> list[dict[str, Any]]:
    """``GET /api/v3/currencies``: every asset of the pairs, each with one chain (so not "fiat")."""
    names = dict.fromkeys(asset for pair in pairs for asset in (pair.base, pair.quote))
    return [
        {
            "currency": name,
            "name": name,
            "fullName": name,
            "precision": 8,
            "confirms": None,
            "contractAddress": None,
            "isMarginEnabled": False,
            "isDebitEnabled": False,
            "chains": [
                {
                    "chainName": name,
                    "chainId": name.lower(),
                    "withdrawalMinSize": "0.001",
                    "depositMinSize": None,
                    "withdrawFeeRate": "0",
                    "withdrawalMinFee": "0.0005",
                    "isWithdrawEnabled": True,
                    "isDepositEnabled": True,
                    "confirms": 6,
                    "preConfirms": 6,
                    "contractAddress": "",
                    "withdrawPrecision": 8,
                    "maxWithdraw": None,
                    "maxDeposit": None,
                    "needTag": False,
                }
            ],
        }
        for name in names
    ]


def spot_symbol_entry(pair: PairSpec) -> dict[str, Any]:
    """One ``GET /api/v2/symbols`` entry (ccxt splits ``symbol`` on its single dash)."""
    return {
        "symbol": spot_symbol(pair),
        "name": spot_symbol(pair),
        "baseCurrency": pair.base,
        "quoteCurrency": pair.quote,
        "feeCurrency": pair.quote,
        "market": "USDS" if pair.quote in ("USDT", "USDC") else pair.quote,
        "baseMinSize": plain(pair.lot_size),
        "quoteMinSize": "0.1",
        "baseMaxSize": "10000000000",
        "quoteMaxSize": "99999999",
        "baseIncrement": plain(pair.lot_size),
        "quoteIncrement": plain(pair.tick_size * pair.lot_size),
        "priceIncrement": plain(pair.tick_size),
        "priceLimitRate": "0.1",
        "minFunds": "0.1",
        "isMarginEnabled": False,
        "enableTrading": True,
        "feeCategory": 1,
        "makerFeeCoefficient": "1.00",
        "takerFeeCoefficient": "1.00",
        "st": False,
    }


def spot_ticker(pair: PairSpec, stats: DayStats) -> dict[str, Any]:
    """One ``GET /api/v1/market/allTickers`` entry (ccxt reads the fee rates and coefficients)."""
    average = (stats.turnover / stats.volume).quantize(pair.tick_size) if stats.volume else stats.last
    return {
        "symbol": spot_symbol(pair),
        "symbolName": spot_symbol(pair),
        "buy": plain(stats.last),
        "bestBidSize": plain(pair.lot_size * 100),
        "sell": plain(stats.last + pair.tick_size),
        "bestAskSize": plain(pair.lot_size * 100),
        "changeRate": plain(stats.change_rate),
        "changePrice": plain(stats.change),
        "high": plain(stats.high),
        "low": plain(stats.low),
        "vol": plain(stats.volume),
        "volValue": plain(stats.turnover),
        "last": plain(stats.last),
        "averagePrice": plain(average),
        "takerFeeRate": "0.001",
        "makerFeeRate": "0.001",
        "takerCoefficient": "1",
        "makerCoefficient": "1",
    }


def contract(pair: PairSpec, stats: DayStats, now_ms: int) -> dict[str, Any]:
    """One ``GET /api/v1/contracts/active`` entry: a USDT-margined perpetual, numbers as numbers.

    ccxt needs ``baseCurrency``, ``quoteCurrency``, ``settleCurrency`` and a non-null
    ``nextFundingRateTime`` (null would make it a dated future); one contract is one lot of the pair.
    """
    base = futures_base(pair)
    last = float(stats.last)
    return {
        "symbol": futures_symbol(pair),
        "rootSymbol": pair.quote,
        "type": "FFWCSX",
        "firstOpenDate": _FIRST_OPEN_MS,
        "expireDate": None,
        "settleDate": None,
        "baseCurrency": base,
        "quoteCurrency": pair.quote,
        "settleCurrency": pair.quote,
        "maxOrderQty": 1000000,
        "maxPrice": 1000000.0,
        "lotSize": 1,
        "tickSize": float(pair.tick_size),
        "indexPriceTickSize": float(pair.tick_size),
        "multiplier": float(pair.lot_size),
        "initialMargin": 0.008,
        "maintainMargin": 0.004,
        "maxRiskLimit": 100000,
        "minRiskLimit": 100000,
        "riskStep": 50000,
        "makerFeeRate": 0.0002,
        "takerFeeRate": 0.0006,
        "takerFixFee": 0.0,
        "makerFixFee": 0.0,
        "settlementFee": None,
        "isDeleverage": True,
        "isQuanto": False,
        "isInverse": False,
        "markMethod": "FairPrice",
        "fairMethod": "FundingRate",
        "fundingBaseSymbol": f".{base}INT8H",
        "fundingQuoteSymbol": f".{pair.quote}INT8H",
        "fundingRateSymbol": f".{futures_symbol(pair)}FPI8H",
        "indexSymbol": f".K{base}{pair.quote}",
        "settlementSymbol": "",
        "status": "Open",
        "fundingFeeRate": 0.0001,
        "predictedFundingFeeRate": 0.0001,
        "fundingRateGranularity": _FUNDING_MS,
        "openInterest": "1000000",
        "turnoverOf24h": float(stats.turnover),
        "volumeOf24h": float(stats.volume),
        "markPrice": last,
        "indexPrice": last,
        "lastTradePrice": last,
        "nextFundingRateTime": _FUNDING_MS - now_ms % _FUNDING_MS,
        "maxLeverage": 125,
        "sourceExchanges": ["binance", "okex", "kucoin", "bybit", "gateio", "bitget"],
        "premiumsSymbol1M": f".{futures_symbol(pair)}PI",
        "premiumsSymbol8H": f".{futures_symbol(pair)}PI8H",
        "fundingBaseSymbol1M": f".{base}INT",
        "fundingQuoteSymbol1M": f".{pair.quote}INT",
        "lowPrice": float(stats.low),
        "highPrice": float(stats.high),
        "priceChgPct": float(stats.change_rate),
        "priceChg": float(stats.change),
        "supportCross": True,
    }
