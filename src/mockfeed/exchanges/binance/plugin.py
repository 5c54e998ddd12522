"""Binance REST routes and push encoding, shared by spot and USDⓈ-M perpetual.

A product is a table (:class:`Product`): API prefix, limits, intervals, push cadence, heartbeat,
weights. Everything else is shared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

import attrs
import orjson

from mockfeed.exchanges.base import (
    ExchangePlugin,
    Heartbeat,
    RestHandler,
    RestRequest,
    RestResponse,
    Subscription,
    WsReject,
    WsSession,
    json_response,
)
from mockfeed.exchanges.binance import errors, faults
from mockfeed.exchanges.binance.limits import TABLES, BinanceLimits
from mockfeed.exchanges.binance.params import Params
from mockfeed.exchanges.binance.streams import BinanceSession, parse_ws_path, stream_name
from mockfeed.exchanges.exchange_type import ExchangeType
from mockfeed.exchanges.rows import Layout, RowCache, RowEncoder, fixed, integer
from mockfeed.market import STANDARD_CODES, Candle, Interval, MarketModel, PairSpec

_PERPETUAL_DELIVERY = 4133404800000
_ONBOARD_MS = 1569398400000


@attrs.frozen
class Product:
    """What differs between Binance products, as data."""

    exchange: ExchangeType
    prefix: str  # "/api/v3" or "/fapi/v1"
    other_prefixes: tuple[str, ...]  # served with an empty exchangeInfo so ccxt's load_markets works
    default_limit: int
    max_limit: int
    clamp_limit: bool  # spot silently caps an oversized limit; futures refuse it with -1130
    intervals: tuple[str, ...]
    push_period: float
    push_period_1s: float
    heartbeat: Heartbeat
    exchange_info_weight: int
    ws_prefixes: tuple[str, ...]
    rejects_unknown_info_symbol: bool
    time_zones: bool  # klines ``timeZone`` and ``@+08:00`` streams (spot only)
    microsecond_times: bool  # spot also takes startTime/endTime in µs


SPOT = Product(
    exchange=ExchangeType.BINANCE_SPOT,
    prefix="/api/v3",
    other_prefixes=("/fapi/v1", "/dapi/v1"),
    default_limit=500,
    max_limit=1000,
    clamp_limit=True,
    intervals=STANDARD_CODES,
    push_period=2.0,
    push_period_1s=1.0,
    heartbeat=Heartbeat(interval=20.0, timeout=60.0),
    exchange_info_weight=20,
    ws_prefixes=("",),
    rejects_unknown_info_symbol=True,
    time_zones=True,
    microsecond_times=True,
)

PERPETUAL = Product(
    exchange=ExchangeType.BINANCE_PERPETUAL,
    prefix="/fapi/v1",
    other_prefixes=("/api/v3", "/dapi/v1"),
    default_limit=500,
    max_limit=1500,
    clamp_limit=False,
    intervals=tuple(code for code in STANDARD_CODES if code != "1s"),
    push_period=0.25,
    push_period_1s=0.25,
    heartbeat=Heartbeat(interval=180.0, timeout=600.0),
    exchange_info_weight=1,
    ws_prefixes=("/market", ""),
    rejects_unknown_info_symbol=False,
    time_zones=False,
    microsecond_times=False,
)


_MICROSECONDS_FROM = 10**15  # a time this large is in µs (10**15 ms is the year 33658)


def _to_ms(value: int | None) -> int | None:
    return value // 1000 if value is not None and value >= _MICROSECONDS_FROM else value


def _fmt(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}"


class _Binance(ExchangePlugin):
    """The shared Binance implementation; subclasses only pick a :class:`Product`."""

    product: Product
    ws_lifetime = 24 * 3600.0  # "a single connection is only valid for 24 hours"

    def __init__(self, model: MarketModel, pairs: Iterable[PairSpec]) -> None:
        super().__init__(model, pairs)
        self.exchange = self.product.exchange
        self.heartbeat = self.product.heartbeat
        self.symbols = {p.base + p.quote: p for p in self.pairs}
        self.intervals = {code: Interval.parse(code) for code in self.product.intervals}
        self.limits = BinanceLimits(TABLES[self.exchange], self.product.prefix)
        self.rows = RowCache(model)
        self._encoders: dict[str, RowEncoder] = {}

    # -- formatting -----------------------------------------------------------------------------
    def _places(self, pair: PairSpec) -> tuple[int, int, int]:
        """Decimal places of (price, base volume, quote volume) on the wire."""
        if self.exchange is ExchangeType.BINANCE_SPOT:
            return 8, 8, 8
        return pair.price_decimals, pair.volume_decimals, pair.quote_decimals

    def kline_row(self, pair: PairSpec, candle: Candle) -> list[object]:
        """One REST kline row, Binance's 12-field array."""
        p, v, q = self._places(pair)
        return [
            candle.open_time,
            _fmt(candle.open, p),
            _fmt(candle.high, p),
            _fmt(candle.low, p),
            _fmt(candle.close, p),
            _fmt(candle.volume, v),
            candle.close_time,
            _fmt(candle.quote_volume, q),
            candle.trades,
            _fmt(candle.taker_buy_volume, v),
            _fmt(candle.taker_buy_quote_volume, q),
            "0",
        ]

    def row_encoder(self, pair: PairSpec) -> RowEncoder:
        """:meth:`kline_row` as bytes: a :class:`Layout` of the raw integers when the places allow."""
        encoder = self._encoders.get(pair.name)
        if encoder is None:
            p, v, q = self._places(pair)
            tick, lot = pair.tick_size, pair.lot_size
            try:
                o, h, low, c = (fixed(column, tick, p) for column in (2, 3, 4, 5))
                vol, buy = fixed(6, lot, v), fixed(9, lot, v)
                quote, buy_quote = fixed(7, tick * lot, q), fixed(10, tick * lot, q)
            except ValueError:  # more decimals than places: leave the rounding to Decimal
                encoder = lambda candle: orjson.dumps(self.kline_row(pair, candle))  # noqa: E731
            else:
                encoder = Layout(
                    "[", integer(0), ',"', o, '","', h, '","', low, '","', c, '","', vol, '",',
                    integer(1), ',"', quote, '",', integer(8), ',"', buy, '","', buy_quote, '","0"]',
                )
            self._encoders[pair.name] = encoder
        return encoder

    # -- REST -----------------------------------------------------------------------------------
    def routes(self) -> Mapping[tuple[str, str], RestHandler]:
        prefix = self.product.prefix
        table: dict[tuple[str, str], RestHandler] = {
            ("GET", f"{prefix}/ping"): self._ping,
            ("GET", f"{prefix}/time"): self._time,
            ("GET", f"{prefix}/exchangeInfo"): self._exchange_info,
            ("GET", f"{prefix}/klines"): self._klines,
        }
        if self.exchange is ExchangeType.BINANCE_SPOT:
            table[("GET", f"{prefix}/uiKlines")] = self._klines
        for other in self.product.other_prefixes:
            table[("GET", f"{other}/exchangeInfo")] = self._empty_exchange_info
        return table

    def not_found(self, request: RestRequest) -> RestResponse:
        return RestResponse(404, b"", content_type="text/html")

    def method_not_allowed(self, request: RestRequest) -> RestResponse:
        return RestResponse(405, b"", content_type="text/html")

    def fault_response(self, kind: str, request: RestRequest) -> RestResponse:
        fault = faults.FAULTS.get(kind)
        return self.internal_error(request) if fault is None else fault.response()

    def internal_error(self, request: RestRequest) -> RestResponse:
        return errors.BinanceError(
            -1000, "An unknown error occurred while processing the request.", 500
        ).response()

    def limit_request(self, request: RestRequest) -> RestResponse | None:
        return self.limits.check(request)

    def farewell(self, now_ms: int) -> str | None:
        return orjson.dumps({"e": "serverShutdown", "E": now_ms}).decode()

    def _answer(self, request: RestRequest, weight: int, body: object) -> RestResponse:
        return json_response(200, body, self.limits.charge(request, weight))

    def _refuse(self, request: RestRequest, error: errors.BinanceError) -> RestResponse:
        return attrs.evolve(error.response(), headers=self.limits.charge(request, 1))

    def _ping(self, request: RestRequest) -> RestResponse:
        return self._answer(request, 1, {})

    def _time(self, request: RestRequest) -> RestResponse:
        return self._answer(request, 1, {"serverTime": request.now_ms})

    def _klines(self, request: RestRequest) -> RestResponse:
        try:
            return self._klines_checked(request)
        except errors.BinanceError as error:
            return self._refuse(request, error)

    def _klines_checked(self, request: RestRequest) -> RestResponse:
        params = Params(request.params())
        symbol = params.symbol(required=True)
        code = params.text("interval", required=True)
        start = params.integer("startTime")
        end = params.integer("endTime")
        if self.product.microsecond_times:
            start, end = _to_ms(start), _to_ms(end)
        limit = params.integer("limit")
        zone = params.time_zone() if self.product.time_zones else 0
        assert symbol is not None and code is not None
        pair = self.symbols.get(symbol)
        if pair is None:
            raise errors.INVALID_SYMBOL
        interval = self.intervals.get(code)
        if interval is None:
            raise errors.INVALID_INTERVAL
        if limit is None:
            limit = self.product.default_limit
        elif limit < 1 or (limit > self.product.max_limit and not self.product.clamp_limit):
            raise errors.invalid_data("limit")
        limit = min(limit, self.product.max_limit)
        if start is not None and end is not None and start > end:
            raise errors.START_AFTER_END
        if zone:
            interval = interval.in_zone(zone)
        opens = self.model.open_times(
            pair.name, interval, now_ms=request.now_ms, limit=limit, start_ms=start, end_ms=end
        )
        body = self.rows.page(pair.name, interval, opens, request.now_ms, self.row_encoder(pair))
        weight = self.limits.table.klines_weight(limit)
        headers = self.limits.charge(request, weight)
        return RestResponse(200, body, headers, reuse=self.reusable(request, self.limits.charger(weight)))

    def _exchange_info(self, request: RestRequest) -> RestResponse:
        try:
            params = Params(request.params())
            wanted = self._wanted_symbols(params)
        except errors.BinanceError as error:
            return self._refuse(request, error)
        pairs = [p for s, p in self.symbols.items() if wanted is None or s in wanted]
        body = self._info_envelope(request.now_ms, [self._symbol_info(p) for p in pairs])
        return self._answer(request, self.product.exchange_info_weight, body)

    def _wanted_symbols(self, params: Params) -> set[str] | None:
        one = params.symbol("symbol", required=False)
        many = params.text("symbols")
        if one is None and many is None:
            return None
        names: set[str] = set()
        if one is not None:
            names.add(one)
        if many is not None:
            try:
                listed = orjson.loads(many)
            except orjson.JSONDecodeError:
                raise errors.illegal("symbols", errors.SYMBOL_RANGE) from None
            if not isinstance(listed, list) or not all(isinstance(s, str) for s in listed):
                raise errors.illegal("symbols", errors.SYMBOL_RANGE)
            names.update(listed)
        if not self.product.rejects_unknown_info_symbol:
            return None  # USDⓈ-M ignores the filter (live behaviour)
        if not names <= self.symbols.keys():
            raise errors.INVALID_SYMBOL
        return names

    def _empty_exchange_info(self, request: RestRequest) -> RestResponse:
        return self._answer(request, 1, self._info_envelope(request.now_ms, []))

    def _info_envelope(self, now_ms: int, symbols: list[dict[str, object]]) -> dict[str, object]:
        spot = self.exchange is ExchangeType.BINANCE_SPOT
        futures: dict[str, object] = {} if spot else {
            "futuresType": "U_MARGINED",
            "assets": [
                {"asset": quote, "marginAvailable": True, "autoAssetExchange": "0"}
                for quote in dict.fromkeys(p.quote for p in self.pairs)
            ],
        }
        limit = self.limits.table.weight_per_minute
        return {
            **futures,
            "timezone": "UTC",
            "serverTime": now_ms,
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                 "limit": limit},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            ],
            "exchangeFilters": [],
            "symbols": symbols,
        }

    def _symbol_info(self, pair: PairSpec) -> dict[str, object]:
        tick, lot = str(pair.tick_size), str(pair.lot_size)
        if self.exchange is ExchangeType.BINANCE_SPOT:
            return {
                "symbol": pair.base + pair.quote,
                "status": "TRADING",
                "baseAsset": pair.base,
                "baseAssetPrecision": 8,
                "quoteAsset": pair.quote,
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8,
                "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
                "icebergAllowed": True,
                "ocoAllowed": True,
                "quoteOrderQtyMarketAllowed": True,
                "allowTrailingStop": True,
                "cancelReplaceAllowed": True,
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "1000000.00000000",
                     "tickSize": tick},
                    {"filterType": "LOT_SIZE", "minQty": lot, "maxQty": "9000.00000000",
                     "stepSize": lot},
                    {"filterType": "NOTIONAL", "minNotional": "5.00000000",
                     "applyMinToMarket": True, "maxNotional": "9000000.00000000",
                     "applyMaxToMarket": False, "avgPriceMins": 5},
                ],
                "permissions": [],
                "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
            }
        return {
            "symbol": pair.base + pair.quote,
            "pair": pair.base + pair.quote,
            "contractType": "PERPETUAL",
            "deliveryDate": _PERPETUAL_DELIVERY,
            "onboardDate": _ONBOARD_MS,
            "status": "TRADING",
            "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000",
            "baseAsset": pair.base,
            "quoteAsset": pair.quote,
            "marginAsset": pair.quote,
            "pricePrecision": pair.price_decimals,
            "quantityPrecision": pair.volume_decimals,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "underlyingSubType": [],
            "settlePlan": 0,
            "triggerProtect": "0.0500",
            "liquidationFee": "0.012500",
            "marketTakeBound": "0.05",
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "4529764",
                 "tickSize": tick},
                {"filterType": "LOT_SIZE", "minQty": lot, "maxQty": "1000", "stepSize": lot},
                {"filterType": "MARKET_LOT_SIZE", "minQty": lot, "maxQty": "120", "stepSize": lot},
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
                {"filterType": "MIN_NOTIONAL", "notional": "100"},
                {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500",
                 "multiplierDecimal": "4"},
            ],
            "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT",
                           "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        }

    # -- WebSocket ------------------------------------------------------------------------------
    def open_session(self, path: str, query: str) -> WsSession | WsReject:
        parsed = parse_ws_path(path, query, self.product.ws_prefixes)
        if parsed is None:
            return WsReject(404, b"Not Found")
        combined, streams = parsed
        return BinanceSession(self, combined, streams)

    def resolve_stream(self, name: str) -> tuple[PairSpec, Interval] | None:
        """The pair and interval a stream name refers to, or None if nothing is served there."""
        symbol, sep, kind = name.partition("@kline_")
        if not sep or symbol != symbol.lower():
            return None
        code, _, zone = kind.partition("@")
        pair = self.symbols.get(symbol.upper())
        interval = self.intervals.get(code)
        if pair is None or interval is None:
            return None
        if zone:
            if zone != "+08:00" or not self.product.time_zones:
                return None
            interval = interval.in_zone(8 * 3_600_000)
        return pair, interval

    def push_period(self, subscription: Subscription) -> float:
        if subscription.interval.seconds == 1:
            return self.product.push_period_1s
        return self.product.push_period

    def encode_push(self, subscription: Subscription, candle: Candle, event_ms: int) -> str:
        pair = self.model.pair(subscription.pair).spec
        symbol = pair.base + pair.quote
        p, v, q = self._places(pair)
        # Trade ids: deterministic, increasing with time, disjoint below 1000 trades a second;
        # -1/-1 for a candle without trades, as Binance sends.
        first = candle.open_time if candle.trades else -1
        last = first + candle.trades - 1 if candle.trades else -1
        event = {
            "e": "kline",
            "E": event_ms,
            "s": symbol,
            "k": {
                "t": candle.open_time,
                "T": candle.close_time,
                "s": symbol,
                "i": subscription.interval.code,
                "f": first,
                "L": last,
                "o": _fmt(candle.open, p),
                "c": _fmt(candle.close, p),
                "h": _fmt(candle.high, p),
                "l": _fmt(candle.low, p),
                "v": _fmt(candle.volume, v),
                "n": candle.trades,
                "x": candle.closed,
                "q": _fmt(candle.quote_volume, q),
                "V": _fmt(candle.taker_buy_volume, v),
                "Q": _fmt(candle.taker_buy_quote_volume, q),
                "B": "0",
            },
        }
        if subscription.style == "combined":
            name = stream_name(symbol, subscription.interval)
            return orjson.dumps({"stream": name, "data": event}).decode()
        return orjson.dumps(event).decode()


class BinanceSpot(_Binance):
    """Binance spot (``api.binance.com``, ``stream.binance.com``)."""
    ws_connection_limit = (300, 300.0)  # "300 connection attempts per 5 minutes per IP"

    product = SPOT
    exchange = ExchangeType.BINANCE_SPOT


class BinancePerpetual(_Binance):
    """Binance USDⓈ-M perpetual futures (``fapi.binance.com``, ``fstream.binance.com/market``)."""

    product = PERPETUAL
    exchange = ExchangeType.BINANCE_PERPETUAL
