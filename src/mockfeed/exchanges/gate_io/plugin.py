"""Gate spot and USDT-settled perpetual futures: one REST surface, two product tables.

Gate serves every market type from one host (``api.gateio.ws/api/v4``), so both products answer the
same routes; a product only decides which listing holds the configured pairs (spot currency pairs or
USDT contracts) and which WebSocket it runs. Whatever a product does not serve answers with Gate's
native empty list or "not found" error, so ccxt's ``load_markets`` works with its default options.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

import attrs
import orjson

from mockfeed.exchanges.base import (
    ExchangePlugin,
    FaultKind,
    Headers,
    Heartbeat,
    RestHandler,
    RestRequest,
    RestResponse,
    ReuseHeaders,
    Subscription,
    WsReject,
    WsSession,
)
from mockfeed.exchanges.exchange_type import ExchangeType
from mockfeed.exchanges.gate_io import candles, errors, faults, listings
from mockfeed.exchanges.gate_io.params import Params
from mockfeed.exchanges.gate_io.ratelimit import RateMeter, compile_routes, endpoint_of
from mockfeed.exchanges.gate_io.streams import GateSession, StreamRules, futures_result, spot_result
from mockfeed.exchanges.rows import RowCache
from mockfeed.market import Candle, Interval, MarketModel, PairSpec

API = "/api/v4"
_MINUTE = Interval.parse("1m")
#: Routes whose answer (or error) depends only on the path, query and market second: their bodies
#: may be reused within a second, the rate-limit headers still counted per request.
REUSABLE = frozenset({"/spot/candlesticks", "/futures/{settle}/candlesticks"})

Payload = Callable[[RestRequest], object]  # a JSON value, or bytes already encoded as JSON


@attrs.frozen
class Product:
    """What differs between the Gate products, as data."""

    exchange: ExchangeType
    spot_listed: bool  # the configured pairs are spot currency pairs (else USDT perpetual contracts)
    stream: StreamRules
    heartbeat: Heartbeat


# Both WebSockets ping at the protocol level ("the server uses the protocol layer ping/pong to check
# the client is still connected"); interval and timeout are UNVERIFIED. ccxt answers pongs (and pings
# every 30 s itself), so any values well above that keep ccxt connected.
_HEARTBEAT = Heartbeat(interval=20.0, timeout=30.0)

SPOT = Product(
    exchange=ExchangeType.GATE_IO_SPOT,
    spot_listed=True,
    stream=StreamRules(
        prefix="spot",
        paths=("/ws/v4/", "/ws/v4"),
        intervals=candles.intervals("10s", "1m", "5m", "15m", "30m", "1h", "4h", "8h", "1d", "7d"),
        push_period=2.0,  # "update speed: 2000ms"
        struct_message="Invalid request body format",
        argument_message="Invalid argument provided",
        unknown_market="unknown currency pair: {name}",
        unknown_interval="unknown interval: {name}",
        unknown_channel="unknown channel: {name}",
        result=spot_result,
    ),
    heartbeat=_HEARTBEAT,
)

PERPETUAL = Product(
    exchange=ExchangeType.GATE_IO_PERPETUAL,
    spot_listed=False,
    stream=StreamRules(
        prefix="futures",
        # fx-ws.gateio.ws/v4/ws/usdt, and the testnet layout ccxt also knows (/v4/ws/futures/usdt)
        paths=("/v4/ws/usdt", "/v4/ws/futures/usdt"),
        intervals=candles.intervals("10s", "1m", "5m", "15m", "30m", "1h", "4h", "8h", "1d", "7d"),
        push_period=2.0,  # UNVERIFIED for futures: the spot channel's documented 2000 ms
        struct_message="invalid argument struct",
        argument_message="invalid argument",
        unknown_market="unknown contract {name}",
        unknown_interval="unknown interval {name}",
        unknown_channel="unknown channel {name}",
        result=futures_result,
    ),
    heartbeat=_HEARTBEAT,
)


class _GateIo(ExchangePlugin):
    """The shared Gate implementation; subclasses only pick a :class:`Product`."""

    product: Product

    def __init__(self, model: MarketModel, pairs: Iterable[PairSpec]) -> None:
        super().__init__(model, pairs)
        self.exchange = self.product.exchange
        self.heartbeat = self.product.heartbeat
        listed = MappingProxyType({listings.market_id(p): p for p in self.pairs})
        empty: Mapping[str, PairSpec] = MappingProxyType({})
        self.spot_pairs = listed if self.product.spot_listed else empty
        self.contracts = empty if self.product.spot_listed else listed
        # Contracts by the settle currencies Gate has; only USDT-settled ones are ever listed here.
        self.settles: Mapping[str, Mapping[str, PairSpec]] = {"usdt": self.contracts, "btc": empty}
        self.stream_markets = listed
        self.currencies = tuple(dict.fromkeys(code for p in self.pairs for code in (p.base, p.quote)))
        self.rates = RateMeter()
        self._limited = compile_routes([path for _, path in self.routes()])
        self.rows = RowCache(model)
        self._connections = itertools.count(1)

    # -- REST -----------------------------------------------------------------------------------
    def routes(self) -> Mapping[tuple[str, str], RestHandler]:
        table: dict[str, Payload] = {
            "/spot/time": self._time,
            "/spot/currencies": self._currencies,
            "/spot/currencies/{currency}": self._currency,
            "/spot/currency_pairs": self._currency_pairs,
            "/spot/currency_pairs/{currency_pair}": self._currency_pair,
            "/spot/candlesticks": self._spot_candles,
            "/margin/currency_pairs": self._nothing,
            "/futures/{settle}/contracts": self._contracts,
            "/futures/{settle}/contracts/{contract}": self._contract,
            "/futures/{settle}/candlesticks": self._futures_candles,
            "/delivery/{settle}/contracts": self._delivery_contracts,
            "/options/underlyings": self._nothing,
            "/options/contracts": self._option_contracts,
        }
        return {
            ("GET", API + path): self._endpoint(API + path, payload, path in REUSABLE)
            for path, payload in table.items()
        }

    def _endpoint(self, path: str, payload: Payload, reusable: bool = False) -> RestHandler:
        """A route handler: the payload as JSON, or its Gate error, with rate-limit headers;
        marked reusable within its market second if ``reusable``."""

        def handle(request: RestRequest) -> RestResponse:
            headers = self.rates.headers(request.client, path, request.now_ms)
            try:
                answer = payload(request)
            except errors.GateError as error:
                response = error.response(headers)
            else:
                body = answer if isinstance(answer, bytes) else orjson.dumps(answer)
                response = RestResponse(200, body, headers)
            if not reusable:
                return response
            return attrs.evolve(response, reuse=self.reusable(request, self._counter(path)))

        return handle

    def _counter(self, path: str) -> ReuseHeaders:
        """The rate-limit headers of a reused answer: one more request of its client on ``path``,
        exactly those a fresh answer would carry."""
        rates = self.rates

        def headers(client: str, wall_ms: int, now_ms: int) -> Headers:
            return rates.headers(client, path, now_ms)

        return headers

    def not_found(self, request: RestRequest) -> RestResponse:
        return errors.NOT_FOUND.response()

    def method_not_allowed(self, request: RestRequest) -> RestResponse:
        return errors.METHOD_NOT_ALLOWED.response()

    def internal_error(self, request: RestRequest) -> RestResponse:
        return errors.SERVER_ERROR.response()

    def fault_response(self, kind: FaultKind, request: RestRequest) -> RestResponse:
        return faults.FAULTS.get(kind) or self.internal_error(request)

    def limit_request(self, request: RestRequest) -> RestResponse | None:
        endpoint = endpoint_of(request.path, self._limited)
        return None if endpoint is None else self.rates.refusal(request.client, endpoint, request.now_ms)

    def _nothing(self, request: RestRequest) -> object:
        return []

    def _time(self, request: RestRequest) -> object:
        return {"server_time": request.now_ms}

    def _currencies(self, request: RestRequest) -> object:
        return [listings.currency(code) for code in self.currencies]

    def _currency(self, request: RestRequest) -> object:
        code = request.path_params["currency"]
        if code not in self.currencies:
            raise errors.unknown_currency(code)
        return listings.currency(code)

    def _currency_pairs(self, request: RestRequest) -> object:
        return [listings.currency_pair(p) for p in self.spot_pairs.values()]

    def _currency_pair(self, request: RestRequest) -> object:
        name = request.path_params["currency_pair"]
        pair = self.spot_pairs.get(name)
        if pair is None:
            raise errors.unknown_pair(name)
        return listings.currency_pair(pair)

    def _settled(self, request: RestRequest) -> Mapping[str, PairSpec]:
        """The contracts of the ``{settle}`` path segment (only USDT ones exist here)."""
        settle = request.path_params["settle"]
        contracts = self.settles.get(settle)
        if contracts is None:
            raise errors.invalid_value("settle", settle)
        return contracts

    def _contract_info(self, pair: PairSpec, now_ms: int) -> dict[str, Any]:
        candle = self.model.candle(pair.name, _MINUTE, now_ms, now_ms)
        price = candle.close if candle is not None else pair.start_price
        return listings.contract(pair, price, now_ms)

    def _contracts(self, request: RestRequest) -> object:
        return [self._contract_info(p, request.now_ms) for p in self._settled(request).values()]

    def _contract(self, request: RestRequest) -> object:
        name = request.path_params["contract"]
        pair = self._settled(request).get(name)
        if pair is None:
            raise errors.unknown_contract(name)
        return self._contract_info(pair, request.now_ms)

    def _delivery_contracts(self, request: RestRequest) -> object:
        self._settled(request)
        return []  # dated futures are not served

    def _option_contracts(self, request: RestRequest) -> object:
        Params(request.params()).text("underlying", required=True)
        return []  # options are not served

    def _spot_candles(self, request: RestRequest) -> object:
        return self._candles(candles.SPOT, self.spot_pairs, request)

    def _futures_candles(self, request: RestRequest) -> object:
        return self._candles(candles.FUTURES, self._settled(request), request)

    def _candles(
        self, endpoint: candles.CandleEndpoint, markets: Mapping[str, PairSpec], request: RestRequest
    ) -> object:
        params = Params(request.params())
        name = params.text(endpoint.market_param, required=True)
        assert name is not None
        pair = markets.get(name)
        if pair is None:
            raise endpoint.unknown(name)
        query = candles.plan(endpoint, params, request.now_ms)
        opens = self.model.open_times(
            pair.name, query.interval, now_ms=request.now_ms, limit=query.limit,
            start_ms=query.start_ms, end_ms=query.end_ms,
        )
        return self.rows.page(
            pair.name, query.interval, opens, request.now_ms, endpoint.layout(pair),
            variant=endpoint.market_param,
        )

    # -- WebSocket ------------------------------------------------------------------------------
    def open_session(self, path: str, query: str) -> WsSession | WsReject:
        if path not in self.product.stream.paths:
            return WsReject(404, b"Not Found")
        number = next(self._connections)
        conn_id = hashlib.blake2b(f"{self.exchange}:{number}".encode(), digest_size=8).hexdigest()
        return GateSession(self.product.stream, self.stream_markets, conn_id)

    def push_period(self, subscription: Subscription) -> float:
        return self.product.stream.push_period

    def encode_push(self, subscription: Subscription, candle: Candle, event_ms: int) -> str:
        rules = self.product.stream
        pair = self.model.pair(subscription.pair).spec
        name = f"{rules.code_of(subscription.interval)}_{listings.market_id(pair)}"
        return orjson.dumps({
            "time": event_ms // 1000,
            "time_ms": event_ms,
            "channel": rules.candles_channel,
            "event": "update",
            "result": rules.result(pair, candle, name),
        }).decode()


class GateIoSpot(_GateIo):
    """Gate spot (``api.gateio.ws/api/v4``, ``wss://api.gateio.ws/ws/v4/``)."""

    product = SPOT
    exchange = ExchangeType.GATE_IO_SPOT


class GateIoPerpetual(_GateIo):
    """Gate USDT-settled perpetual futures (``api.gateio.ws/api/v4``, ``wss://fx-ws.gateio.ws/v4/ws/usdt``)."""

    product = PERPETUAL
    exchange = ExchangeType.GATE_IO_PERPETUAL
