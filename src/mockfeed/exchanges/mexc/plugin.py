"""MEXC spot (v3) and contract (v1 perpetual): one shared base, two product tables.

MEXC clients load both APIs' markets whatever they trade (ccxt's ``load_markets`` always calls
``/api/v3/exchangeInfo`` and ``/api/v1/contract/detail``), so each product serves both listings and
leaves the other API's empty, the way an exchange without such markets would answer. Server time is
served on both APIs by both products. A :class:`Product` says which API's klines and streams it serves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import attrs
import orjson

from mockfeed.exchanges.base import (
    ExchangePlugin,
    FaultKind,
    Message,
    RestHandler,
    RestRequest,
    RestResponse,
    Subscription,
    WsReject,
    WsSession,
    json_response,
)
from mockfeed.exchanges.exchange_type import ExchangeType
from mockfeed.exchanges.mexc import errors, faults, wire
from mockfeed.exchanges.mexc.errors import Api, MexcError
from mockfeed.exchanges.mexc.limits import mexc_limits
from mockfeed.exchanges.mexc.params import CONTRACT_RULES, SPOT_RULES, Query
from mockfeed.exchanges.mexc.streams import (
    CONTRACT_LIMITS,
    SPOT_LIMITS,
    ContractSession,
    Limits,
    MexcSession,
    SpotSession,
)
from mockfeed.exchanges.rows import RowCache, json_array
from mockfeed.market import Candle, Interval, MarketModel, PairSpec

SPOT_API = "/api/v3"
CONTRACT_API = "/api/v1/contract"
SPOT_DEFAULT_LIMIT = 500
SPOT_MAX_LIMIT = 1000  # the docs' maximum; ccxt asks for at most 500 ("in practice")
CONTRACT_MAX_ROWS = 2000  # the contract kline endpoint takes no limit and answers at most this many

Encoder = Callable[[PairSpec, Interval, Candle, int], Message]


@attrs.frozen
class Product:
    """What differs between MEXC products, as data."""

    exchange: ExchangeType
    api: Api  # whose klines and streams are served (the other API lists nothing)
    ws_path: str
    session: Callable[[_Mexc], MexcSession]
    limits: Limits
    push_period: float  # seconds between pushes of a forming candle
    encode: Encoder
    symbol: Callable[[PairSpec], str]


SPOT = Product(
    exchange=ExchangeType.MEXC_SPOT,
    api=Api.SPOT,
    ws_path="/ws",
    session=SpotSession,
    limits=SPOT_LIMITS,
    push_period=1.0,  # "pushed every second"
    encode=wire.spot_push,
    symbol=wire.spot_symbol,
)

PERPETUAL = Product(
    exchange=ExchangeType.MEXC_PERPETUAL,
    api=Api.CONTRACT,
    ws_path="/edge",
    session=ContractSession,
    limits=CONTRACT_LIMITS,
    push_period=1.0,  # undocumented (UNVERIFIED): the spot cadence
    encode=wire.contract_push,
    symbol=wire.contract_symbol,
)


def _spot_ok(body: object) -> RestResponse:
    return json_response(200, body)


def _contract_ok(data: object) -> RestResponse:
    return json_response(200, {"success": True, "code": 0, "data": data})


def _answer(build: Callable[[], RestResponse]) -> RestResponse:
    try:
        return build()
    except MexcError as error:
        return error.response()


def _api_of(path: str) -> Api:
    return Api.CONTRACT if path.startswith(CONTRACT_API + "/") or path == CONTRACT_API else Api.SPOT


_NOT_FOUND: Mapping[Api, MexcError] = {Api.SPOT: errors.SPOT_NOT_FOUND, Api.CONTRACT: errors.CONTRACT_NOT_FOUND}
_INTERNAL: Mapping[Api, MexcError] = {Api.SPOT: errors.SPOT_INTERNAL, Api.CONTRACT: errors.CONTRACT_INTERNAL}


class _Mexc(ExchangePlugin):
    """The shared MEXC implementation; subclasses only pick a :class:`Product`."""

    product: Product
    heartbeat = None  # no server protocol pings: both APIs rely on the client's JSON ping

    def __init__(self, model: MarketModel, pairs: Iterable[PairSpec]) -> None:
        super().__init__(model, pairs)
        self.exchange = self.product.exchange
        #: Connection rules handed to each new WS session; a test may shorten them.
        self.limits = self.product.limits
        self.symbols = {self.product.symbol(p): p for p in self.pairs}
        self.rows = RowCache(model)  # encoded kline rows of closed candles
        self.request_limits = mexc_limits()

    def listed(self, api: Api) -> tuple[PairSpec, ...]:
        """The pairs one API lists: ours on the product's API, none on the other."""
        return self.pairs if api is self.product.api else ()

    # -- REST -----------------------------------------------------------------------------------
    def routes(self) -> Mapping[tuple[str, str], RestHandler]:
        klines: Mapping[Api, tuple[str, RestHandler]] = {
            Api.SPOT: (f"{SPOT_API}/klines", self._spot_klines),
            Api.CONTRACT: (f"{CONTRACT_API}/kline/{{symbol}}", self._contract_klines),
        }
        path, handler = klines[self.product.api]
        return {
            ("GET", f"{SPOT_API}/ping"): lambda request: _spot_ok({}),
            ("GET", f"{SPOT_API}/time"): lambda request: _spot_ok({"serverTime": request.now_ms}),
            ("GET", f"{SPOT_API}/exchangeInfo"): self._exchange_info,
            ("GET", f"{CONTRACT_API}/ping"): lambda request: _contract_ok(request.now_ms),
            ("GET", f"{CONTRACT_API}/detail"): self._contract_detail,
            ("GET", path): handler,
        }

    def not_found(self, request: RestRequest) -> RestResponse:
        return _NOT_FOUND[_api_of(request.path)].response()

    def internal_error(self, request: RestRequest) -> RestResponse:
        return _INTERNAL[_api_of(request.path)].response()

    def fault_response(self, kind: FaultKind, request: RestRequest) -> RestResponse:
        answers = faults.FAULTS.get(kind)
        return self.internal_error(request) if answers is None else answers[_api_of(request.path)]

    def limit_request(self, request: RestRequest) -> RestResponse | None:
        return self.request_limits.check(request)

    # spot v3 ------------------------------------------------------------------------------------
    # Both kline pages (and their errors) depend only on the path, query and market second.
    def _spot_klines(self, request: RestRequest) -> RestResponse:
        answer = _answer(lambda: RestResponse(200, json_array(self.spot_klines(request))))
        return attrs.evolve(answer, reuse=self.reusable(request))

    def spot_klines(self, request: RestRequest) -> list[bytes]:
        """Encoded rows of ``GET /api/v3/klines``, oldest first; :class:`MexcError` if refused.

        ``endTime`` is exclusive (ccxt adds 1 ms to include the candle opening at ``until``); an
        oversized ``limit`` is capped at 1000, as Binance-style spot APIs do (UNVERIFIED for MEXC).
        """
        query = Query(request, SPOT_RULES)
        symbol = query.text("symbol", required=True)
        code = query.text("interval", required=True)
        start = query.integer("startTime")
        end = query.integer("endTime")
        limit = query.integer("limit")
        pair = self.symbols.get(symbol or "")
        if pair is None:
            raise errors.SPOT_INVALID_SYMBOL
        interval = wire.SPOT_INTERVALS.get(code or "")
        if interval is None:
            raise errors.SPOT_INVALID_INTERVAL
        if limit is not None and limit < 1:
            raise errors.spot_invalid("limit")
        if start is not None and end is not None and start > end:
            raise errors.SPOT_BAD_COMBINATION
        opens = self.model.open_times(
            pair.name,
            interval,
            now_ms=request.now_ms,
            limit=min(limit or SPOT_DEFAULT_LIMIT, SPOT_MAX_LIMIT),
            start_ms=start,
            end_ms=None if end is None else end - 1,
        )
        return self.rows.rows(pair.name, interval, opens, request.now_ms, wire.spot_layout(pair))

    def _exchange_info(self, request: RestRequest) -> RestResponse:
        return _answer(lambda: _spot_ok(self.exchange_info(request)))

    def exchange_info(self, request: RestRequest) -> dict[str, object]:
        """``GET /api/v3/exchangeInfo``, optionally narrowed by ``symbol`` or ``symbols=A,B``."""
        query = Query(request, SPOT_RULES)
        listed = {wire.spot_symbol(p): p for p in self.listed(Api.SPOT)}
        wanted = [s for name in ("symbol", "symbols") for s in (query.text(name) or "").split(",") if s]
        if any(s not in listed for s in wanted):
            raise errors.SPOT_INVALID_SYMBOL  # an unknown name refuses the whole request (UNVERIFIED)
        pairs = [p for s, p in listed.items() if not wanted or s in wanted]
        return {
            "timezone": "CST",
            "serverTime": request.now_ms,
            "rateLimits": [],
            "exchangeFilters": [],
            "symbols": [_spot_symbol_info(p) for p in pairs],
        }

    # contract v1 --------------------------------------------------------------------------------
    def _contract_klines(self, request: RestRequest) -> RestResponse:
        answer = _answer(lambda: _contract_ok(self.contract_klines(request)))
        return attrs.evolve(answer, reuse=self.reusable(request))

    def contract_klines(self, request: RestRequest) -> dict[str, list[int | float]]:
        """Columns of ``GET /api/v1/contract/kline/{symbol}``; :class:`MexcError` if refused.

        ``start``/``end`` are seconds and both inclusive on the open time; at most 2000 rows: the
        first 2000 from ``start`` (to ``end`` or now), else the last 2000 up to ``end`` (or now).
        """
        query = Query(request, CONTRACT_RULES)
        code = query.text("interval") or "Min1"
        start = query.integer("start")
        end = query.integer("end")
        pair = self.symbols.get(request.path_params.get("symbol", ""))
        if pair is None:
            raise errors.CONTRACT_NOT_EXIST
        interval = wire.NAMED_INTERVALS.get(code)
        if interval is None or (start is not None and end is not None and start > end):
            raise errors.CONTRACT_PARAM_ERROR
        opens = self.model.open_times(
            pair.name,
            interval,
            now_ms=request.now_ms,
            limit=CONTRACT_MAX_ROWS,
            start_ms=None if start is None else start * 1000,
            end_ms=None if end is None else end * 1000,
        )
        rows = self.rows.rows(
            pair.name, interval, opens, request.now_ms, lambda c: orjson.dumps(wire.contract_row(pair, c))
        )
        return wire.contract_columns(orjson.loads(json_array(rows)))

    def _contract_detail(self, request: RestRequest) -> RestResponse:
        return _answer(lambda: _contract_ok(self.contract_detail(request)))

    def contract_detail(self, request: RestRequest) -> list[dict[str, object]] | dict[str, object]:
        """``GET /api/v1/contract/detail``: every contract, or the one object named by ``symbol``."""
        listed = {wire.contract_symbol(p): p for p in self.listed(Api.CONTRACT)}
        symbol = Query(request, CONTRACT_RULES).text("symbol")
        if symbol is None:
            return [_contract_info(p) for p in listed.values()]
        pair = listed.get(symbol)
        if pair is None:
            raise errors.CONTRACT_NOT_EXIST
        return _contract_info(pair)

    # -- WebSocket ------------------------------------------------------------------------------
    def open_session(self, path: str, query: str) -> WsSession | WsReject:
        if path != self.product.ws_path:
            return WsReject(404, b"Not Found")
        return self.product.session(self)

    def spot_subscription(self, channel: str) -> Subscription | None:
        """The stream of a spot channel ``spot@public.kline.v3.api.pb@BTCUSDT@Min1``, if served."""
        prefix, _, rest = channel.rpartition("@")  # rest: the interval name
        kind, _, symbol = prefix.rpartition("@")
        pair = self.symbols.get(symbol) if kind == wire.SPOT_KLINE_CHANNEL else None
        interval = wire.NAMED_INTERVALS.get(rest)
        if pair is None or interval is None:
            return None  # the pre-2025 JSON channels (``...v3.api@``) are "Blocked!" too
        return Subscription(pair.name, interval)

    def contract_subscription(self, symbol: str, code: str) -> tuple[str, Subscription | None]:
        """(refusal text, None) or ("", the stream) for a contract ``sub.kline``."""
        pair = self.symbols.get(symbol)
        if pair is None:
            return "contract not exists", None
        interval = wire.NAMED_INTERVALS.get(code)
        if interval is None:
            return "interval not exists", None  # wording UNVERIFIED
        return "", Subscription(pair.name, interval)

    def push_period(self, subscription: Subscription) -> float:
        return self.product.push_period

    def encode_push(self, subscription: Subscription, candle: Candle, event_ms: int) -> Message:
        pair = self.model.pair(subscription.pair).spec
        return self.product.encode(pair, subscription.interval, candle, event_ms)


# -- listings -----------------------------------------------------------------------------------


def _spot_symbol_info(pair: PairSpec) -> dict[str, object]:
    """One ``exchangeInfo`` symbol. ccxt needs ``status`` "1" (not the docs' "ENABLED") to call it active."""
    return {
        "symbol": wire.spot_symbol(pair),
        "status": "1",
        "baseAsset": pair.base,
        "baseAssetPrecision": pair.volume_decimals,
        "quoteAsset": pair.quote,
        "quotePrecision": pair.price_decimals,
        "quoteAssetPrecision": pair.price_decimals,
        "baseCommissionPrecision": pair.volume_decimals,
        "quoteCommissionPrecision": pair.price_decimals,
        "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"],
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "quoteAmountPrecision": "1",
        "baseSizePrecision": wire.plain(pair.lot_size),
        "permissions": ["SPOT"],
        "filters": [],
        "maxQuoteAmount": "2000000",
        "makerCommission": "0",
        "takerCommission": "0.0005",
        "quoteAmountPrecisionMarket": "1",
        "maxQuoteAmountMarket": "100000",
        "fullName": pair.base,
        "tradeSideType": 1,
    }


def _contract_info(pair: PairSpec) -> dict[str, object]:
    """One ``contract/detail`` object; one contract is one lot of the pair (``contractSize``)."""
    symbol = wire.contract_symbol(pair)
    return {
        "symbol": symbol,
        "displayName": f"{symbol}永续",
        "displayNameEn": f"{symbol} PERPETUAL",
        "positionOpenType": 3,
        "baseCoin": pair.base,
        "quoteCoin": pair.quote,
        "settleCoin": pair.quote,  # ccxt fails without it
        "contractSize": wire.number(pair.lot_size),
        "minLeverage": 1,
        "maxLeverage": 200,
        "priceScale": pair.price_decimals,
        "volScale": 0,
        "amountScale": pair.quote_decimals,
        "priceUnit": wire.number(pair.tick_size),
        "volUnit": 1,
        "minVol": 1,
        "maxVol": 1_000_000,
        "bidLimitPriceRate": 0.1,
        "askLimitPriceRate": 0.1,
        "takerFeeRate": 0.0002,
        "makerFeeRate": 0,
        "maintenanceMarginRate": 0.004,
        "initialMarginRate": 0.005,
        "state": 0,  # enabled: ccxt's "active"
        "isNew": False,
        "isHot": False,
        "isHidden": False,
        "apiAllowed": True,
    }


class MexcSpot(_Mexc):
    """MEXC spot (``api.mexc.com/api/v3``, ``wbs-api.mexc.com/ws`` with protobuf pushes)."""
    ws_lifetime = 24 * 3600.0  # "a connection is valid for at most 24 hours"

    product = SPOT
    exchange = ExchangeType.MEXC_SPOT


class MexcPerpetual(_Mexc):
    """MEXC USDT-M perpetual contracts (``/api/v1/contract``, ``contract.mexc.com/edge``)."""

    product = PERPETUAL
    exchange = ExchangeType.MEXC_PERPETUAL
