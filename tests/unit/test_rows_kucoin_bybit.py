"""KuCoin and Bybit candle pages served from cached rows are the bytes of the old Decimal encoding.

Each product's klines handler is called on random pairs (odd ticks and lots included), intervals,
bounds, limits and times, cold and again (the same second, a later one), with a listing and a gap
now and then; the body must equal what the handler wrote before rows were cached: ``model.candles``
of the same request, every row formatted from Decimals (the references below are that code).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockfeed.exchanges.base import ExchangePlugin, RestRequest
from mockfeed.exchanges.bybit import BybitPerpetual, BybitSpot
from mockfeed.exchanges.kucoin import KucoinPerpetual, KucoinSpot
from mockfeed.market import Candle, Interval, MarketModel, PairSpec
from mockfeed.market.scenario import Gap, Listing, Scenario
from tests.support.pairs import odd_pairs

NOW = 1_767_225_617_123  # 2026-01-01T00:00:17.123Z
YEARS_MS = 8 * 365 * 86_400_000
DAY = 86_400_000


# -- the old encodings (the handlers' code before rows were cached) ------------------------------
def _plain_kucoin(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text


def _plain_bybit(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _kucoin_spot_row(pair: PairSpec, c: Candle) -> list[Any]:
    p = _plain_kucoin
    return [str(c.open_time // 1000), p(c.open), p(c.close), p(c.high), p(c.low), p(c.volume), p(c.quote_volume)]


def _kucoin_futures_row(pair: PairSpec, c: Candle) -> list[Any]:
    contracts = int(c.volume / pair.lot_size)
    return [c.open_time, float(c.open), float(c.high), float(c.low), float(c.close), contracts]


def _bybit_row(pair: PairSpec, c: Candle) -> list[Any]:
    p = _plain_bybit
    return [str(c.open_time), p(c.open), p(c.high), p(c.low), p(c.close), p(c.volume), p(c.quote_volume)]


def _kucoin_old(newest_first: bool, row: Callable[[PairSpec, Candle], list[Any]]) -> Callable[..., bytes]:
    def body(model: MarketModel, pair: PairSpec, interval: Interval, now: int, limit: int,
             start: int | None, end: int | None, query: dict[str, str]) -> bytes:
        candles = model.candles(pair.name, interval, now_ms=now, limit=limit, start_ms=start, end_ms=end)
        if newest_first:
            candles.reverse()
        return orjson.dumps({"code": "200000", "data": [row(pair, c) for c in candles]})

    return body


def _bybit_old(model: MarketModel, pair: PairSpec, interval: Interval, now: int, limit: int,
               start: int | None, end: int | None, query: dict[str, str]) -> bytes:
    candles = model.candles(
        pair.name, interval, now_ms=now, limit=limit,
        start_ms=None if start is None else interval.floor(start), end_ms=end,
    )
    rows = [_bybit_row(pair, c) for c in reversed(candles)]
    result = {"symbol": query["symbol"], "category": query["category"], "list": rows}
    return orjson.dumps({"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now})


# -- products: the plugin, its klines request and the old body ------------------------------------
class Product:
    """How to ask one product for a page, and what it answered before."""

    def __init__(self, cls: type[ExchangePlugin], path: str, codes: dict[str, str], max_limit: int,
                 old: Callable[..., bytes]) -> None:
        self.cls, self.path, self.codes, self.max_limit, self.old = cls, path, codes, max_limit, old

    def query(self, pair: PairSpec, code: str, start: int | None, end: int | None,
              limit: int | None) -> dict[str, str]:
        """The query string of a request (bounds and limit in ms and rows; None: not sent)."""
        raise NotImplementedError

    def bounds(self, start: int | None, end: int | None, limit: int | None) -> tuple[int | None, int | None, int]:
        """``(start_ms, end_ms, limit)`` as the old handler passed them to ``model.candles``."""
        raise NotImplementedError


class Kucoin(Product):
    def __init__(self, cls: type[ExchangePlugin], spot: bool) -> None:
        if spot:
            codes = {"1min": "1m", "3min": "3m", "15min": "15m", "1hour": "1h", "4hour": "4h",
                     "1day": "1d", "1week": "1w", "1month": "1M"}
            super().__init__(cls, "/api/v1/market/candles", codes, 1500, _kucoin_old(True, _kucoin_spot_row))
        else:
            codes = {"1": "1m", "5": "5m", "60": "1h", "480": "8h", "1440": "1d", "10080": "1w"}
            super().__init__(cls, "/api/v1/kline/query", codes, 200, _kucoin_old(False, _kucoin_futures_row))
        self.spot = spot

    def _unit(self, ms: int | None) -> int | None:
        # Spot times are in seconds; 0 means unbounded, as absent.
        return None if ms is None else (ms // 1000 if self.spot else ms)

    def query(self, pair: PairSpec, code: str, start: int | None, end: int | None,
              limit: int | None) -> dict[str, str]:
        symbol = f"{pair.base}-{pair.quote}" if self.spot else f"{'XBT' if pair.base == 'BTC' else pair.base}{pair.quote}M"
        names = ("type", "startAt", "endAt") if self.spot else ("granularity", "from", "to")
        out = {"symbol": symbol, names[0]: code}
        for name, value in zip(names[1:], (self._unit(start), self._unit(end)), strict=True):
            if value is not None:
                out[name] = str(value)
        return out

    def bounds(self, start: int | None, end: int | None, limit: int | None) -> tuple[int | None, int | None, int]:
        def ms(value: int | None) -> int | None:
            unit = self._unit(value)
            return unit * (1000 if self.spot else 1) if unit else None

        return ms(start), ms(end), self.max_limit


class Bybit(Product):
    def __init__(self, cls: type[ExchangePlugin], category: str) -> None:
        codes = {"1": "1m", "3": "3m", "60": "1h", "360": "6h", "D": "1d", "W": "1w", "M": "1M"}
        super().__init__(cls, "/v5/market/kline", codes, 1000, _bybit_old)
        self.category = category

    def query(self, pair: PairSpec, code: str, start: int | None, end: int | None,
              limit: int | None) -> dict[str, str]:
        out = {"category": self.category, "symbol": pair.base + pair.quote, "interval": code}
        for name, value in (("start", start), ("end", end), ("limit", limit)):
            if value is not None:
                out[name] = str(value)
        return out

    def bounds(self, start: int | None, end: int | None, limit: int | None) -> tuple[int | None, int | None, int]:
        return start, end, 200 if limit is None else min(limit, self.max_limit)


PRODUCTS: dict[str, Product] = {
    "kucoin_spot": Kucoin(KucoinSpot, spot=True),
    "kucoin_perpetual": Kucoin(KucoinPerpetual, spot=False),
    "bybit_spot": Bybit(BybitSpot, "spot"),
    "bybit_perpetual": Bybit(BybitPerpetual, "linear"),
}

pairs = odd_pairs()
times = st.one_of(st.none(), st.integers(0, YEARS_MS))  # ms before the request's time


def _scenario(spec: PairSpec, now: int, events: int) -> Any:
    """Nothing, a listing a few days before now, or that and a gap in the last hours."""
    if not events:
        return None
    chosen: list[Any] = [Listing(at=now - 3 * DAY - 7_777_000, pair=spec.name)]
    if events > 1:
        chosen.append(Gap(at=now - 5 * 3_600_000, over="2h", pair=spec.name))
    return Scenario(chosen).at(0)


def _request(product: Product, query: dict[str, str], now: int) -> RestRequest:
    return RestRequest("GET", product.path, tuple(query.items()), b"", now)


@pytest.mark.parametrize("name", PRODUCTS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=pairs,
    seed=st.integers(0, 2**31),
    code_index=st.integers(0, 20),
    back=st.integers(0, YEARS_MS),
    start=times,
    end=times,
    limit=st.one_of(st.none(), st.integers(1, 1200)),
    later=st.integers(1_000, 150_000),
    events=st.integers(0, 2),
    backend=st.sampled_from(["auto", "python"]),
)
def test_cached_pages_equal_decimal_pages(
    name: str, spec: PairSpec, seed: int, code_index: int, back: int, start: int | None,
    end: int | None, limit: int | None, later: int, events: int, backend: str,
) -> None:
    product = PRODUCTS[name]
    now = NOW - back // 7
    model = MarketModel([spec], seed=seed, backend=backend,  # type: ignore[arg-type]
                        scenario=_scenario(spec, now, events))
    plugin = product.cls(model, [spec])
    handler = plugin.routes()[("GET", product.path)]
    code = list(product.codes)[code_index % len(product.codes)]
    interval = Interval.parse(product.codes[code])
    fine = interval.seconds is not None and 0 < interval.seconds < 3_600
    start_ms = None if start is None else now - start // (1 if fine else 50)
    end_ms = None if end is None else now - end // (1 if fine else 50)
    if isinstance(product, Bybit) and start_ms is not None and end_ms is not None:
        start_ms, end_ms = sorted((start_ms, end_ms))  # else 10001, not a page
    query = product.query(spec, code, start_ms, end_ms, limit)
    first, last, rows = product.bounds(start_ms, end_ms, limit)
    for at in (now, now + 3, now + later, now + later):  # cold, same second, a later second (twice)
        try:
            want = product.old(model, spec, interval, at, rows, first, last, query)
        except TypeError:  # a contract count beyond 64 bits: orjson refused it before too
            with pytest.raises(TypeError):
                handler(_request(product, query, at))
            return
        answer = handler(_request(product, query, at))
        assert (answer.status, answer.body) == (200, want)


@pytest.mark.parametrize("name", PRODUCTS)
def test_largest_newest_page_of_a_default_pair(name: str) -> None:
    """The largest page the endpoint allows, newest, then a second later: numpy batches and the forming row."""
    from mockfeed.market import pair_spec

    product = PRODUCTS[name]
    spec = pair_spec("BTC-USDT")
    model = MarketModel([spec], seed=5)
    plugin = product.cls(model, [spec])
    handler = plugin.routes()[("GET", product.path)]
    code = next(iter(product.codes))
    query = product.query(spec, code, None, None, product.max_limit)
    first, last, rows = product.bounds(None, None, product.max_limit)
    for at in (NOW, NOW + 1_000, NOW + 61_000):
        want = product.old(model, spec, Interval.parse(product.codes[code]), at, rows, first, last, query)
        assert handler(_request(product, query, at)).body == want
