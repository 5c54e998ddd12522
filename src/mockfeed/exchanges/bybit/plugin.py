"""Bybit v5 market data, shared by spot and the USDT linear perpetual.

A product is a table (:class:`Product`): its category, WebSocket path and the few protocol
details that differ between Bybit's spot and linear gateways. Everything else is shared, because
Bybit serves both from the same ``/v5/market`` endpoints, selected by ``category``.

The REST host answers every category ccxt's default ``load_markets()`` asks for (spot, linear,
inverse, option): the product's own category lists the configured pairs, the others answer an
empty list, so a client changes nothing but URLs.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import uuid
from collections.abc import Callable, Iterable, Mapping

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
from mockfeed.exchanges.bybit import errors, faults
from mockfeed.exchanges.bybit.instruments import linear_item, spot_item
from mockfeed.exchanges.bybit.limits import BybitLimits
from mockfeed.exchanges.bybit.params import Params
from mockfeed.exchanges.bybit.streams import BybitSession
from mockfeed.exchanges.bybit.wire import envelope, plain
from mockfeed.exchanges.exchange_type import ExchangeType
from mockfeed.exchanges.rows import Layout, RowCache, integer
from mockfeed.exchanges.rows import plain as plain_field
from mockfeed.market import Candle, Interval, MarketModel, PairSpec

#: Bybit interval codes (REST ``interval`` and WS topics alike) → the model's codes.
INTERVALS: Mapping[str, str] = {
    "1": "1m", "3": "3m", "5": "5m", "15": "15m", "30": "30m",
    "60": "1h", "120": "2h", "240": "4h", "360": "6h", "720": "12h",
    "D": "1d", "W": "1w", "M": "1M",
}  # fmt: skip

KLINE_CATEGORIES = ("spot", "linear", "inverse")
KLINE_DEFAULT_LIMIT = 200
KLINE_MAX_LIMIT = 1000
INFO_CATEGORIES = ("spot", "linear", "inverse", "option")
INFO_DEFAULT_LIMIT = 500
INFO_MAX_LIMIT = 1000
#: Categories whose instruments-info pages carry ``nextPageCursor`` (spot has no pagination).
PAGINATED = frozenset({"linear", "inverse", "option"})
#: Categories that refuse an unlisted ``symbol`` with 10001 (spec §3.1 for linear); spot answers
#: an empty list (UNVERIFIED; ccxt never sends ``symbol`` there).
REJECTS_UNKNOWN_SYMBOL = frozenset({"linear", "inverse", "option"})
_TOPIC = re.compile(r"^kline\.([^.]+)\.([^.]+)$")


@attrs.frozen
class Product:
    """What differs between Bybit's spot and linear market-data gateways, as data."""

    exchange: ExchangeType
    category: str  # the instruments-info / kline category this product lists
    ws_path: str  # ccxt tells spot klines from contract ones by "spot" in this URL
    instrument: Callable[[PairSpec], dict[str, object]]
    subscribe_ret_msg: str  # spot acks with "subscribe", linear with ""
    pong_has_req_id: bool  # the linear pong echoes req_id, the spot one does not
    max_args: int | None  # spot takes at most 10 topics per subscribe request
    unknown_symbol_msg: str  # ret_msg for a kline topic naming a symbol not listed ({topic})
    push_period: float  # seconds between pushes of a forming candle (docs: "1-60s")


_HANDLER_NOT_FOUND = "error:handler not found,topic:{topic}"

SPOT = Product(
    exchange=ExchangeType.BYBIT_SPOT,
    category="spot",
    ws_path="/v5/public/spot",
    instrument=spot_item,
    subscribe_ret_msg="subscribe",
    pong_has_req_id=False,
    max_args=10,
    unknown_symbol_msg="Invalid symbol :[{topic}]",  # 3P fixtures (spec §3.3)
    push_period=1.0,  # UNVERIFIED within the documented 1-60 s; ccxt is indifferent
)

PERPETUAL = Product(
    exchange=ExchangeType.BYBIT_PERPETUAL,
    category="linear",
    ws_path="/v5/public/linear",
    instrument=linear_item,
    subscribe_ret_msg="",
    pong_has_req_id=True,
    max_args=None,
    unknown_symbol_msg=_HANDLER_NOT_FOUND,  # probed on the linear gateway (3P, 2026)
    push_period=1.0,
)


class _Bybit(ExchangePlugin):
    """The shared Bybit implementation; subclasses only pick a :class:`Product`.

    ``idle_timeout_s``: a connection with no subscription that sends nothing for this long is
    closed (Bybit documents 10 minutes without ping-pong and without data). ``idle_check_s`` is how
    often sessions check. Both may be lowered on an instance before connections open (tests).
    """

    ws_connection_limit = (500, 300.0)  # "500 new connections per 5 min per IP"

    product: Product
    idle_timeout_s: float = 600.0
    idle_check_s: float = 5.0

    def __init__(self, model: MarketModel, pairs: Iterable[PairSpec]) -> None:
        super().__init__(model, pairs)
        self.exchange = self.product.exchange
        self.symbols = {p.base + p.quote: p for p in self.pairs}
        self.intervals = {code: Interval.parse(ours) for code, ours in INTERVALS.items()}
        self.codes = {interval: code for code, interval in self.intervals.items()}
        self._connections = itertools.count(1)
        self.limits = BybitLimits()
        self.rows = RowCache(model)  # encoded rows of closed candles
        self.layouts = {p.name: kline_layout(p) for p in self.pairs}

    # -- REST -----------------------------------------------------------------------------------
    def routes(self) -> Mapping[tuple[str, str], RestHandler]:
        return {
            ("GET", "/v5/market/time"): self._time,
            ("GET", "/v5/market/kline"): self._guarded(self._kline),
            ("GET", "/v5/market/instruments-info"): self._guarded(self._instruments),
        }

    def not_found(self, request: RestRequest) -> RestResponse:
        return RestResponse(404, b"404 page not found", content_type="text/plain")

    def internal_error(self, request: RestRequest) -> RestResponse:
        return errors.SYSTEM.response(request.now_ms)

    def fault_response(self, kind: FaultKind, request: RestRequest) -> RestResponse:
        answer = faults.FAULTS.get(kind)
        return self.internal_error(request) if answer is None else answer(request.now_ms)

    def limit_request(self, request: RestRequest) -> RestResponse | None:
        return self.limits.check(request)

    @staticmethod
    def _guarded(handler: Callable[[RestRequest], object]) -> RestHandler:
        """A handler whose :class:`BybitError` becomes the native error body; success is enveloped."""

        def run(request: RestRequest) -> RestResponse:
            try:
                result = handler(request)
            except errors.BybitError as error:
                return error.response(request.now_ms)
            return json_response(200, envelope(result, request.now_ms))

        return run

    def _time(self, request: RestRequest) -> RestResponse:
        # ccxt's fetch_time reads the envelope's top-level ``time``, not ``result``.
        now = request.now_ms
        result = {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}
        return json_response(200, envelope(result, now))

    def _kline(self, request: RestRequest) -> dict[str, object]:
        params = Params(request.params())
        category = params.text("category") or "linear"  # Bybit's documented default
        if category not in KLINE_CATEGORIES:
            raise errors.ILLEGAL_CATEGORY
        symbol = params.text("symbol")
        if symbol is None:
            raise errors.SYMBOL_INVALID
        interval = self.intervals.get(params.text("interval") or "")
        if interval is None:
            raise errors.INVALID_PERIOD
        start = params.integer("start")
        end = params.integer("end")
        limit = params.limit(KLINE_DEFAULT_LIMIT, KLINE_MAX_LIMIT)
        pair = self.symbols.get(symbol) if category == self.product.category else None
        if pair is None:
            raise errors.NOT_SUPPORTED_SYMBOLS
        if start is not None and end is not None and start > end:
            raise errors.START_AFTER_END
        # Bybit includes the candle that contains ``start`` (ccxt issue 26736), and anchors the page
        # at ``start`` when given, at ``end`` (or now) otherwise. Anchoring at ``start`` when both
        # are given is UNVERIFIED; it is what ccxt's since/until pagination expects.
        opens = self.model.open_times(
            pair.name,
            interval,
            now_ms=request.now_ms,
            limit=limit,
            start_ms=None if start is None else interval.floor(start),
            end_ms=end,
        )
        # Newest first, as Bybit sorts.
        rows = self.rows.page(pair.name, interval, opens, request.now_ms, self.layouts[pair.name], newest_first=True)
        return {"symbol": symbol, "category": category, "list": orjson.Fragment(rows)}

    def _instruments(self, request: RestRequest) -> dict[str, object]:
        params = Params(request.params())
        category = params.text("category")
        if category not in INFO_CATEGORIES:
            raise errors.ILLEGAL_CATEGORY
        symbol = params.text("symbol")
        status = params.text("status")
        base = params.text("baseCoin")
        limit = params.limit(INFO_DEFAULT_LIMIT, INFO_MAX_LIMIT)
        cursor = params.text("cursor")
        # Every listed instrument is "Trading": a status=PreLaunch request gets an empty page.
        listed = list(self.pairs) if category == self.product.category else []
        chosen = [
            p for p in listed
            if (symbol is None or p.base + p.quote == symbol)
            and (status is None or status == "Trading")
            and (base is None or p.base == base)
        ]  # fmt: skip
        if symbol is not None and not chosen and category in REJECTS_UNKNOWN_SYMBOL:
            raise errors.SYMBOL_INVALID
        result: dict[str, object] = {"category": category}
        if category in PAGINATED:
            offset = _offset(cursor, len(chosen))
            page = chosen[offset : offset + limit]
            more = offset + limit < len(chosen)
            result["list"] = [self.product.instrument(p) for p in page]
            result["nextPageCursor"] = str(offset + limit) if more else ""
        else:
            result["list"] = [self.product.instrument(p) for p in chosen]
        return result

    # -- WebSocket ------------------------------------------------------------------------------
    def open_session(self, path: str, query: str) -> WsSession | WsReject:
        if path != self.product.ws_path:
            return WsReject(404, b"404 page not found")
        return BybitSession(self, self._conn_id())

    def _conn_id(self) -> str:
        """A fresh, deterministic UUID-shaped ``conn_id`` (Bybit's spot gateway uses UUIDs)."""
        seed = f"{self.exchange}:{self.model.seed}:{next(self._connections)}".encode()
        return str(uuid.UUID(bytes=hashlib.blake2b(seed, digest_size=16).digest(), version=4))

    def resolve_topic(self, topic: str) -> Subscription | str:
        """The subscription a topic names, or the ``ret_msg`` refusing it."""
        match = _TOPIC.match(topic)
        interval = self.intervals.get(match.group(1)) if match else None
        if match is None or interval is None:
            return _HANDLER_NOT_FOUND.format(topic=topic)
        pair = self.symbols.get(match.group(2))
        if pair is None:
            return self.product.unknown_symbol_msg.format(topic=topic)
        return Subscription(pair.name, interval)

    def topic(self, subscription: Subscription) -> str:
        """``kline.<interval>.<SYMBOL>`` for a subscription."""
        spec = self.model.pair(subscription.pair).spec
        return f"kline.{self.codes[subscription.interval]}.{spec.base}{spec.quote}"

    def push_period(self, subscription: Subscription) -> float:
        return self.product.push_period

    def encode_push(self, subscription: Subscription, candle: Candle, event_ms: int) -> str:
        # ``timestamp`` is the last match in the candle: now while it forms, at most its end.
        data = {
            "start": candle.open_time,
            "end": candle.close_time,
            "interval": self.codes[subscription.interval],
            "open": plain(candle.open),
            "close": plain(candle.close),
            "high": plain(candle.high),
            "low": plain(candle.low),
            "volume": plain(candle.volume),
            "turnover": plain(candle.quote_volume),
            "confirm": candle.closed,
            "timestamp": min(event_ms, candle.close_time),
        }
        message = {"topic": self.topic(subscription), "data": [data], "ts": event_ms, "type": "snapshot"}
        return orjson.dumps(message).decode()


def kline_layout(pair: PairSpec) -> Layout:
    """One REST kline row, encoded from the model's integers: ``["start ms", open, high, low, close,
    volume (base), turnover (quote)]``, every value a string in plain notation (:func:`plain`)."""
    tick, lot = pair.tick_size, pair.lot_size
    return Layout(
        '["', integer(0), '","', plain_field(2, tick), '","', plain_field(3, tick), '","', plain_field(4, tick),
        '","', plain_field(5, tick), '","', plain_field(6, lot), '","', plain_field(7, tick * lot), '"]',
    )


def _offset(cursor: str | None, size: int) -> int:
    """The list offset an instruments-info ``cursor`` stands for (our cursors are offsets)."""
    if cursor is None:
        return 0
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) > size:
        raise errors.invalid("cursor")
    return int(cursor)


class BybitSpot(_Bybit):
    """Bybit spot (``api.bybit.com`` ``category=spot``, ``stream.bybit.com/v5/public/spot``)."""

    product = SPOT
    exchange = ExchangeType.BYBIT_SPOT


class BybitPerpetual(_Bybit):
    """Bybit USDT linear perpetuals (``category=linear``, ``stream.bybit.com/v5/public/linear``)."""

    product = PERPETUAL
    exchange = ExchangeType.BYBIT_PERPETUAL
