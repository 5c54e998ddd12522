"""Coinbase Advanced Trade: public REST routes and candle push encoding.

Served (``https://api.coinbase.com`` → mockfeed's REST origin):

* ``/api/v3/brokerage/market/products/{product_id}/candles``: ``start``/``end`` in UNIX seconds,
  ``granularity`` enum, ``limit`` ≤ 350; newest first; every value a string.
* ``/api/v3/brokerage/market/products[/{product_id}]`` and ``/api/v3/brokerage/time``.
* The ``/v2`` public endpoints ccxt's ``load_markets`` and ``fetch_time`` call: ``/v2/currencies``,
  ``/v2/currencies/crypto``, ``/v2/exchange-rates``, ``/v2/time``.

WebSocket (``wss://advanced-trade-ws.coinbase.com`` → mockfeed's WS origin, path ``/``): see
:mod:`mockfeed.exchanges.coinbase.streams`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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
from mockfeed.exchanges.coinbase import catalog, errors, faults
from mockfeed.exchanges.coinbase.limits import CoinbaseLimits
from mockfeed.exchanges.coinbase.params import Query
from mockfeed.exchanges.coinbase.streams import CANDLE_INTERVAL, SEQUENCE_PLACEHOLDER, CoinbaseSession
from mockfeed.exchanges.coinbase.wire import rfc3339, rfc3339_nano, ws_candle
from mockfeed.exchanges.exchange_type import ExchangeType
from mockfeed.exchanges.rows import Layout, RowCache, integer, plain
from mockfeed.market import Candle, MarketModel, PairSpec

BROKERAGE = "/api/v3/brokerage"
MARKET = f"{BROKERAGE}/market"
#: Seconds between pushes of the forming five-minute candle ("updated every second").
PUSH_PERIOD = 1.0
#: ``product_type`` values the products listing accepts; only ``SPOT`` products are served.
PRODUCT_TYPES = frozenset({"SPOT", "FUTURE", "UNKNOWN_PRODUCT_TYPE"})
WS_PATHS = frozenset({"", "/"})


class CoinbaseAdvancedTrade(ExchangePlugin):
    """Coinbase Advanced Trade spot (``api.coinbase.com``, ``advanced-trade-ws.coinbase.com``).

    Product ids are the canonical pair names (``BTC-USDT``), which is Coinbase's own spelling.
    """

    ws_connection_limit = (8, 1.0)  # "8 connections per second per IP"

    exchange = ExchangeType.COINBASE_ADVANCED_TRADE
    #: Seconds a subscribed connection may go without any message before it is closed: Coinbase
    #: says "most channels close within 60-90 s if no updates are sent" (the lower end; tests may
    #: lower it on an instance).
    channel_idle_s: float = 60.0

    def __init__(self, model: MarketModel, pairs: Iterable[PairSpec]) -> None:
        super().__init__(model, pairs)
        self.products: dict[str, PairSpec] = {p.name: p for p in self.pairs}
        self.limits = CoinbaseLimits()
        self.rows = RowCache(model)  # encoded rows of closed candles
        self.layouts = {p.name: self.row_layout(p) for p in self.pairs}

    @staticmethod
    def row_layout(pair: PairSpec) -> Layout:
        """One REST candle as a :class:`Layout` of the model's integers: every value a string,
        ``start`` in UNIX seconds, numbers plain (:func:`~mockfeed.exchanges.coinbase.wire.plain`),
        Coinbase's key order."""
        tick = pair.tick_size
        return Layout(
            '{"start":"', integer(0, 1000), '","low":"', plain(4, tick), '","high":"', plain(3, tick),
            '","open":"', plain(2, tick), '","close":"', plain(5, tick), '","volume":"',
            plain(6, pair.lot_size), '"}',
        )

    # -- REST -----------------------------------------------------------------------------------
    def routes(self) -> Mapping[tuple[str, str], RestHandler]:
        return {
            ("GET", f"{BROKERAGE}/time"): self._time,
            ("GET", f"{MARKET}/products"): self._products,
            ("GET", f"{MARKET}/products/{{product_id}}"): self._product,
            ("GET", f"{MARKET}/products/{{product_id}}/candles"): self._candles,
            ("GET", "/v2/time"): self._v2_time,
            ("GET", "/v2/currencies"): self._v2_fiat,
            ("GET", "/v2/currencies/crypto"): self._v2_crypto,
            ("GET", "/v2/exchange-rates"): self._v2_rates,
        }

    def not_found(self, request: RestRequest) -> RestResponse:
        if request.path.startswith("/v2/"):
            return errors.V2_NOT_FOUND.response()
        return errors.NOT_FOUND.response()

    def method_not_allowed(self, request: RestRequest) -> RestResponse:
        return errors.METHOD_NOT_ALLOWED.response()

    def internal_error(self, request: RestRequest) -> RestResponse:
        return errors.INTERNAL.response()

    def fault_response(self, kind: FaultKind, request: RestRequest) -> RestResponse:
        return faults.FAULTS.get(kind) or self.internal_error(request)

    def limit_request(self, request: RestRequest) -> RestResponse | None:
        return self.limits.check(request)

    def _time(self, request: RestRequest) -> RestResponse:
        now = request.now_ms
        return json_response(
            200,
            {"iso": rfc3339(now), "epochSeconds": str(now // 1000), "epochMillis": str(now)},
        )

    def _products(self, request: RestRequest) -> RestResponse:
        try:
            query = Query(request.params())
            kind = query.text("product_type")
            if kind is not None and kind not in PRODUCT_TYPES:
                raise errors.argument("product_type")
            wanted = set(query.texts("product_ids"))
            limit = query.count("limit")
            offset = query.count("offset")
        except errors.CoinbaseError as error:
            return error.response()
        spot = kind in (None, "SPOT", "UNKNOWN_PRODUCT_TYPE")  # only FUTURE asks for the other type
        pairs = [p for p in self.pairs if spot and (not wanted or p.name in wanted)]
        page = pairs[offset: offset + limit] if limit else pairs[offset:]
        rows = [catalog.product_row(self.model, p, request.now_ms) for p in page]
        return json_response(
            200,
            {
                "products": rows,
                "num_products": len(pairs),
                "pagination": {"prev_cursor": "", "next_cursor": "", "has_next": False, "has_prev": False},
            },
        )

    def _product(self, request: RestRequest) -> RestResponse:
        product_id = request.path_params["product_id"]
        pair = self.products.get(product_id)
        if pair is None:
            return errors.product_not_found(product_id).response()
        return json_response(200, catalog.product_row(self.model, pair, request.now_ms))

    def _candles(self, request: RestRequest) -> RestResponse:
        # The page, or its error, depends only on the path, query and market second: reusable.
        try:
            answer = json_response(200, {"candles": orjson.Fragment(self.candle_page(request))})
        except errors.CoinbaseError as error:
            answer = error.response()
        return attrs.evolve(answer, reuse=self.reusable(request))

    def candle_page(self, request: RestRequest) -> bytes:
        """Buckets overlapping ``[start, end)`` as a JSON array, newest first, the forming one included.

        UNVERIFIED choices (ccxt is indifferent): ``end`` is exclusive, so a span of N buckets
        returns N rows; the bucket containing an unaligned ``start`` is included (as on the Exchange
        API); ``limit`` keeps the newest buckets; ``limit`` 0 means unset (proto3), above 350 is refused.
        """
        pair = self.products.get(request.path_params["product_id"])
        if pair is None:
            raise errors.INVALID_PRODUCT
        query = Query(request.params())
        interval = query.granularity()
        start, end = query.seconds("start"), query.seconds("end")
        limit = query.count("limit") or errors.MAX_CANDLES
        if start is None or end is None:
            raise errors.time_range("start and end must both be set")
        if start > end:
            raise errors.time_range("start must be before end")
        if end - start > errors.MAX_CANDLES * interval.seconds:
            raise errors.TOO_MANY_CANDLES
        if limit > errors.MAX_CANDLES:
            raise errors.argument("limit")
        if end == start:
            return b"[]"
        now = request.now_ms
        first = interval.floor(start * 1000)
        last = min(interval.floor(end * 1000 - 1), interval.floor(now))
        if last < first:
            return b"[]"
        count = min(limit, (last - first) // interval.ms + 1)
        opens = self.model.open_times(pair.name, interval, now_ms=now, limit=count, end_ms=last)
        return self.rows.page(pair.name, interval, opens, now, self.layouts[pair.name], newest_first=True)

    def _v2_time(self, request: RestRequest) -> RestResponse:
        now = request.now_ms
        return json_response(200, {"data": {"iso": rfc3339(now), "epoch": now // 1000}})

    def _v2_fiat(self, request: RestRequest) -> RestResponse:
        return json_response(200, {"data": catalog.fiat_rows()})

    def _v2_crypto(self, request: RestRequest) -> RestResponse:
        return json_response(200, {"data": catalog.crypto_rows(self.pairs)})

    def _v2_rates(self, request: RestRequest) -> RestResponse:
        values = catalog.usd_values(self.model, self.pairs, request.now_ms)
        found = request.params().get("currency") or ["USD"]
        currency = found[-1].upper()
        if currency not in values or not values[currency]:
            return errors.V2_INVALID_CURRENCY.response()
        rates = catalog.exchange_rates(values, currency)
        return json_response(200, {"data": {"currency": currency, "rates": rates}})

    # -- WebSocket ------------------------------------------------------------------------------
    def open_session(self, path: str, query: str) -> WsSession | WsReject:
        if path not in WS_PATHS:
            return WsReject(404, b"Not Found")
        return CoinbaseSession(self)

    def subscription(self, product_id: str) -> Subscription:
        """The shared stream of one product's five-minute candles."""
        return Subscription(self.products[product_id].name, CANDLE_INTERVAL, "candles")

    def push_period(self, subscription: Subscription) -> float:
        return PUSH_PERIOD

    def encode_push(self, subscription: Subscription, candle: Candle, event_ms: int) -> str:
        """An ``update`` of one product's bucket, with the sequence placeholder personalize fills."""
        body = orjson.dumps(
            {
                "channel": "candles",
                "client_id": "",
                "timestamp": rfc3339_nano(event_ms),
                "sequence_num": 0,
                "events": [{"type": "update", "candles": [ws_candle(candle, subscription.pair)]}],
            }
        ).decode()
        assert SEQUENCE_PLACEHOLDER in body
        return body
