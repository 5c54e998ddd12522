"""Gate WebSocket v4 candlesticks: the per-connection control protocol and the push layouts.

Requests are ``{"time", "id"?, "channel", "event", "payload"}``. ``<prefix>.candlesticks`` takes
``subscribe``/``unsubscribe`` with ``payload = [interval, market]``; ``<prefix>.ping`` answers
``<prefix>.pong``. Replies echo ``id`` and carry ``error: {code, message}`` on refusal: code 1 for a
request whose JSON does not fit the request struct, code 2 for a bad argument (ccxt: BadRequest).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import orjson

from mockfeed.exchanges.base import Action, Send, Subscribe, Subscription, Unsubscribe, WsSession
from mockfeed.exchanges.gate_io.candles import contracts, fmt
from mockfeed.market import Candle, Interval, PairSpec

_INT64 = 2**63


def spot_result(pair: PairSpec, candle: Candle, name: str) -> dict[str, object]:
    """A spot push ``result``: one object, strings but ``w``; ``v`` quote and ``a`` base volume."""
    return {
        "t": str(candle.open_time // 1000),
        "v": fmt(candle.quote_volume),
        "c": fmt(candle.close),
        "h": fmt(candle.high),
        "l": fmt(candle.low),
        "o": fmt(candle.open),
        "n": name,
        "a": fmt(candle.volume),
        "w": candle.closed,
    }


def futures_result(pair: PairSpec, candle: Candle, name: str) -> list[dict[str, object]]:
    """A futures push ``result``: a list of objects, ``t`` and ``v`` (contracts) numbers, ``a`` base."""
    return [{
        "t": candle.open_time // 1000,
        "v": contracts(pair, candle.volume),
        "c": fmt(candle.close),
        "h": fmt(candle.high),
        "l": fmt(candle.low),
        "o": fmt(candle.open),
        "n": name,
        "a": fmt(candle.volume),
        "w": candle.closed,
    }]


@attrs.frozen
class StreamRules:
    """What differs between the spot and the futures WebSocket, as data."""

    prefix: str  # channel prefix: "spot" or "futures"
    paths: tuple[str, ...]  # WebSocket URL paths served
    intervals: Mapping[str, Interval]
    push_period: float
    struct_message: str  # error code 1
    argument_message: str  # error code 2, malformed payload
    unknown_market: str  # error code 2, "{name}" unknown
    unknown_interval: str  # error code 2, "{name}" unknown (wording UNVERIFIED)
    unknown_channel: str  # error code 2, "{name}" not served (wording UNVERIFIED)
    result: Callable[[PairSpec, Candle, str], object]

    @property
    def candles_channel(self) -> str:
        """``spot.candlesticks`` or ``futures.candlesticks``."""
        return f"{self.prefix}.candlesticks"

    def code_of(self, interval: Interval) -> str:
        """The Gate code of a served interval."""
        return next(code for code, value in self.intervals.items() if value == interval)


class _Refused(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@attrs.frozen
class _Request:
    """One client request, fields typed as Gate's server decodes them."""

    id: int | None
    channel: str
    event: str
    payload: list[Any] | None

    @classmethod
    def decode(cls, text: str, struct_message: str) -> _Request:
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise _Refused(1, struct_message) from None
        if not isinstance(message, dict):
            raise _Refused(1, struct_message)
        request_id = message.get("id")
        channel = message.get("channel", "")
        event = message.get("event", "")
        payload = message.get("payload")
        sent_time = message.get("time")
        # ``time`` is documented as required within 60 s of server time; not enforced (the futures
        # docs' own examples send ``"time": 123456``), only type-checked.
        if not (
            _is_int(request_id, optional=True)
            and _is_int(sent_time, optional=True)
            and isinstance(channel, str)
            and isinstance(event, str)
            and (payload is None or isinstance(payload, list))
        ):
            raise _Refused(1, struct_message)
        return cls(request_id, channel, event, payload)


def _is_int(value: Any, *, optional: bool) -> bool:
    if value is None:
        return optional
    return isinstance(value, int) and not isinstance(value, bool) and -_INT64 <= value < _INT64


class GateSession(WsSession):
    """One Gate WebSocket connection: candlestick subscriptions and application pings."""

    def __init__(self, rules: StreamRules, markets: Mapping[str, PairSpec], conn_id: str) -> None:
        self.rules = rules
        self.markets = markets
        self.conn_id = conn_id
        self.subscribed: dict[tuple[str, str], Subscription] = {}  # (interval, market) -> stream
        self._requests = 0
        self._channels: dict[str, Callable[[_Request, int], list[Action]]] = {
            f"{rules.prefix}.ping": self._ping,
            rules.candles_channel: self._candlesticks,
        }
        self._events: dict[str, Callable[[tuple[str, str], Subscription], list[Action]]] = {
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
        }

    def on_text(self, text: str, now_ms: int) -> list[Action]:
        self._requests += 1
        try:
            request = _Request.decode(text, self.rules.struct_message)
        except _Refused as refused:
            return [self._reply(now_ms, None, refused)]
        handler = self._channels.get(request.channel)
        try:
            if handler is None:
                raise _Refused(2, self.rules.unknown_channel.format(name=request.channel))
            return handler(request, now_ms)
        except _Refused as refused:
            return [self._reply(now_ms, request, refused)]

    # -- channels -------------------------------------------------------------------------------
    def _ping(self, request: _Request, now_ms: int) -> list[Action]:
        pong: dict[str, Any] = {"time": now_ms // 1000, "time_ms": now_ms}
        if request.id is not None:
            pong["id"] = request.id
        pong |= {"channel": f"{self.rules.prefix}.pong", "event": "", "error": None, "result": None}
        return [Send(orjson.dumps(pong).decode())]

    def _candlesticks(self, request: _Request, now_ms: int) -> list[Action]:
        change = self._events.get(request.event)
        if change is None:
            raise _Refused(2, f"unknown event {request.event}")
        key, subscription = self._stream(request.payload)
        return [*change(key, subscription), self._reply(now_ms, request, None)]

    def _stream(self, payload: list[Any] | None) -> tuple[tuple[str, str], Subscription]:
        if payload is None or len(payload) != 2 or not all(isinstance(p, str) for p in payload):
            raise _Refused(2, self.rules.argument_message)
        code, name = payload
        interval = self.rules.intervals.get(code)
        if interval is None:
            raise _Refused(2, self.rules.unknown_interval.format(name=code))
        pair = self.markets.get(name)
        if pair is None:
            raise _Refused(2, self.rules.unknown_market.format(name=name))
        return (code, name), Subscription(pair.name, interval)

    def _subscribe(self, key: tuple[str, str], subscription: Subscription) -> list[Action]:
        if key in self.subscribed:
            return []
        self.subscribed[key] = subscription
        return [Subscribe(subscription)]

    def _unsubscribe(self, key: tuple[str, str], subscription: Subscription) -> list[Action]:
        if self.subscribed.pop(key, None) is None:
            return []
        return [Unsubscribe(subscription)]

    # -- replies --------------------------------------------------------------------------------
    def _reply(self, now_ms: int, request: _Request | None, refused: _Refused | None) -> Send:
        """An ack (``refused`` None) or an error frame, in Gate's current reply layout."""
        trace_id = hashlib.blake2b(f"{self.conn_id}:{self._requests}".encode(), digest_size=16).hexdigest()
        reply: dict[str, Any] = {"time": now_ms // 1000, "time_ms": now_ms}
        if request is not None and request.id is not None:
            reply["id"] = request.id
        reply |= {
            "conn_id": self.conn_id,
            "trace_id": trace_id,
            "channel": request.channel if request else "",
            "event": request.event if request else "",
        }
        if request is not None and request.payload is not None:
            reply["payload"] = request.payload
        if refused is not None:
            reply["error"] = {"code": refused.code, "message": refused.message}
        reply |= {"result": {"status": "fail" if refused else "success"}, "requestId": trace_id}
        return Send(orjson.dumps(reply).decode())
