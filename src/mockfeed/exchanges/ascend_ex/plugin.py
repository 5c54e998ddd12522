"""AscendEX REST routes and push encoding (spot; a futures product would be another :class:`Product`).

Everything AscendEX answers is ``{"code": 0, "data": ...}``; a success never carries a ``message`` field,
because ccxt treats any non-empty ``message`` as an error even with ``code`` 0.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType

import attrs
import orjson

from mockfeed.exchanges.ascend_ex import errors, faults
from mockfeed.exchanges.ascend_ex.params import Params
from mockfeed.exchanges.ascend_ex.streams import AscendExSession, StreamRules, ws_path_served
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
from mockfeed.exchanges.rows import Layout, RowCache, fixed, integer
from mockfeed.market import Candle, Interval, MarketModel, PairSpec

#: AscendEX interval names (``barhist/info``) and the standard intervals they are. ``1m`` is a MONTH.
INTERVALS: Mapping[str, str] = MappingProxyType({
    "1": "1m", "5": "5m", "15": "15m", "30": "30m", "60": "1h", "120": "2h", "240": "4h",
    "360": "6h", "720": "12h", "1d": "1d", "1w": "1w", "1m": "1M",
})

#: ``cash/products`` ``domain`` by quote asset (anything else trades in the stablecoin domain).
_DOMAINS: Mapping[str, str] = MappingProxyType({"BTC": "BTC", "ETH": "ETH"})

#: ``v2/assets`` names and on-chain scales of the assets mockfeed knows; others use their code and 8.
_ASSETS: Mapping[str, tuple[str, int]] = MappingProxyType({
    "BTC": ("Bitcoin", 8), "ETH": ("Ethereum", 8), "SOL": ("Solana", 8), "BNB": ("BNB", 8),
    "XRP": ("Ripple", 6), "DOGE": ("Dogecoin", 8), "USDT": ("Tether", 4), "USDC": ("USD Coin", 6),
})


@attrs.frozen
class Product:
    """What an AscendEX product serves, as data."""

    exchange: ExchangeType
    default_bars: int  # ``n`` when neither ``n`` nor ``from`` is given
    max_bars: int  # cap on ``n`` and on a ``[from, to]`` range
    push_period: float  # UNVERIFIED: the documentation gives no cadence for ``bar`` pushes
    streams: StreamRules  # heartbeat timings and session limits of the stream endpoint
    # Product-list endpoints of account types mockfeed does not serve: answered with an empty list so
    # that clients need no option changes.
    empty_lists: tuple[str, ...]
    commission_reserve_rate: str  # ccxt reads it as both maker and taker fee
    min_notional: str
    max_notional: str
    max_qty: str


SPOT = Product(
    exchange=ExchangeType.ASCEND_EX_SPOT,
    default_bars=10,
    max_bars=500,
    push_period=1.0,
    streams=StreamRules(),
    empty_lists=(
        "/api/pro/v1/margin/products",
        "/api/pro/v1/futures/contracts",
        "/api/pro/v2/futures/contract",  # ccxt 4.5.63 load_markets reads this one
    ),
    commission_reserve_rate="0.001",
    min_notional="5",
    max_notional="400000",
    max_qty="1000000000",
)


def _fmt(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}"


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros (``0.01``, ``100``)."""
    return f"{value.normalize():f}"


def _ok(data: object) -> RestResponse:
    return json_response(200, {"code": 0, "data": data})


class _AscendEx(ExchangePlugin):
    """The shared AscendEX implementation; subclasses only pick a :class:`Product`."""

    product: Product

    def __init__(self, model: MarketModel, pairs: Iterable[PairSpec]) -> None:
        super().__init__(model, pairs)
        self.exchange = self.product.exchange
        self.heartbeat = None  # AscendEX keeps sessions alive with JSON pings, not protocol pings
        self.stream_rules = self.product.streams
        self.symbols = {self.symbol(p): p for p in self.pairs}
        self.intervals = {name: Interval.parse(code) for name, code in INTERVALS.items()}
        self.interval_names = {interval: name for name, interval in self.intervals.items()}
        self.rows = RowCache(model)  # encoded rows of closed candles
        self._layouts: dict[tuple[str, str], Layout] = {}

    @staticmethod
    def symbol(pair: PairSpec) -> str:
        """The native symbol, ``BTC/USDT``."""
        return f"{pair.base}/{pair.quote}"

    # -- REST -----------------------------------------------------------------------------------
    def routes(self) -> Mapping[tuple[str, str], RestHandler]:
        table: dict[str, Callable[[RestRequest], RestResponse]] = {
            "/api/pro/v1/barhist": self._barhist,
            "/api/pro/v1/barhist/info": self._barhist_info,
            "/api/pro/v1/exchange-info": self._exchange_info,
            "/api/pro/v1/products": self._products,
            "/api/pro/v1/cash/products": self._cash_products,
            "/api/pro/v2/assets": self._assets,
            "/api/pro/v1/risk-limit-info": self._risk_limit_v1,
            "/api/pro/v2/risk-limit-info": self._risk_limit_v2,
        }
        for path in self.product.empty_lists:
            table[path] = self._empty_list
        return {("GET", path): handler for path, handler in table.items()}

    def not_found(self, request: RestRequest) -> RestResponse:
        # UNVERIFIED: AscendEX's body for an unknown path; the general INVALID_HTTP_INPUT error is used.
        return errors.NOT_FOUND.response()

    def method_not_allowed(self, request: RestRequest) -> RestResponse:
        return errors.METHOD_NOT_ALLOWED.response()

    def internal_error(self, request: RestRequest) -> RestResponse:
        return errors.SERVER_ERROR.response()

    def fault_response(self, kind: FaultKind, request: RestRequest) -> RestResponse:
        return faults.FAULTS.get(kind) or self.internal_error(request)

    def _barhist(self, request: RestRequest) -> RestResponse:
        # The bars (or the error) depend only on the query and the market second: reusable.
        try:
            answer = _ok(orjson.Fragment(self.bar_page(request)))
        except errors.AscendExError as error:
            answer = error.response()
        return attrs.evolve(answer, reuse=self.reusable(request))

    def bar_page(self, request: RestRequest) -> bytes:
        """The ``barhist`` rows for a request as a JSON array, oldest first (raises :class:`AscendExError`).

        ``to`` (default now) is the start of the last bar and is always honoured; ``from`` is the
        start of the first. Without ``from`` the newest ``n`` (default 10) bars up to ``to`` come
        back; with ``from`` only, ``[from, to]`` with ``from`` raised so that at most 500 bars come
        back; with both, whichever gives fewer. The forming bar is included when ``to`` reaches it
        (UNVERIFIED; ccxt is indifferent).

        Order is oldest first. The spot documentation's sample lists the newer bar first, but its
        futures sample lists the older first, and real clients rely on oldest first (OsEngine pages
        backwards from element 0; hummingbot's fixtures and history filling assume ascending times).
        """
        params = Params(request.params())
        symbol = params.text("symbol")
        name = params.text("interval")
        end = params.timestamp("to")
        start = params.timestamp("from")
        count = params.count("n")
        pair = self.symbols.get(symbol)
        if pair is None:
            raise errors.bad_symbol(symbol)
        interval = self.intervals.get(name)
        if interval is None:
            raise errors.bad_argument(f"Invalid interval: {name[:64]}")
        product = self.product
        if count is None:
            count = product.max_bars if start is not None else product.default_bars
        limit = min(count, product.max_bars)
        now = request.now_ms
        opens = self.model.open_times(
            pair.name, interval, now_ms=now, limit=limit, end_ms=now if end is None else end
        )
        if start is not None:
            opens = opens[bisect.bisect_left(opens, start):]
        return self.rows.page(pair.name, interval, opens, now, self.bar_layout(pair, name))

    def bar_layout(self, pair: PairSpec, name: str) -> Layout:
        """:meth:`bar` as a :class:`Layout` of the model's integers (one per pair and interval)."""
        layout = self._layouts.get((pair.name, name))
        if layout is None:
            p, v, tick = pair.price_decimals, pair.volume_decimals, pair.tick_size
            symbol, interval = orjson.dumps(self.symbol(pair)).decode(), orjson.dumps(name).decode()
            layout = Layout(
                f'{{"m":"bar","s":{symbol},"data":{{"i":{interval},"ts":', integer(0),
                ',"o":"', fixed(2, tick, p), '","c":"',
                fixed(5, tick, p), '","h":"', fixed(3, tick, p), '","l":"', fixed(4, tick, p),
                '","v":"', fixed(6, pair.lot_size, v), '"}}',
            )
            self._layouts[(pair.name, name)] = layout
        return layout

    def bar(self, pair: PairSpec, name: str, candle: Candle) -> dict[str, object]:
        """One bar as the ``bar`` channel carries it (``v`` is base volume); ``barhist`` rows are
        the same bytes, from :meth:`bar_layout`."""
        p, v = pair.price_decimals, pair.volume_decimals
        return {
            "m": "bar",
            "s": self.symbol(pair),
            "data": {
                "i": name,
                "ts": candle.open_time,
                "o": _fmt(candle.open, p),
                "c": _fmt(candle.close, p),
                "h": _fmt(candle.high, p),
                "l": _fmt(candle.low, p),
                "v": _fmt(candle.volume, v),
            },
        }

    def _barhist_info(self, request: RestRequest) -> RestResponse:
        return _ok([
            {"name": name, "intervalInMillis": interval.ms} for name, interval in self.intervals.items()
        ])

    def _exchange_info(self, request: RestRequest) -> RestResponse:
        """Latency info; ccxt's ``fetch_time`` reads ``requestReceiveAt``."""
        try:
            params = Params(request.params())
            sent = params.timestamp("requestTime")
            if sent is None:
                raise errors.missing("requestTime")
        except errors.AscendExError as error:
            return error.response()
        return _ok({
            "requestTimeEcho": sent,
            "requestReceiveAt": request.now_ms,
            "latency": request.now_ms - sent,
        })

    def _products(self, request: RestRequest) -> RestResponse:
        """The older product list (``status``, ``baseAsset``...), merged by ccxt with ``cash/products``."""
        product = self.product
        return _ok([
            {
                "symbol": self.symbol(p),
                "baseAsset": p.base,
                "quoteAsset": p.quote,
                "status": "Normal",
                "minNotional": product.min_notional,
                "maxNotional": product.max_notional,
                "marginTradable": False,
                "commissionType": "Quote",
                "commissionReserveRate": product.commission_reserve_rate,
                "tickSize": _plain(p.tick_size),
                "lotSize": _plain(p.lot_size),
            }
            for p in self.pairs
        ])

    def _cash_products(self, request: RestRequest) -> RestResponse:
        product = self.product
        return _ok([
            {
                "symbol": self.symbol(p),
                "displayName": self.symbol(p),
                "domain": _DOMAINS.get(p.quote, "USDS"),
                "tradingStartTime": self.model.history_start_ms,
                "collapseDecimals": ",".join(_plain(p.tick_size * k) for k in (100, 10, 1)),
                "minQty": _plain(p.lot_size),
                "maxQty": product.max_qty,
                "minNotional": product.min_notional,
                "maxNotional": product.max_notional,
                "statusCode": "Normal",
                "statusMessage": "",
                "tickSize": _plain(p.tick_size),
                "useTick": False,
                "lotSize": _plain(p.lot_size),
                "useLot": False,
                "commissionType": "Quote",
                "commissionReserveRate": product.commission_reserve_rate,
                "qtyScale": p.volume_decimals,
                "priceScale": p.price_decimals,
                "notionalScale": 4,
            }
            for p in self.pairs
        ])

    def _assets(self, request: RestRequest) -> RestResponse:
        codes = dict.fromkeys(code for p in self.pairs for code in (p.base, p.quote))
        return _ok([
            {
                "assetCode": code,
                "assetName": _ASSETS.get(code, (code, 8))[0],
                "precisionScale": 9,
                "nativeScale": _ASSETS.get(code, (code, 8))[1],
                "blockChain": [],
            }
            for code in codes
        ])

    def _empty_list(self, request: RestRequest) -> RestResponse:
        return _ok([])

    def _ws_limits(self) -> dict[str, object]:
        rules = self.stream_rules
        return {
            "maxWebSocketSessionsPerIpAccountGroup": rules.sessions_per_group,
            "maxWebSocketSessionsPerIpTotal": rules.sessions_total,
        }

    def _risk_limit_v1(self, request: RestRequest) -> RestResponse:
        """The deprecated v1 limit info (hummingbot's health check)."""
        return _ok({
            "ip": request.client,
            "webSocket": {
                "windowSizeInMinutes": 5,
                "maxNumRequests": 45,
                "maxSessionPerIp": self.stream_rules.sessions_per_group,
                "isBanned": False,
                "bannedUntil": -1,
                "violationCode": 0,
                "reason": "",
            },
        })

    def _risk_limit_v2(self, request: RestRequest) -> RestResponse:
        """Ban status, session limits and per-minute message thresholds (never banned here)."""
        rules = self.stream_rules
        return _ok({
            "ip": request.client,
            "webSocket": {
                "status": {"isBanned": False, "bannedUntil": -1, "violationCode": 0, "reason": ""},
                "limits": self._ws_limits(),
                "messageThreshold": {
                    "level1OpThreshold": dict(rules.level1_ops),
                    "level2OpThreshold": dict(rules.level2_ops),
                },
            },
        })

    # -- WebSocket ------------------------------------------------------------------------------
    def open_session(self, path: str, query: str) -> WsSession | WsReject:
        if not ws_path_served(path):
            return WsReject(404, b"Not Found")
        return AscendExSession(self, self.stream_rules)

    def resolve(self, name: str, symbol: str) -> Subscription | None:
        """The stream of interval ``name`` and native ``symbol``, or None if not served."""
        pair = self.symbols.get(symbol)
        interval = self.intervals.get(name)
        if pair is None or interval is None:
            return None
        return Subscription(pair.name, interval)

    def push_period(self, subscription: Subscription) -> float:
        return self.product.push_period

    def encode_push(self, subscription: Subscription, candle: Candle, event_ms: int) -> str:
        # There is no closed flag: the last push of a bar is simply followed by the next bar's.
        pair = self.model.pair(subscription.pair).spec
        name = self.interval_names[subscription.interval]
        return orjson.dumps(self.bar(pair, name, candle)).decode()


class AscendExSpot(_AscendEx):
    """AscendEX spot (``ascendex.com``: REST ``/api/pro/v1``, streams ``/api/pro/v1|v2/stream``)."""

    product = SPOT
    exchange = ExchangeType.ASCEND_EX_SPOT
