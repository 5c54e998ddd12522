"""Kraken's public WebSocket protocols, sans-IO: v2 (``/v2``, what ccxt uses) and v1 (``/``).

v2: ``{"method": "subscribe", "params": {"channel": "ohlc", "symbol": ["BTC/USD"], "interval": 1}}``,
one ack per symbol, a ``snapshot`` of recent candles, then ``update`` pushes; ``{"method": "ping"}``
is answered ``{"method": "pong", ...}``; ``{"channel": "heartbeat"}`` every second once anything is
subscribed; a ``status`` message on connect. v1: ``{"event": "subscribe", "pair": ["XBT/USD"],
"subscription": {"name": "ohlc", "interval": 1}}``, ``subscriptionStatus`` acks, array pushes on
channel ``ohlc-<minutes>``, ``{"event": "heartbeat"}``, ``{"event": "ping"}`` → ``{"event": "pong"}``.

Error texts verified live (3P captures, 2026-08/09): "Currency pair not supported <symbol>",
"Currency pair not in ISO 4217-A3 format <symbol>", "Unsupported field: '<f>' for the given msg
type: <method>", the private-channel refusal. The others are UNVERIFIED and taken from the list of
Kraken texts ccxt knows ("Malformed request", "Event(s) not found", "Subscription ohlc interval not
supported", ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from mockfeed.exchanges.base import Action, Send, Subscribe, Subscription, Unsubscribe, WsSession
from mockfeed.exchanges.kraken.names import KrakenPair
from mockfeed.exchanges.kraken.wire import (
    INTERVALS,
    VOLUME_DECIMALS,
    epoch_seconds,
    fixed,
    minutes_of,
    number,
    rfc3339,
    vwap,
)
from mockfeed.market import Candle, Interval

if TYPE_CHECKING:
    from mockfeed.exchanges.kraken.plugin import KrakenSpot

HEARTBEAT_PERIOD = 1.0  # seconds; sent every second while subscribed (3P live: 90 in 90 s)
#: v2 snapshot rows: the 12 previous candles and the forming one (a live snapshot at 17:44:43 began
#: at 17:32; UNVERIFIED as a rule).
SNAPSHOT_ROWS = 13
V2_VERSION = "2.0.10"
V1_VERSION = "1.9.5"
TIMESTAMP_WARNING = "timestamp is deprecated, use interval_begin"  # live ohlc subscribe ack

MALFORMED = "Malformed request"
UNKNOWN_METHOD = "Event(s) not found"
SYMBOL_ARRAY = "Symbol field must be an array"
PAIR_ARRAY = "Pair field must be an array"
SUBSCRIPTION_OBJECT = "Subscription field must be an object"
NAME_INVALID = "Subscription name invalid"
INTERVAL_INTEGER = "Subscription ohlc interval must be an integer"
INTERVAL_UNSUPPORTED = "Subscription ohlc interval not supported"
ALREADY_SUBSCRIBED = "Already subscribed"
NOT_SUBSCRIBED = "Subscription Not Found"
PRIVATE_CHANNEL = "Private data and trading are unavailable on this endpoint. Try ws-auth.kraken.com"
#: Symbols one subscribe or unsubscribe may name (a mock bound, UNVERIFIED on Kraken): each gets
#: its own reply, so an unbounded list would let one 1 MiB message cost ~1 s and ~12 MB of replies.
MAX_SYMBOLS = 1000
TOO_MANY_SYMBOLS = f"Too many symbols in one request (at most {MAX_SYMBOLS})"
PRIVATE_CHANNELS = frozenset({"executions", "balances", "level3"})
_OHLC_FIELDS = frozenset({"channel", "symbol", "interval", "snapshot"})
_PAIR_FORMAT = re.compile(r"[A-Z0-9]{1,16}/[A-Z0-9]{1,16}")


class Refusal(Exception):
    """A request the server answers with an error message (``text``), for ``symbol`` if given."""

    def __init__(self, text: str, symbol: str | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.symbol = symbol


def _interval(raw: Any) -> Interval:
    """An ``interval`` field in minutes (1 when absent, as in v1; UNVERIFIED for v2)."""
    if raw is None:
        return INTERVALS[1]
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise Refusal(INTERVAL_INTEGER)
    interval = INTERVALS.get(raw)
    if interval is None:
        raise Refusal(INTERVAL_UNSUPPORTED)
    return interval


def _names(raw: Any, text: str) -> list[str]:
    """A non-empty array of pair names."""
    if not isinstance(raw, list) or not raw or not all(isinstance(s, str) for s in raw):
        raise Refusal(text)
    if len(raw) > MAX_SYMBOLS:
        raise Refusal(TOO_MANY_SYMBOLS)
    return raw


def _market(table: dict[str, KrakenPair], name: str) -> KrakenPair:
    """The pair a WebSocket name refers to, or the live refusals for a bad or unknown one."""
    if _PAIR_FORMAT.fullmatch(name) is None:
        raise Refusal(f"Currency pair not in ISO 4217-A3 format {name}", name)
    market = table.get(name)
    if market is None:
        raise Refusal(f"Currency pair not supported {name}", name)
    return market


def _dumps(body: Any, *, sort: bool = False) -> str:
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS if sort else 0).decode()


def v2_row(market: KrakenPair, minutes: int, candle: Candle) -> dict[str, Any]:
    """One v2 candle: prices as JSON numbers at the pair's precision, RFC 3339 times."""
    places = market.spec.price_decimals
    return {
        "symbol": market.symbol,
        "open": number(candle.open, places),
        "high": number(candle.high, places),
        "low": number(candle.low, places),
        "close": number(candle.close, places),
        "trades": candle.trades,
        "volume": number(candle.volume, VOLUME_DECIMALS),
        "vwap": number(vwap(candle, places), places),
        "interval_begin": rfc3339(candle.open_time, 9),
        "interval": minutes,
        "timestamp": rfc3339(candle.close_time + 1),  # deprecated field: the interval's end
    }


def v1_push(
    channel_id: int, name: str, market: KrakenPair, interval: Interval, candle: Candle, event_ms: int
) -> str:
    """``[channelID, [last update, end, o, h, l, c, vwap, volume, count], "ohlc-N", pair]``."""
    places = market.spec.price_decimals
    end_ms = candle.close_time + 1
    values = [
        epoch_seconds(min(event_ms, candle.close_time)),
        epoch_seconds(end_ms),
        fixed(candle.open, places),
        fixed(candle.high, places),
        fixed(candle.low, places),
        fixed(candle.close, places),
        fixed(vwap(candle, places), places),
        fixed(candle.volume, VOLUME_DECIMALS),
        candle.trades,
    ]
    return _dumps([channel_id, values, f"ohlc-{minutes_of(interval)}", name])


Handler = Callable[[dict[str, Any], Any, int], list[Action]]


class _KrakenSession(WsSession):
    """What both protocol versions share: feeds per (name as asked, interval) and heartbeats."""

    tick_period = HEARTBEAT_PERIOD
    heartbeat_message = ""

    def __init__(self, plugin: KrakenSpot, connection_id: int) -> None:
        self.plugin = plugin
        self.connection_id = connection_id
        self.feeds: dict[tuple[str, Interval], Subscription] = {}
        self.heartbeats = False  # v2: subscribed to the heartbeat channel itself

    def on_tick(self, now_ms: int) -> list[Action]:
        if self.feeds or self.heartbeats:
            return [Send(self.heartbeat_message)]
        return []


class V2Session(_KrakenSession):
    """One ``/v2`` connection."""

    heartbeat_message = '{"channel":"heartbeat"}'

    def __init__(self, plugin: KrakenSpot, connection_id: int) -> None:
        super().__init__(plugin, connection_id)
        self._methods: dict[str, Handler] = {
            "ping": self._ping,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
        }

    def on_open(self, now_ms: int) -> list[Action]:
        status = {
            "channel": "status",
            "type": "update",
            "data": [{
                "version": V2_VERSION,
                "system": "online",
                "api_version": "v2",
                "connection_id": self.connection_id,
                "upcoming_maintenance": [],
                "emergency": [],
            }],
        }
        return [Send(_dumps(status))]

    def on_text(self, text: str, now_ms: int) -> list[Action]:
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            return [self._reply(now_ms, None, None, error=MALFORMED)]
        if not isinstance(message, dict):
            return [self._reply(now_ms, None, None, error=MALFORMED)]
        method, req_id = message.get("method"), message.get("req_id")
        handler = self._methods.get(method) if isinstance(method, str) else None
        if handler is None:
            shown = method if isinstance(method, str) else None
            return [self._reply(now_ms, shown, req_id, error=UNKNOWN_METHOD)]
        try:
            return handler(message, req_id, now_ms)
        except Refusal as refusal:
            return [self._reply(now_ms, method, req_id, error=refusal.text, symbol=refusal.symbol)]

    def _reply(
        self,
        now_ms: int,
        method: str | None,
        req_id: Any,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        symbol: str | None = None,
    ) -> Send:
        """A method response: keys in alphabetical order, as Kraken sends them."""
        body: dict[str, Any] = {"success": error is None, "time_in": rfc3339(now_ms),
                                "time_out": rfc3339(now_ms)}
        optional = {"method": method, "req_id": req_id, "result": result, "error": error,
                    "symbol": symbol}
        body.update({k: v for k, v in optional.items() if v is not None})
        return Send(_dumps(body, sort=True))

    def _ping(self, message: dict[str, Any], req_id: Any, now_ms: int) -> list[Action]:
        extra = next((k for k in message if k not in ("method", "req_id")), None)
        if extra is not None:
            raise Refusal(f"Unsupported field: '{extra}' for the given msg type: ping")
        body: dict[str, Any] = {"method": "pong", "time_in": rfc3339(now_ms),
                                "time_out": rfc3339(now_ms)}
        if req_id is not None:
            body["req_id"] = req_id
        return [Send(_dumps(body, sort=True))]

    def _channel(self, message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        params = message.get("params")
        if not isinstance(params, dict) or not isinstance(params.get("channel"), str):
            raise Refusal(MALFORMED)
        channel: str = params["channel"]
        if channel in PRIVATE_CHANNELS:
            raise Refusal(PRIVATE_CHANNEL)
        if channel not in ("ohlc", "heartbeat", "status"):
            # Kraken's book/ticker/trade/instrument channels are not mocked (UNVERIFIED text).
            raise Refusal(f"Channel {channel} not supported")
        return channel, params

    def _ohlc_params(self, params: dict[str, Any], method: str) -> tuple[list[str], Interval]:
        extra = next((k for k in params if k not in _OHLC_FIELDS), None)
        if extra is not None:
            raise Refusal(f"Unsupported field: '{extra}' for the given msg type: {method}")
        return _names(params.get("symbol"), SYMBOL_ARRAY), _interval(params.get("interval"))

    def _subscribe(self, message: dict[str, Any], req_id: Any, now_ms: int) -> list[Action]:
        channel, params = self._channel(message)
        if channel != "ohlc":
            self.heartbeats = self.heartbeats or channel == "heartbeat"
            return [self._reply(now_ms, "subscribe", req_id, result={"channel": channel})]
        symbols, interval = self._ohlc_params(params, "subscribe")
        snapshot = params.get("snapshot", True)
        if not isinstance(snapshot, bool):
            raise Refusal(MALFORMED)
        minutes = minutes_of(interval)
        actions: list[Action] = []
        for symbol in symbols:
            try:
                market = _market(self.plugin.by_symbol, symbol)
                if (symbol, interval) in self.feeds:
                    raise Refusal(ALREADY_SUBSCRIBED, symbol)
            except Refusal as refusal:
                actions.append(self._reply(now_ms, "subscribe", req_id, error=refusal.text,
                                           symbol=refusal.symbol))
                continue
            subscription = Subscription(market.spec.name, interval, "v2")
            self.feeds[(symbol, interval)] = subscription
            result = {"channel": "ohlc", "interval": minutes, "snapshot": snapshot, "symbol": symbol,
                      "warnings": [TIMESTAMP_WARNING]}
            actions.append(self._reply(now_ms, "subscribe", req_id, result=result))
            if snapshot:
                actions.append(Send(self._snapshot(market, interval, now_ms)))
            actions.append(Subscribe(subscription))
        return actions

    def _snapshot(self, market: KrakenPair, interval: Interval, now_ms: int) -> str:
        candles = self.plugin.model.candles(
            market.spec.name, interval, now_ms=now_ms, limit=SNAPSHOT_ROWS
        )
        minutes = minutes_of(interval)
        return _dumps({
            "channel": "ohlc",
            "type": "snapshot",
            "timestamp": rfc3339(now_ms, 9),
            "data": [v2_row(market, minutes, c) for c in candles],
        })

    def _unsubscribe(self, message: dict[str, Any], req_id: Any, now_ms: int) -> list[Action]:
        channel, params = self._channel(message)
        if channel != "ohlc":
            if channel == "heartbeat":
                self.heartbeats = False
            return [self._reply(now_ms, "unsubscribe", req_id, result={"channel": channel})]
        symbols, interval = self._ohlc_params(params, "unsubscribe")
        actions: list[Action] = []
        for symbol in symbols:
            try:
                _market(self.plugin.by_symbol, symbol)
                subscription = self.feeds.pop((symbol, interval), None)
                if subscription is None:
                    raise Refusal(NOT_SUBSCRIBED, symbol)
            except Refusal as refusal:
                actions.append(self._reply(now_ms, "unsubscribe", req_id, error=refusal.text,
                                           symbol=refusal.symbol))
                continue
            result = {"channel": "ohlc", "interval": minutes_of(interval), "symbol": symbol}
            actions += [Unsubscribe(subscription),
                        self._reply(now_ms, "unsubscribe", req_id, result=result)]
        return actions


class V1Session(_KrakenSession):
    """One v1 connection (``wss://ws.kraken.com``): pairs as ``XBT/USD`` (or ``BTC/USD``)."""

    heartbeat_message = '{"event":"heartbeat"}'

    def __init__(self, plugin: KrakenSpot, connection_id: int) -> None:
        super().__init__(plugin, connection_id)
        self._events: dict[str, Handler] = {
            "ping": self._ping,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
        }

    def on_open(self, now_ms: int) -> list[Action]:
        status = {"connectionID": self.connection_id, "event": "systemStatus", "status": "online",
                  "version": V1_VERSION}
        return [Send(_dumps(status, sort=True))]

    def on_text(self, text: str, now_ms: int) -> list[Action]:
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            return [_v1_error(MALFORMED, None)]
        if not isinstance(message, dict):
            return [_v1_error(MALFORMED, None)]
        event, reqid = message.get("event"), message.get("reqid")
        handler = self._events.get(event) if isinstance(event, str) else None
        if handler is None:
            return [_v1_error(UNKNOWN_METHOD, reqid)]
        return handler(message, reqid, now_ms)

    def _ping(self, message: dict[str, Any], reqid: Any, now_ms: int) -> list[Action]:
        body: dict[str, Any] = {"event": "pong"}
        if reqid is not None:
            body["reqid"] = reqid
        return [Send(_dumps(body, sort=True))]

    def _status(self, reqid: Any, subscription: Any, **fields: Any) -> Send:
        body: dict[str, Any] = {"event": "subscriptionStatus", "subscription": subscription, **fields}
        if reqid is not None:
            body["reqid"] = reqid
        return Send(_dumps(body, sort=True))

    def _request(self, message: dict[str, Any]) -> tuple[list[str], Interval]:
        subscription = message.get("subscription")
        if not isinstance(subscription, dict):
            raise Refusal(SUBSCRIPTION_OBJECT)
        if subscription.get("name") != "ohlc":  # only candles are mocked
            raise Refusal(NAME_INVALID)
        interval = _interval(subscription.get("interval"))
        return _names(message.get("pair"), PAIR_ARRAY), interval

    def _change(self, message: dict[str, Any], reqid: Any, now_ms: int, subscribe: bool) -> list[Action]:
        sent = message.get("subscription")
        shown = sent if isinstance(sent, dict) else {}
        try:
            pairs, interval = self._request(message)
        except Refusal as refusal:
            return [self._status(reqid, shown, status="error", errorMessage=refusal.text)]
        minutes = minutes_of(interval)
        subscription_field = {"interval": minutes, "name": "ohlc"}
        actions: list[Action] = []
        for name in pairs:
            try:
                market = _market(self.plugin.by_v1_name, name)
                key = (name, interval)
                if subscribe and key in self.feeds:
                    raise Refusal(ALREADY_SUBSCRIBED, name)
                if not subscribe and key not in self.feeds:
                    raise Refusal(NOT_SUBSCRIBED, name)
            except Refusal as refusal:
                actions.append(self._status(reqid, shown, status="error", pair=name,
                                            errorMessage=refusal.text))
                continue
            channel_id = self.plugin.channel_id(market.spec.name, interval)
            fields = {"channelID": channel_id, "channelName": f"ohlc-{minutes}", "pair": name}
            if subscribe:
                feed = Subscription(market.spec.name, interval, f"v1:{name}")
                self.feeds[key] = feed
                actions.append(self._status(reqid, subscription_field, status="subscribed", **fields))
                # The last valid candle comes first, then updates (Kraken v1 docs).
                candle = self.plugin.model.candle(market.spec.name, interval, now_ms, now_ms)
                if candle is not None:
                    actions.append(Send(v1_push(channel_id, name, market, interval, candle, now_ms)))
                actions.append(Subscribe(feed))
            else:
                actions.append(Unsubscribe(self.feeds.pop(key)))
                actions.append(self._status(reqid, subscription_field, status="unsubscribed", **fields))
        return actions

    def _subscribe(self, message: dict[str, Any], reqid: Any, now_ms: int) -> list[Action]:
        return self._change(message, reqid, now_ms, subscribe=True)

    def _unsubscribe(self, message: dict[str, Any], reqid: Any, now_ms: int) -> list[Action]:
        return self._change(message, reqid, now_ms, subscribe=False)


def _v1_error(text: str, reqid: Any) -> Send:
    body: dict[str, Any] = {"errorMessage": text, "event": "error"}
    if reqid is not None:
        body["reqid"] = reqid
    return Send(_dumps(body, sort=True))
