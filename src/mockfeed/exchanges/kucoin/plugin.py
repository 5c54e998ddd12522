"""KuCoin REST routes and push encoding, shared by spot and Futures USDT-margined perpetuals.

A product is a table (:class:`Product`): the klines path and its parameter names and units, the row
and push layouts, interval codes, the WebSocket topic, cadence and weights. Everything else is
shared, including the listings ccxt's ``load_markets`` reads: each mock also answers the other
product's listing paths with an empty list, because ccxt's spot class loads futures contracts and its
futures class loads spot currencies, and a user only rewrites URLs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from urllib.parse import parse_qs

import attrs
import orjson

from mockfeed.exchanges.base import (
    ExchangePlugin,
    FaultKind,
    Headers,
    RestHandler,
    RestRequest,
    RestResponse,
    ReuseHeaders,
    Subscription,
    WsReject,
    WsSession,
    json_response,
)
from mockfeed.exchanges.exchange_type import ExchangeType
from mockfeed.exchanges.kucoin import catalog, errors, faults, wire
from mockfeed.exchanges.kucoin.params import Params
from mockfeed.exchanges.kucoin.quota import PoolMeter
from mockfeed.exchanges.kucoin.streams import KucoinSession
from mockfeed.exchanges.kucoin.tokens import TokenIssuer
from mockfeed.exchanges.rows import RowCache, RowEncoder
from mockfeed.market import Candle, Interval, MarketModel, PairSpec

OK = "200000"
PING_INTERVAL_MS = 18_000
PING_TIMEOUT_MS = 10_000
WS_PATHS = ("/", "/endpoint")  # today's ws-api-*.kucoin.com/ and the older push*.kucoin.com/endpoint

TIMESTAMP = "/api/v1/timestamp"
STATUS = "/api/v1/status"
BULLET = "/api/v1/bullet-public"
CURRENCIES = "/api/v3/currencies"
SYMBOLS = "/api/v2/symbols"
TICKERS = "/api/v1/market/allTickers"
CONTRACTS = "/api/v1/contracts/active"
SPOT_KLINES = "/api/v1/market/candles"
FUTURES_KLINES = "/api/v1/kline/query"

#: Spot candle ``type`` codes (REST and WebSocket); 1week opens on Monday 00:00 UTC (UNVERIFIED).
SPOT_TYPES = MappingProxyType({
    "1min": "1m", "3min": "3m", "5min": "5m", "15min": "15m", "30min": "30m", "1hour": "1h",
    "2hour": "2h", "4hour": "4h", "6hour": "6h", "8hour": "8h", "12hour": "12h", "1day": "1d",
    "1week": "1w", "1month": "1M",
})
#: Futures REST ``granularity`` in minutes (no 3m, 6h or month).
GRANULARITIES = MappingProxyType({
    "1": "1m", "5": "5m", "15": "15m", "30": "30m", "60": "1h", "120": "2h", "240": "4h",
    "480": "8h", "720": "12h", "1440": "1d", "10080": "1w",
})
#: Futures WebSocket topic types: the spot spellings of the REST granularities (the official list
#: is not enumerated; UNVERIFIED).
FUTURES_TYPES = MappingProxyType(
    {code: std for code, std in SPOT_TYPES.items() if std in GRANULARITIES.values()}
)


@attrs.frozen
class Product:
    """What differs between KuCoin products, as data."""

    exchange: ExchangeType
    symbol: Callable[[PairSpec], str]
    klines_path: str
    interval_param: str  # "type" or "granularity"
    read_interval: Callable[[Params, str], str | None]  # granularity is an integer ("01" binds as 1)
    start_param: str
    end_param: str
    time_unit_ms: int  # 1000: times in seconds; 1: in ms
    max_rows: int
    newest_first: bool
    intervals: Mapping[str, str]  # REST code -> standard code
    row_encoder: Callable[[PairSpec], RowEncoder]  # REST rows as bytes (cached per closed candle)
    bad_symbol: errors.KucoinError
    bad_interval: errors.KucoinError
    lists_spot: bool  # symbols and tickers list the pairs (else an empty list)
    lists_contracts: bool  # contracts/active lists them (else an empty list)
    timestamp_extra: Mapping[str, str]
    weights: Mapping[str, int]
    topic_prefix: str
    subject: str
    ws_types: Mapping[str, str]  # topic type -> standard code
    push_candles: Callable[[PairSpec, Candle], list[str]]
    push_time_per_ms: int  # data.time: ns on spot (19 digits), ms on futures
    push_period: float


SPOT = Product(
    exchange=ExchangeType.KUCOIN_SPOT,
    symbol=wire.spot_symbol,
    klines_path=SPOT_KLINES,
    interval_param="type",
    read_interval=Params.text,
    start_param="startAt",
    end_param="endAt",
    time_unit_ms=1000,
    max_rows=1500,
    newest_first=True,
    intervals=SPOT_TYPES,
    row_encoder=wire.spot_layout,
    bad_symbol=errors.PAIR_NOT_PROVIDED,
    bad_interval=errors.TYPE_NOT_PROVIDED,
    lists_spot=True,
    lists_contracts=False,
    timestamp_extra=MappingProxyType({"msg": "success"}),
    weights=MappingProxyType({
        TIMESTAMP: 3, STATUS: 3, BULLET: 10, CURRENCIES: 3, SYMBOLS: 4, TICKERS: 15, CONTRACTS: 3,
        SPOT_KLINES: 3,
    }),
    topic_prefix="/market/candles:",
    subject="trade.candles.update",
    ws_types=SPOT_TYPES,
    push_candles=wire.spot_candle,
    push_time_per_ms=1_000_000,
    # KuCoin pushes spot candles per trade; the model's forming candle moves once a second.
    push_period=1.0,
)

# KuCoin's 2025 spec says 500 rows per futures request; its older docs, ccxt (which pages by 200)
# and a 2026 measurement of production say 200. The client wins: 200.
PERPETUAL = Product(
    exchange=ExchangeType.KUCOIN_PERPETUAL,
    symbol=wire.futures_symbol,
    klines_path=FUTURES_KLINES,
    interval_param="granularity",
    read_interval=Params.number_text,
    start_param="from",
    end_param="to",
    time_unit_ms=1,
    max_rows=200,
    newest_first=False,
    intervals=GRANULARITIES,
    row_encoder=wire.futures_encoder,
    bad_symbol=errors.CONTRACT_INVALID,
    bad_interval=errors.GRANULARITY_INVALID,
    lists_spot=False,
    lists_contracts=True,
    timestamp_extra=MappingProxyType({}),
    weights=MappingProxyType({
        TIMESTAMP: 2, STATUS: 4, BULLET: 10, CURRENCIES: 3, SYMBOLS: 4, TICKERS: 15, CONTRACTS: 3,
        FUTURES_KLINES: 3,
    }),
    topic_prefix="/contractMarket/limitCandle:",
    subject="candle.stick",
    ws_types=FUTURES_TYPES,
    push_candles=wire.futures_candle,
    push_time_per_ms=1,
    push_period=1.0,  # KuCoin's x-push_frequency for this topic
)


class _Kucoin(ExchangePlugin):
    """The shared KuCoin implementation; subclasses only pick a :class:`Product`."""
    ws_connection_limit = (30, 60.0)  # "30 connects per minute"

    product: Product

    def __init__(self, model: MarketModel, pairs: Iterable[PairSpec]) -> None:
        super().__init__(model, pairs)
        self.exchange = self.product.exchange
        self.symbols = {self.product.symbol(p): p for p in self.pairs}
        self.intervals = {code: Interval.parse(std) for code, std in self.product.intervals.items()}
        self.ws_types = {code: Interval.parse(std) for code, std in self.product.ws_types.items()}
        self.type_codes = {interval: code for code, interval in self.ws_types.items()}
        self.quota = PoolMeter()
        self.tokens = TokenIssuer(f"mockfeed/{self.exchange}/{model.seed}")
        # Handed out by bullet-public; a connection silent for their sum is closed. Tests may shorten.
        self.ping_interval_ms = PING_INTERVAL_MS
        self.ping_timeout_ms = PING_TIMEOUT_MS
        self.idle_check_s = 1.0
        self.rows = RowCache(model)  # encoded rows of closed candles
        self.row_encoders = {p.name: self.product.row_encoder(p) for p in self.pairs}

    @property
    def idle_limit_ms(self) -> int:
        """Silence after which a WebSocket connection is closed."""
        return self.ping_interval_ms + self.ping_timeout_ms

    # -- REST -----------------------------------------------------------------------------------
    def routes(self) -> Mapping[tuple[str, str], RestHandler]:
        return {
            ("GET", TIMESTAMP): self._timestamp,
            ("GET", STATUS): self._status,
            ("POST", BULLET): self._bullet,
            ("GET", CURRENCIES): self._currencies,
            ("GET", SYMBOLS): self._symbols,
            ("GET", TICKERS): self._tickers,
            ("GET", CONTRACTS): self._contracts,
            ("GET", self.product.klines_path): self._klines,
        }

    def not_found(self, request: RestRequest) -> RestResponse:
        return errors.NOT_FOUND.response()

    def internal_error(self, request: RestRequest) -> RestResponse:
        return errors.INTERNAL.response()

    def fault_response(self, kind: FaultKind, request: RestRequest) -> RestResponse:
        return faults.FAULTS.get(kind) or self.internal_error(request)

    def limit_request(self, request: RestRequest) -> RestResponse | None:
        weight = self.product.weights.get(request.path, 1)
        return self.quota.refusal(request.client, request.now_ms, weight)

    def _charge(self, request: RestRequest) -> Headers:
        return self._charger(request.path)(request.client, request.wall_ms, request.now_ms)

    def _answer(self, request: RestRequest, data: object, **extra: object) -> RestResponse:
        return json_response(200, {"code": OK, **extra, "data": data}, self._charge(request))

    def _timestamp(self, request: RestRequest) -> RestResponse:
        return self._answer(request, request.now_ms, **self.product.timestamp_extra)

    def _status(self, request: RestRequest) -> RestResponse:
        return self._answer(request, {"status": "open", "msg": ""})

    def _bullet(self, request: RestRequest) -> RestResponse:
        server = {
            "endpoint": self.ws_url + "/",
            "encrypt": self.ws_url.startswith("wss:"),
            "protocol": "websocket",
            "pingInterval": self.ping_interval_ms,
            "pingTimeout": self.ping_timeout_ms,
        }
        return self._answer(
            request, {"token": self.tokens.issue(request.now_ms), "instanceServers": [server]}
        )

    def _currencies(self, request: RestRequest) -> RestResponse:
        return self._answer(request, catalog.currencies(self.pairs))

    def _spot_pairs(self) -> tuple[PairSpec, ...]:
        return self.pairs if self.product.lists_spot else ()

    def _symbols(self, request: RestRequest) -> RestResponse:
        market = Params(request.params()).text("market")
        entries = [catalog.spot_symbol_entry(p) for p in self._spot_pairs()]
        return self._answer(request, [e for e in entries if market in (None, e["market"])])

    def _tickers(self, request: RestRequest) -> RestResponse:
        tickers = [
            catalog.spot_ticker(p, catalog.day_stats(self.model, p, request.now_ms))
            for p in self._spot_pairs()
        ]
        return self._answer(request, {"time": request.now_ms, "ticker": tickers})

    def _contracts(self, request: RestRequest) -> RestResponse:
        pairs = self.pairs if self.product.lists_contracts else ()
        return self._answer(
            request,
            [catalog.contract(p, catalog.day_stats(self.model, p, request.now_ms), request.now_ms)
             for p in pairs],
        )

    def _klines(self, request: RestRequest) -> RestResponse:
        # The rows (or the error) depend only on the query and the market second: reusable, the
        # quota headers counted again for every request.
        try:
            answer = self._answer(request, orjson.Fragment(self.kline_page(request)))
        except errors.KucoinError as error:
            answer = error.response(self._charge(request))
        return attrs.evolve(answer, reuse=self.reusable(request, self._charger(request.path)))

    def _charger(self, path: str) -> ReuseHeaders:
        """The quota headers of a request on ``path``, as a function of the client and times (kept
        with a reused answer)."""
        weight = self.product.weights.get(path, 1)
        quota = self.quota

        def headers(client: str, wall_ms: int, now_ms: int) -> Headers:
            return quota.add(client, now_ms, weight).headers()

        return headers

    def kline_page(self, request: RestRequest) -> bytes:
        """The rows of a klines request as a JSON array; :class:`errors.KucoinError` if refused."""
        product = self.product
        params = Params(request.params())
        # Values that do not bind fail first (HTTP 400), then the lookups (HTTP 200 business errors).
        start = params.time(product.start_param, product.time_unit_ms)
        end = params.time(product.end_param, product.time_unit_ms)
        code = product.read_interval(params, product.interval_param)
        pair = self.symbols.get(params.text("symbol") or "")
        if pair is None:
            raise product.bad_symbol
        interval = self.intervals.get(code or "")
        if interval is None:
            raise product.bad_interval
        # With a start: the oldest rows from it; without: the newest up to the end (default now).
        opens = self.model.open_times(
            pair.name, interval, now_ms=request.now_ms, limit=product.max_rows, start_ms=start, end_ms=end
        )
        return self.rows.page(
            pair.name, interval, opens, request.now_ms, self.row_encoders[pair.name],
            newest_first=product.newest_first,
        )

    # -- WebSocket ------------------------------------------------------------------------------
    def open_session(self, path: str, query: str) -> WsSession | WsReject:
        if path not in WS_PATHS:
            return WsReject(404, b"Not Found")
        values = parse_qs(query)
        token = values.get("token", [None])[0]
        connect_id = values.get("connectId", [None])[0]
        return KucoinSession(self, token, connect_id)

    def resolve_stream(self, symbol: str, code: str) -> Subscription | None:
        """The stream of a topic item (``BTC-USDT`` and ``1min``), or None if nothing is served there."""
        pair = self.symbols.get(symbol)
        interval = self.ws_types.get(code)
        if pair is None or interval is None:
            return None
        return Subscription(pair.name, interval)

    def push_period(self, subscription: Subscription) -> float:
        return self.product.push_period

    def encode_push(self, subscription: Subscription, candle: Candle, event_ms: int) -> str:
        pair = self.model.pair(subscription.pair).spec
        symbol = self.product.symbol(pair)
        topic = f"{self.product.topic_prefix}{symbol}_{self.type_codes[subscription.interval]}"
        return orjson.dumps({
            "type": "message",
            "topic": topic,
            "subject": self.product.subject,
            "data": {
                "symbol": symbol,
                "candles": self.product.push_candles(pair, candle),
                "time": event_ms * self.product.push_time_per_ms,
            },
        }).decode()


class KucoinSpot(_Kucoin):
    """KuCoin spot (``api.kucoin.com``; WebSocket from ``POST /api/v1/bullet-public``)."""

    product = SPOT
    exchange = ExchangeType.KUCOIN_SPOT


class KucoinPerpetual(_Kucoin):
    """KuCoin Futures USDT-margined perpetuals (``api-futures.kucoin.com``, ``XBTUSDTM``)."""

    product = PERPETUAL
    exchange = ExchangeType.KUCOIN_PERPETUAL
