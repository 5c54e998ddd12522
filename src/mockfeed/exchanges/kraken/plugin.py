"""Kraken spot: public REST (``/0/public/*``) and the v2 (and v1) WebSocket OHLC feeds."""

from __future__ import annotations

import itertools
from bisect import bisect_left
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
from mockfeed.exchanges.kraken import errors, faults
from mockfeed.exchanges.kraken.limits import KrakenLimits
from mockfeed.exchanges.kraken.names import Asset, KrakenPair
from mockfeed.exchanges.kraken.params import Params
from mockfeed.exchanges.kraken.streams import V1Session, V2Session, v1_push, v2_row
from mockfeed.exchanges.kraken.wire import (
    VOLUME_DECIMALS,
    minutes_of,
    rfc1123,
    rfc3339,
    rfc3339_seconds,
    vwap,
)
from mockfeed.exchanges.rows import Encoder, RowCache
from mockfeed.market import Candle, Interval, MarketModel, PairSpec

#: At most this many of the most recent rows, the forming candle included; older data cannot be
#: fetched whatever ``since`` is (Kraken docs).
OHLC_ROWS = 720
#: Seconds between pushes of a forming candle. Kraken pushes on every trade, several a second on
#: liquid pairs; one a second keeps the feed live without flooding (ccxt is indifferent).
PUSH_PERIOD = 1.0
COST_DECIMALS = 5  # AssetPairs ``cost_decimals`` of USD-quoted pairs; clients do not read it

# AssetPairs ``info``: which fields each value keeps (``info`` keeps them all).
_INFO_FIELDS: dict[str, tuple[str, ...] | None] = {
    "info": None,
    "leverage": ("leverage_buy", "leverage_sell"),
    "fees": ("fees", "fees_maker", "fee_volume_currency"),
    "margin": ("margin_call", "margin_stop"),
}

Builder = Callable[[RestRequest], object]

#: Public methods whose answer (or error) depends only on the method, query and market second, so
#: identical requests within a second may get the same bytes (Time and SystemStatus do too, but
#: nobody polls them hard enough to matter).
REUSABLE = frozenset({"OHLC"})


class KrakenSpot(ExchangePlugin):
    """Kraken spot (``api.kraken.com``, ``ws.kraken.com/v2`` and v1 ``ws.kraken.com``)."""

    exchange = ExchangeType.KRAKEN_SPOT
    heartbeat = None  # no server protocol pings; heartbeats are ``{"channel":"heartbeat"}`` messages

    def __init__(self, model: MarketModel, pairs: Iterable[PairSpec]) -> None:
        super().__init__(model, pairs)
        self.markets = tuple(KrakenPair.of(p) for p in self.pairs)
        self.by_rest_name = {alias: m for m in self.markets for alias in m.rest_aliases}
        self.by_name = {m.spec.name: m for m in self.markets}
        self.by_symbol = {m.symbol: m for m in self.markets}  # v2
        self.by_v1_name = {**self.by_symbol, **{m.wsname: m for m in self.markets}}
        assets: dict[str, Asset] = {}
        for market in self.markets:
            assets.setdefault(market.base.id, market.base)
            assets.setdefault(market.quote.id, market.quote)
        self.assets = assets
        self._channel_ids: dict[tuple[str, Interval], int] = {}
        self._connection_ids = itertools.count(15_113_583_034_416_118_705)
        self.limits = KrakenLimits()
        self.rows = RowCache(model)  # encoded rows of closed candles
        self._encoders = {m.spec.name: self.row_encoder(m.spec) for m in self.markets}

    # -- REST -----------------------------------------------------------------------------------
    def routes(self) -> Mapping[tuple[str, str], RestHandler]:
        builders: dict[str, Builder] = {
            "Time": self._time,
            "SystemStatus": self._system_status,
            "Assets": self._assets,
            "AssetPairs": self._asset_pairs,
            "OHLC": self._ohlc,
        }
        table: dict[tuple[str, str], RestHandler] = {}
        for name, build in builders.items():
            for method in ("GET", "POST"):  # Kraken's public methods take both
                table[(method, f"/0/public/{name}")] = self._envelope(build, name in REUSABLE)
        return table

    def not_found(self, request: RestRequest) -> RestResponse:
        return errors.KrakenError(errors.UNKNOWN_METHOD, 404).response()

    def internal_error(self, request: RestRequest) -> RestResponse:
        return errors.KrakenError(errors.INTERNAL_ERROR, 500).response()

    def fault_response(self, kind: FaultKind, request: RestRequest) -> RestResponse:
        fault = faults.FAULTS.get(kind)
        return self.internal_error(request) if fault is None else fault.response()

    def limit_request(self, request: RestRequest) -> RestResponse | None:
        return self.limits.check(request)

    def _envelope(self, build: Builder, reusable: bool = False) -> RestHandler:
        """A handler answering ``{"error": [], "result": ...}``, or Kraken's error body; marked
        reusable within its market second if ``reusable``."""

        def handle(request: RestRequest) -> RestResponse:
            try:
                answer = json_response(200, {"error": [], "result": build(request)})
            except errors.KrakenError as error:
                answer = error.response()
            return attrs.evolve(answer, reuse=self.reusable(request)) if reusable else answer

        return handle

    def _time(self, request: RestRequest) -> object:
        return {"unixtime": request.now_ms // 1000, "rfc1123": rfc1123(request.now_ms)}

    def _system_status(self, request: RestRequest) -> object:
        return {"status": "online", "timestamp": rfc3339_seconds(request.now_ms)}

    def _assets(self, request: RestRequest) -> object:
        params = Params(request)
        display = params.display_names()
        aclass = params.text("aclass")
        if aclass is not None and aclass != "currency":
            raise errors.invalid_arguments()
        wanted = params.names("asset")
        chosen = list(self.assets.values())
        if wanted is not None:
            by_name = {n: a for a in chosen for n in (a.id, a.altname, a.code)}
            if not all(name in by_name for name in wanted):
                raise errors.unknown_asset()
            chosen = list({by_name[name].id: by_name[name] for name in wanted}.values())
        return {
            (a.code if display else a.id): {
                "aclass": "currency",
                "altname": a.altname,
                "decimals": a.decimals,
                "display_decimals": a.display_decimals,
                "status": "enabled",
            }
            for a in chosen
        }

    def _asset_pairs(self, request: RestRequest) -> object:
        params = Params(request)
        display = params.display_names()
        info = params.text("info") or "info"
        if info not in _INFO_FIELDS:
            raise errors.invalid_arguments()
        markets = list(self.markets)
        wanted = params.names("pair")
        if wanted is not None:
            if not all(name in self.by_rest_name for name in wanted):
                raise errors.unknown_asset_pair()
            markets = list({self.by_rest_name[n].id: self.by_rest_name[n] for n in wanted}.values())
        keep = _INFO_FIELDS[info]
        out: dict[str, object] = {}
        for market in markets:
            entry = self._pair_info(market, display)
            out[market.key(display)] = entry if keep is None else {k: entry[k] for k in keep}
        return out

    @staticmethod
    def _pair_info(market: KrakenPair, display: bool) -> dict[str, object]:
        """One AssetPairs entry (live Kraken's fields, in its order)."""
        spec = market.spec
        return {
            "altname": market.altname,
            "wsname": market.wsname,
            "aclass_base": "currency",
            "base": market.base.code if display else market.base.id,
            "aclass_quote": "currency",
            "quote": market.quote.code if display else market.quote.id,
            "lot": "unit",
            "cost_decimals": COST_DECIMALS,
            "pair_decimals": spec.price_decimals,
            "lot_decimals": VOLUME_DECIMALS,
            "lot_multiplier": 1,
            "leverage_buy": [],
            "leverage_sell": [],
            "fees": [],  # empty on every live pair (3P, 2026-09)
            "fees_maker": [],
            "fee_volume_currency": "USD" if display else "ZUSD",
            "margin_call": 80,
            "margin_stop": 40,
            "ordermin": str(spec.lot_size),
            "costmin": "0.5",
            "tick_size": str(spec.tick_size),
            "status": "online",
        }

    def _ohlc(self, request: RestRequest) -> object:
        params = Params(request)
        name = params.text("pair", required=True)
        assert name is not None
        interval = params.interval()
        since = params.since_seconds()
        display = params.display_names()
        market = self.by_rest_name.get(name)
        if market is None:
            raise errors.unknown_asset_pair()
        name, now = market.spec.name, request.now_ms
        opens = self.model.open_times(name, interval, now_ms=now, limit=OHLC_ROWS)
        forming_open = interval.floor(now)
        if since is not None:
            # Rows strictly after ``since`` (UNVERIFIED; ccxt asks for ``since`` minus one interval,
            # which only makes sense if the bound is exclusive); the forming row always stays.
            first = bisect_left(opens, (since + 1) * 1000)
            if first == len(opens) and opens and opens[-1] == forming_open:
                first -= 1
            opens = opens[first:]
        page = self.rows.page(name, interval, opens, now, self._encoders[name])
        return {
            market.key(display): orjson.Fragment(page),
            # The newest committed candle: the next poll's ``since`` (3P live: one interval before
            # the forming row).
            "last": interval.prev(forming_open) // 1000,
        }

    @staticmethod
    def row_encoder(spec: PairSpec) -> Encoder:
        """One OHLC row as JSON bytes: ``[time (s), open, high, low, close, vwap, volume, count]``,
        prices and volume as strings at Kraken's precision.

        Not a :class:`~mockfeed.exchanges.rows.Layout`: the VWAP is a rounded division (in
        Decimal's context), so rows are made from candles (and those of closed ones cached).
        """
        places = spec.price_decimals
        numbers = [f"{{:.{places}f}}"] * 5 + [f"{{:.{VOLUME_DECIMALS}f}}"]
        template = '[{},"' + '","'.join(numbers) + '",{}]'  # the strings hold only digits and "."

        def encode(c: Candle) -> bytes:
            v = vwap(c, places)
            return template.format(c.open_time // 1000, c.open, c.high, c.low, c.close, v, c.volume, c.trades).encode()

        return encode

    # -- WebSocket ------------------------------------------------------------------------------
    def open_session(self, path: str, query: str) -> WsSession | WsReject:
        if path == "/v2":
            return V2Session(self, next(self._connection_ids))
        if path in ("", "/"):
            return V1Session(self, next(self._connection_ids))
        return WsReject(404, b"Not Found")

    def channel_id(self, pair: str, interval: Interval) -> int:
        """The v1 ``channelID`` of a (pair, interval) feed: stable for the plugin's lifetime."""
        return self._channel_ids.setdefault((pair, interval), 336 + len(self._channel_ids))

    def push_period(self, subscription: Subscription) -> float:
        return PUSH_PERIOD

    def encode_push(self, subscription: Subscription, candle: Candle, event_ms: int) -> Message:
        market = self.by_name[subscription.pair]
        version, _, name = subscription.style.partition(":")
        if version == "v1":
            channel = self.channel_id(subscription.pair, subscription.interval)
            return v1_push(channel, name, market, subscription.interval, candle, event_ms)
        update = {
            "channel": "ohlc",
            "type": "update",
            "timestamp": rfc3339(event_ms, 9),
            "data": [v2_row(market, minutes_of(subscription.interval), candle)],
        }
        return orjson.dumps(update).decode()
