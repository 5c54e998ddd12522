"""OKX REST routes and push encoding, shared by spot and USDT-margined SWAP (perpetual).

A product is a table (:class:`Product`): instrument type, instId suffix, instrument fields and volume
columns. Candle endpoints are a second table (:data:`ENDPOINTS`): bars served and history depth.
Everything else is shared: the ``{"code":"0","msg":"","data":[...]}`` envelope, newest-first rows of
nine strings, the ``confirm`` flag and OKX's error codes.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

import attrs
import orjson

from mockfeed.exchanges.base import (
    ExchangePlugin,
    RestHandler,
    RestRequest,
    RestResponse,
    Subscription,
    WsReject,
    WsSession,
    json_response,
)
from mockfeed.exchanges.exchange_type import ExchangeType
from mockfeed.exchanges.okx import errors, faults
from mockfeed.exchanges.okx.bars import CANDLE_BARS, HISTORY_BARS, WS_BARS
from mockfeed.exchanges.okx.limits import okx_limits
from mockfeed.exchanges.okx.params import Params
from mockfeed.exchanges.okx.streams import OkxSession
from mockfeed.exchanges.rows import Field, Layout, RowCache, flag, integer, plain
from mockfeed.market import Candle, Interval, MarketModel, PairSpec

API = "/api/v5"
DEFAULT_LIMIT = 100
MAX_LIMIT = 300
#: Instrument types ``/public/instruments`` knows; the ones a product does not serve list nothing.
INSTRUMENT_TYPES = frozenset({"SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"})
#: WebSocket paths; only ``/business`` carries candle channels (60018 elsewhere, as on OKX).
WS_PATHS: Mapping[str, bool] = {"/ws/v5/business": True, "/ws/v5/public": False, "/ws/v5/private": False}
#: Seconds between pushes of a forming candle ("at fastest one push per second").
PUSH_PERIOD_S = 1.0
#: OKX closes a connection that has no subscription or no data pushed for this long (close 4004).
IDLE_TIMEOUT_S = 30.0
_CONTRACT_QUOTE_VALUE = Decimal(100)


def num(value: Decimal) -> str:
    """A decimal as OKX writes it: plain notation, no trailing zeros (``64260``, ``0.5``)."""
    return f"{value.normalize():f}"


def contract_value(pair: PairSpec) -> Decimal:
    """Base units per SWAP contract (``ctVal``): the power of ten worth about 100 quote units or more.

    This reproduces OKX's values for the default pairs (BTC 0.01, ETH 0.1, SOL 1) from the pair's
    anchor price, so any configured pair gets a sensible contract size.
    """
    exponent = math.ceil((_CONTRACT_QUOTE_VALUE / pair.start_price).log10())
    return Decimal(1).scaleb(exponent)


# -- what differs between products --------------------------------------------------------------

Volumes = tuple[Decimal, Decimal, Decimal]


def _spot_volumes(candle: Candle, ct_val: Decimal) -> Volumes:
    """Spot ``vol`` is in base units, ``volCcy`` and ``volCcyQuote`` in quote units."""
    return candle.volume, candle.quote_volume, candle.quote_volume


def _swap_volumes(candle: Candle, ct_val: Decimal) -> Volumes:
    """SWAP ``vol`` is in contracts, ``volCcy`` in base units, ``volCcyQuote`` in quote units."""
    return candle.volume / ct_val, candle.volume, candle.quote_volume


def _spot_raw_volumes(pair: PairSpec, ct_val: Decimal) -> tuple[Field, Field, Field]:
    """:func:`_spot_volumes` over the model's integers (columns of a raw candle)."""
    return plain(6, pair.lot_size), plain(7, pair.tick_size * pair.lot_size), plain(7, pair.tick_size * pair.lot_size)


def _swap_raw_volumes(pair: PairSpec, ct_val: Decimal) -> tuple[Field, Field, Field]:
    """:func:`_swap_volumes` over the model's integers (columns of a raw candle)."""
    return plain(6, pair.lot_size / ct_val), plain(6, pair.lot_size), plain(7, pair.tick_size * pair.lot_size)


def _spot_fields(pair: PairSpec, ct_val: Decimal) -> dict[str, object]:
    lot = num(pair.lot_size)
    return {
        "uly": "", "instFamily": "", "baseCcy": pair.base, "quoteCcy": pair.quote, "settleCcy": "",
        "ctVal": "", "ctMult": "", "ctValCcy": "", "ctType": "", "lever": "10",
        "lotSz": lot, "minSz": lot, "maxLmtSz": "9999999999", "maxMktSz": "1000000",
        "maxLmtAmt": "20000000", "maxMktAmt": "1000000", "maxStopSz": "1000000",
        "tradeQuoteCcyList": [pair.quote],
    }


def _swap_fields(pair: PairSpec, ct_val: Decimal) -> dict[str, object]:
    family = f"{pair.base}-{pair.quote}"
    lot = num(pair.lot_size / ct_val)  # contracts: the model's base lot expressed in contracts
    # ccxt derives base/quote from ``uly`` and linear-ness from ``settleCcy`` == quote.
    return {
        "uly": family, "instFamily": family, "baseCcy": "", "quoteCcy": "", "settleCcy": pair.quote,
        "ctVal": num(ct_val), "ctMult": "1", "ctValCcy": pair.base, "ctType": "linear", "lever": "100",
        "lotSz": lot, "minSz": lot, "maxLmtSz": "100000000", "maxMktSz": "10000",
        "maxLmtAmt": "20000000", "maxMktAmt": "", "maxStopSz": "10000",
        "tradeQuoteCcyList": [],
    }


@attrs.frozen
class Product:
    """What differs between OKX products, as data."""

    exchange: ExchangeType
    inst_type: str  # the instType our pairs are listed under
    listed_types: frozenset[str]  # instTypes whose list holds our pairs (spot pairs are margin pairs too)
    suffix: str  # instId = BASE-QUOTE + suffix
    fields: Callable[[PairSpec, Decimal], dict[str, object]]
    volumes: Callable[[Candle, Decimal], Volumes]
    raw_volumes: Callable[[PairSpec, Decimal], tuple[Field, Field, Field]]


SPOT = Product(
    exchange=ExchangeType.OKX_SPOT,
    inst_type="SPOT",
    listed_types=frozenset({"SPOT", "MARGIN"}),
    suffix="",
    fields=_spot_fields,
    volumes=_spot_volumes,
    raw_volumes=_spot_raw_volumes,
)

PERPETUAL = Product(
    exchange=ExchangeType.OKX_PERPETUAL,
    inst_type="SWAP",
    listed_types=frozenset({"SWAP"}),
    suffix="-SWAP",
    fields=_swap_fields,
    volumes=_swap_volumes,
    raw_volumes=_swap_raw_volumes,
)


@attrs.frozen
class Endpoint:
    """A candle endpoint: the bars it takes and how far back it reaches."""

    bars: Mapping[str, Interval]
    depth_bars: int | None = None  # only the newest this many bars (forming one included)
    depth_ms: Mapping[str, int] = attrs.field(factory=dict)  # per bar, only this far back from now

    def oldest_open(self, code: str, interval: Interval, now_ms: int) -> int | None:
        """The oldest open time served for ``code`` at ``now_ms`` (None: the whole history)."""
        bounds: list[int] = []
        if self.depth_bars is not None:
            # Months use their nominal length here: 1,440 months reach back before any history.
            bounds.append(interval.floor(now_ms) - (self.depth_bars - 1) * interval.ms)
        if code in self.depth_ms:
            bounds.append(interval.floor(now_ms) - self.depth_ms[code])
        return max(bounds) if bounds else None


ENDPOINTS: Mapping[str, Endpoint] = {
    f"{API}/market/candles": Endpoint(CANDLE_BARS, depth_bars=1440),
    # "Recent years", but for 1s only the last 3 months.
    f"{API}/market/history-candles": Endpoint(HISTORY_BARS, depth_ms={"1s": 90 * 86_400_000}),
}


def ok(data: object) -> RestResponse:
    """The success envelope."""
    return json_response(200, {"code": "0", "msg": "", "data": data})


def _reply(build: Callable[[], object]) -> RestResponse:
    try:
        return ok(build())
    except errors.OkxError as error:
        return error.response()


class _Okx(ExchangePlugin):
    """The shared OKX implementation; subclasses only pick a :class:`Product`."""
    ws_connection_limit = (3, 1.0)  # "3 connection requests per second per IP"

    product: Product
    heartbeat = None  # no server protocol pings: OKX relies on the client's text ``ping``

    def __init__(self, model: MarketModel, pairs: Iterable[PairSpec]) -> None:
        super().__init__(model, pairs)
        self.exchange = self.product.exchange
        self.instruments: dict[str, PairSpec] = {self.inst_id(p): p for p in self.pairs}
        self.contract_values = {p.name: contract_value(p) for p in self.pairs}
        #: Seconds of silence before a WS connection is cut (4004); a test may shorten it.
        self.idle_timeout_s = IDLE_TIMEOUT_S
        self._connections = itertools.count(1)
        self.limits = okx_limits()
        self.rows = RowCache(model)  # encoded rows of closed candles
        self.layouts = {p.name: self.row_layout(p) for p in self.pairs}

    def inst_id(self, pair: PairSpec) -> str:
        """The native instrument id (``BTC-USDT``, ``BTC-USDT-SWAP``)."""
        return f"{pair.base}-{pair.quote}{self.product.suffix}"

    def candle_row(self, pair: PairSpec, candle: Candle) -> list[str]:
        """One candle as OKX's nine strings: ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm."""
        vol, vol_ccy, vol_quote = self.product.volumes(candle, self.contract_values[pair.name])
        return [
            str(candle.open_time),
            num(candle.open),
            num(candle.high),
            num(candle.low),
            num(candle.close),
            num(vol),
            num(vol_ccy),
            num(vol_quote),
            "1" if candle.closed else "0",
        ]

    def row_layout(self, pair: PairSpec) -> Layout:
        """:meth:`candle_row` as a :class:`Layout` of the model's integers."""
        tick = pair.tick_size
        vol, vol_ccy, vol_quote = self.product.raw_volumes(pair, self.contract_values[pair.name])
        return Layout(
            '["', integer(0), '","', plain(2, tick), '","', plain(3, tick), '","', plain(4, tick), '","',
            plain(5, tick), '","', vol, '","', vol_ccy, '","', vol_quote, '","', flag("0", "1"), '"]',
        )

    # -- REST -----------------------------------------------------------------------------------
    def routes(self) -> Mapping[tuple[str, str], RestHandler]:
        table: dict[tuple[str, str], RestHandler] = {
            ("GET", f"{API}/public/time"): self._time,
            ("GET", f"{API}/public/instruments"): self._instruments,
            ("GET", f"{API}/system/status"): self._status,
        }
        for path, endpoint in ENDPOINTS.items():
            table[("GET", path)] = self._candles_handler(endpoint)
        return table

    def not_found(self, request: RestRequest) -> RestResponse:
        return errors.not_found().response()

    def method_not_allowed(self, request: RestRequest) -> RestResponse:
        return errors.method_not_allowed().response()

    def fault_response(self, kind: str, request: RestRequest) -> RestResponse:
        fault = faults.FAULTS.get(kind)
        return self.internal_error(request) if fault is None else fault.response()

    def internal_error(self, request: RestRequest) -> RestResponse:
        return errors.system_error().response()

    def limit_request(self, request: RestRequest) -> RestResponse | None:
        return self.limits.check(request)

    def _time(self, request: RestRequest) -> RestResponse:
        return ok([{"ts": str(request.now_ms)}])

    def _status(self, request: RestRequest) -> RestResponse:
        return ok([])  # no maintenance scheduled

    def _candles_handler(self, endpoint: Endpoint) -> RestHandler:
        def handler(request: RestRequest) -> RestResponse:
            answer = _reply(lambda: orjson.Fragment(self.candle_page(request, endpoint)))
            return attrs.evolve(answer, reuse=self.reusable(request))

        return handler

    def candle_page(self, request: RestRequest, endpoint: Endpoint) -> bytes:
        """The rows of a candle request as a JSON array, newest first; :class:`errors.OkxError` if refused.

        ``after`` and ``before`` are exclusive bounds on the open time; of the candles between them
        the newest ``limit`` are returned (``before`` alone therefore gives the latest data).
        """
        params = Params(request.params())
        inst_id = params.required("instId")
        code = params.choice("bar", endpoint.bars, "1m")
        after = params.timestamp("after")
        before = params.timestamp("before")
        limit = params.limit("limit", DEFAULT_LIMIT, MAX_LIMIT)
        pair = self.instruments.get(inst_id)
        if pair is None:
            raise errors.no_instrument()
        interval, now = endpoint.bars[code], request.now_ms
        end = now if after is None else min(after - 1, now)
        opens = self.model.open_times(pair.name, interval, now_ms=now, limit=limit, end_ms=end)
        floors = [endpoint.oldest_open(code, interval, now), None if before is None else before + 1]
        floor = max((f for f in floors if f is not None), default=None)
        if floor is not None:
            opens = opens[bisect.bisect_left(opens, floor):]
        return self.rows.page(pair.name, interval, opens, now, self.layouts[pair.name], newest_first=True)

    def _instruments(self, request: RestRequest) -> RestResponse:
        return _reply(lambda: self.instrument_rows(request))

    def instrument_rows(self, request: RestRequest) -> list[dict[str, object]]:
        """The instruments of one ``instType``; our pairs under the product's types, else none."""
        params = Params(request.params())
        inst_type = params.required("instType")
        if inst_type not in INSTRUMENT_TYPES:
            raise errors.bad("instType")
        family = params.text("instFamily") or params.text("uly")
        if inst_type == "OPTION" and family is None:
            raise errors.either("uly", "instFamily")
        inst_id = params.text("instId")
        rows: list[dict[str, object]] = []
        if inst_type in self.product.listed_types:
            rows = [self._instrument(pair, inst_type) for pair in self.instruments.values()]
            # uly/instFamily only apply to derivatives: a spot row's instFamily is "".
            rows = [
                row for row in rows
                if inst_id in (None, row["instId"]) and family in (None, row["instFamily"] or family)
            ]
        if inst_id is not None and not rows:
            raise errors.no_instrument()
        return rows

    def _instrument(self, pair: PairSpec, inst_type: str) -> dict[str, object]:
        row: dict[str, object] = {
            "instType": inst_type,
            "instId": self.inst_id(pair),
            "instIdCode": None,  # "null when the value is not generated"
            "category": "1",
            "optType": "",
            "stk": "",
            "alias": "",
            "listTime": str(self.model.history_start_ms),
            "contTdSwTime": "",
            "preMktSwTime": "",
            "auctionEndTime": "",
            "openType": "",
            "expTime": "",
            "tickSz": num(pair.tick_size),
            "state": "live",
            "ruleType": "normal",
            "maxTwapSz": "9999999999",
            "maxIcebergSz": "9999999999",
            "maxTriggerSz": "9999999999",
            "futureSettlement": False,
        }
        row.update(self.product.fields(pair, self.contract_values[pair.name]))
        return row

    # -- WebSocket ------------------------------------------------------------------------------
    def open_session(self, path: str, query: str) -> WsSession | WsReject:
        business = WS_PATHS.get(path)
        if business is None:
            return WsReject(404, b"Not Found")
        # connId: 8 hex digits, distinct per connection (a multiplicative hash of a counter).
        conn_id = f"{next(self._connections) * 2654435761 % 2**32:08x}"
        return OkxSession(self, business, conn_id)

    def resolve(self, channel: str, inst_id: str) -> Subscription | None:
        """The stream a ``{"channel": .., "instId": ..}`` argument names, or None if none is served."""
        prefix, _, code = channel.partition("candle")
        interval = WS_BARS.get(code)
        pair = self.instruments.get(inst_id)
        if prefix or interval is None or pair is None:
            return None
        return Subscription(pair.name, interval, code)

    def push_period(self, subscription: Subscription) -> float:
        return PUSH_PERIOD_S

    def encode_push(self, subscription: Subscription, candle: Candle, event_ms: int) -> str:
        pair = self.model.pair(subscription.pair).spec
        message = {
            "arg": {"channel": "candle" + subscription.style, "instId": self.inst_id(pair)},
            "data": [self.candle_row(pair, candle)],
        }
        return orjson.dumps(message).decode()


class OkxSpot(_Okx):
    """OKX spot (``www.okx.com``, ``ws.okx.com:8443/ws/v5/business``), instId ``BTC-USDT``."""

    product = SPOT
    exchange = ExchangeType.OKX_SPOT


class OkxPerpetual(_Okx):
    """OKX USDT-margined perpetual SWAP, instId ``BTC-USDT-SWAP``; candle ``vol`` in contracts."""

    product = PERPETUAL
    exchange = ExchangeType.OKX_PERPETUAL
