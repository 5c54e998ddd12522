"""Hyperliquid spot and perpetual: one ``POST /info`` dispatcher, two product tables.

Everything public on Hyperliquid is ``POST /info`` with a JSON body ``{"type": ..., ...}``; the
``type`` picks a handler from :attr:`_Hyperliquid.info_handlers`. A product is a :class:`Product`
row saying which market type carries the configured pairs; the other type is listed empty, so an
unmodified client (ccxt loads spot, perpetual and builder-dex markets) works against either port.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import orjson

from mockfeed.exchanges.base import (
    ExchangePlugin,
    FaultKind,
    RestHandler,
    RestRequest,
    RestResponse,
    Subscription,
    WsReject,
    WsSession,
    json_response,
)
from mockfeed.exchanges.exchange_type import ExchangeType
from mockfeed.exchanges.hyperliquid import catalog, errors, faults, schema
from mockfeed.exchanges.hyperliquid.catalog import Listing, Market
from mockfeed.exchanges.hyperliquid.limits import HyperliquidLimits
from mockfeed.exchanges.hyperliquid.streams import HyperliquidSession
from mockfeed.exchanges.hyperliquid.wire import INTERVALS, candle_row, num
from mockfeed.exchanges.rows import Layout, RowCache, integer, plain
from mockfeed.market import Candle, Interval, MarketModel, PairSpec

MINUTE = INTERVALS["1m"]
HOUR = INTERVALS["1h"]
DAY_MS = 86_400_000

#: candleSnapshot answers at most this many candles: the newest of the requested window. (HL
#: documents "only the most recent 5000 candles are available"; mockfeed keeps the whole history
#: reachable by moving ``endTime`` back.)
CANDLE_CAP = 5000

#: Hyperliquid's hourly funding baseline (the interest-rate part; the mock has no premium).
BASE_FUNDING = "0.0000125"

#: Seconds between pushes of a forming candle. Hyperliquid pushes on every trade (UNVERIFIED
#: cadence); the model's forming candle changes once a second, so once a second loses nothing.
PUSH_PERIOD = 1.0

InfoHandler = Callable[[Any, int], Any]


@attrs.frozen
class Product:
    """What differs between Hyperliquid products: which market type lists the configured pairs."""

    exchange: ExchangeType
    spot: Listing | None
    perp: Listing | None


SPOT = Product(ExchangeType.HYPERLIQUID_SPOT, spot=catalog.SPOT, perp=None)
PERPETUAL = Product(ExchangeType.HYPERLIQUID_PERPETUAL, spot=None, perp=catalog.PERP)


@attrs.frozen
class _DayStats:
    """A market's current price, its price a day ago and its volume over the last day."""

    mid: Decimal
    prev_day: Decimal
    base_volume: Decimal
    quote_volume: Decimal


class _Hyperliquid(ExchangePlugin):
    """The shared Hyperliquid implementation; subclasses only pick a :class:`Product`."""

    product: Product
    idle_timeout_s = 60.0  # the server closes a connection it has sent nothing to for 60 s
    idle_check_s = 1.0
    max_subscriptions = 1000  # per IP on Hyperliquid; counted per connection here

    def __init__(self, model: MarketModel, pairs: Iterable[PairSpec]) -> None:
        super().__init__(model, pairs)
        self.exchange = self.product.exchange
        self.spot = catalog.markets(self.pairs, self.product.spot)
        self.perps = catalog.markets(self.pairs, self.product.perp)
        self.by_coin: dict[str, Market] = {m.coin: m for m in (*self.spot, *self.perps)}
        self.coin_of: dict[str, str] = {m.pair.name: m.coin for m in self.by_coin.values()}
        self.limits = HyperliquidLimits()
        self.rows = RowCache(model)  # encoded rows of closed candles
        self._layouts: dict[tuple[str, str], Layout] = {}
        self.info_handlers: dict[str, InfoHandler] = {
            "candleSnapshot": self._candle_snapshot,
            "meta": self._meta,
            "metaAndAssetCtxs": self._meta_and_asset_ctxs,
            "spotMeta": self._spot_meta,
            "spotMetaAndAssetCtxs": self._spot_meta_and_asset_ctxs,
            "perpDexs": self._perp_dexs,
            "exchangeStatus": self._exchange_status,
            "allMids": self._all_mids,
        }

    # -- REST -----------------------------------------------------------------------------------
    def routes(self) -> Mapping[tuple[str, str], RestHandler]:
        return {("POST", "/info"): self._info}

    def not_found(self, request: RestRequest) -> RestResponse:
        return errors.NOT_FOUND

    def method_not_allowed(self, request: RestRequest) -> RestResponse:
        return errors.METHOD_NOT_ALLOWED

    def internal_error(self, request: RestRequest) -> RestResponse:
        return errors.INTERNAL

    def fault_response(self, kind: FaultKind, request: RestRequest) -> RestResponse:
        return faults.FAULTS.get(kind) or self.internal_error(request)

    def limit_request(self, request: RestRequest) -> RestResponse | None:
        return self.limits.check(request)

    def _info(self, request: RestRequest) -> RestResponse:
        try:
            payload = self.answer(schema.decode(request.body), request.now_ms)
        except schema.MalformedJson:
            return errors.MALFORMED
        except schema.SchemaError:
            return errors.UNPROCESSABLE
        return json_response(200, payload)

    def answer(self, body: Any, now_ms: int) -> Any:
        """The JSON answer to one decoded info request; :class:`schema.SchemaError` if it does not fit."""
        _, handler = schema.variant(body, "type", self.info_handlers)
        return handler(body, now_ms)

    def _candle_snapshot(self, body: Any, now_ms: int) -> Any:
        req = schema.obj(body, "req")
        coin = schema.string(req, "coin")
        code, interval = schema.variant(req, "interval", INTERVALS)
        start = schema.u64(req, "startTime")
        end = schema.optional_u64(req, "endTime")
        market = self.by_coin.get(coin)
        if market is None:
            return []  # unknown coin: UNVERIFIED on Hyperliquid (reports say 500 or empty); empty here
        opens = self.snapshot_opens(market.pair, interval, start, end, now_ms)
        page = self.rows.page(market.pair.name, interval, opens, now_ms, self.row_layout(market, code))
        return orjson.Fragment(page)

    def snapshot_opens(
        self, pair: PairSpec, interval: Interval, start: int, end: int | None, now_ms: int
    ) -> Sequence[int]:
        """Open times in ``[start, end]`` (``end`` defaults to now), the newest 5000, oldest first."""
        last = now_ms if end is None else min(end, now_ms)
        if start > last:
            return []
        if interval.floor(last) - start < CANDLE_CAP * interval.ms:  # the window holds ≤ 5000 candles
            return self.model.open_times(
                pair.name, interval, now_ms=now_ms, limit=CANDLE_CAP, start_ms=start, end_ms=last
            )
        opens = self.model.open_times(pair.name, interval, now_ms=now_ms, limit=CANDLE_CAP, end_ms=last)
        return opens[bisect_left(opens, start):]

    def row_layout(self, market: Market, code: str) -> Layout:
        """:func:`candle_row` as a :class:`Layout` of the model's integers (one per market and code:
        both are literals of the row)."""
        layout = self._layouts.get((market.coin, code))
        if layout is None:
            tick, lot = market.pair.tick_size, market.pair.lot_size
            names = f',"s":{orjson.dumps(market.coin).decode()},"i":{orjson.dumps(code).decode()},"o":"'
            layout = self._layouts[(market.coin, code)] = Layout(
                '{"t":', integer(0), ',"T":', integer(1), names, plain(2, tick, point=True),
                '","c":"', plain(5, tick, point=True), '","h":"', plain(3, tick, point=True),
                '","l":"', plain(4, tick, point=True), '","v":"', plain(6, lot, point=True),
                '","n":', integer(8), "}",
            )
        return layout

    def _dex(self, body: Any) -> tuple[Market, ...]:
        """The perpetuals of the dex a request names: ``dex`` "" or absent is the main dex; builder
        dexes are a market type mockfeed does not serve, so they list nothing."""
        return () if schema.optional_string(body, "dex") else self.perps

    def _meta(self, body: Any, now_ms: int) -> dict[str, Any]:
        return catalog.perp_meta(self._dex(body))

    def _meta_and_asset_ctxs(self, body: Any, now_ms: int) -> list[Any]:
        perps = self._dex(body)
        return [catalog.perp_meta(perps), [self._perp_ctx(m, now_ms) for m in perps]]

    def _spot_meta(self, body: Any, now_ms: int) -> dict[str, Any]:
        return catalog.spot_meta(self.spot)

    def _spot_meta_and_asset_ctxs(self, body: Any, now_ms: int) -> list[Any]:
        return [catalog.spot_meta(self.spot), [self._spot_ctx(m, now_ms) for m in self.spot]]

    def _perp_dexs(self, body: Any, now_ms: int) -> list[Any]:
        return [None]  # the main dex only (builder dexes follow it on Hyperliquid)

    def _exchange_status(self, body: Any, now_ms: int) -> dict[str, Any]:
        # ``time`` is a string: ccxt's capture of the live answer is {specialStatuses: null, time: '…'}.
        return {"time": str(now_ms), "specialStatuses": None}

    def _all_mids(self, body: Any, now_ms: int) -> dict[str, str]:
        markets = (*self.spot, *self._dex(body))
        return {m.coin: num(self._day_stats(m, now_ms).mid) for m in markets}

    # -- asset contexts -------------------------------------------------------------------------
    def _day_stats(self, market: Market, now_ms: int) -> _DayStats:
        name = market.pair.name
        current = self.model.candle(name, MINUTE, now_ms, now_ms)
        day_ago = self.model.candle(name, MINUTE, now_ms - DAY_MS, now_ms)
        hours = self.model.candles(name, HOUR, now_ms=now_ms, limit=24)  # the last 24, forming included
        mid = current.close if current is not None else market.pair.start_price
        return _DayStats(
            mid=mid,
            prev_day=day_ago.close if day_ago is not None else mid,
            base_volume=sum((c.volume for c in hours), Decimal(0)),
            quote_volume=sum((c.quote_volume for c in hours), Decimal(0)),
        )

    def _spot_ctx(self, market: Market, now_ms: int) -> dict[str, Any]:
        stats = self._day_stats(market, now_ms)
        return {
            "prevDayPx": num(stats.prev_day),
            "dayNtlVlm": num(stats.quote_volume),
            "markPx": num(stats.mid),
            "midPx": num(stats.mid),
            "coin": market.coin,
            "dayBaseVlm": num(stats.base_volume),
        }

    def _perp_ctx(self, market: Market, now_ms: int) -> dict[str, Any]:
        stats = self._day_stats(market, now_ms)
        tick = market.pair.tick_size
        return {
            "funding": BASE_FUNDING,
            "openInterest": "0.0",  # no positions in a mock
            "prevDayPx": num(stats.prev_day),
            "dayNtlVlm": num(stats.quote_volume),
            "premium": "0.0",  # mark, oracle and mid are all the model's price
            "oraclePx": num(stats.mid),
            "markPx": num(stats.mid),
            "midPx": num(stats.mid),
            "impactPxs": [num(stats.mid - tick), num(stats.mid + tick)],
            "dayBaseVlm": num(stats.base_volume),
        }

    # -- WebSocket ------------------------------------------------------------------------------
    def open_session(self, path: str, query: str) -> WsSession | WsReject:
        if path != "/ws":
            return WsReject(404)
        return HyperliquidSession(self)

    def resolve(self, coin: str, code: str) -> Subscription | None:
        """The stream a candle subscription names, or None for a coin this product does not serve."""
        market = self.by_coin.get(coin)
        if market is None:
            return None
        return Subscription(market.pair.name, INTERVALS[code])

    def push_period(self, subscription: Subscription) -> float:
        return PUSH_PERIOD

    def encode_push(self, subscription: Subscription, candle: Candle, event_ms: int) -> str:
        row = candle_row(self.coin_of[subscription.pair], subscription.interval.code, candle)
        return orjson.dumps({"channel": "candle", "data": row}).decode()


class HyperliquidSpot(_Hyperliquid):
    """Hyperliquid spot (``api.hyperliquid.xyz``: ``/info`` and ``/ws``), pairs as ``@<index>``."""

    product = SPOT
    exchange = ExchangeType.HYPERLIQUID_SPOT


class HyperliquidPerpetual(_Hyperliquid):
    """Hyperliquid perpetuals (``api.hyperliquid.xyz``: ``/info`` and ``/ws``), pairs as their base."""

    product = PERPETUAL
    exchange = ExchangeType.HYPERLIQUID_PERPETUAL
