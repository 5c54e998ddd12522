"""Hyperliquid's WebSocket (``/ws``): subscriptions, acks, errors, ``ping`` and the idle cut-off.

Requests are ``{"method": "subscribe" | "unsubscribe", "subscription": {...}}``,
``{"method": "ping"}`` and ``{"method": "post", "id": n, "request": {"type": "info", "payload": {...}}}``.
Replies travel on channels: ``subscriptionResponse`` (the subscription echoed as the server parsed
it), ``pong``, ``post`` and ``error`` (a bare string). Candle pushes are ``{"channel": "candle",
"data": {...}}`` with the same row as ``candleSnapshot``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from mockfeed.exchanges.base import Action, Close, Send, Subscribe, Subscription, Unsubscribe, WsSession
from mockfeed.exchanges.hyperliquid import errors, schema
from mockfeed.exchanges.hyperliquid.wire import INTERVALS

if TYPE_CHECKING:
    from mockfeed.exchanges.hyperliquid.plugin import _Hyperliquid

#: The text frame Hyperliquid sends right after the handshake (the official SDK skips it).
WELCOME = "Websocket connection established."
PONG = '{"channel":"pong"}'
#: Subscription types Hyperliquid knows besides ``candle``: acknowledged and kept silent, so a
#: client that also watches trades or books is not refused (an ``error`` frame fails every pending
#: ccxt future on the connection).
SILENT_TYPES = frozenset({
    "allMids", "l2Book", "trades", "bbo", "activeAssetCtx", "activeAssetData", "notification",
    "webData2", "orderUpdates", "userEvents", "userFills", "userFundings",
    "userNonFundingLedgerUpdates", "userTwapSliceFills", "userTwapHistory", "clearinghouseState",
    "spotState", "openOrders",
})
_POST_TYPES = {"info": True, "action": True}
ECHO_LIMIT = 2000  # characters of an unparsable request echoed back in its error message
# The close of an idle connection: Hyperliquid documents the 60 s cut-off, not its close frame
# (UNVERIFIED); a normal closure is the least surprising choice.
IDLE_CLOSE = Close(1000, "")

Handler = Callable[[dict[str, Any], int], list[Action]]


def _send(channel: str, data: Any) -> Send:
    return Send(orjson.dumps({"channel": channel, "data": data}).decode())


def error(message: str) -> Send:
    """An ``error`` channel frame."""
    return _send("error", message)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


@attrs.frozen
class _Parsed:
    """A parsed subscription: its compact JSON (the key), its echo, and its candle stream if served."""

    key: str
    echo: dict[str, Any]
    candle: bool
    stream: Subscription | None  # None for a non-candle type, or a candle coin not served


class HyperliquidSession(WsSession):
    """One ``/ws`` connection: candle subscriptions, silent others, ``ping``, info ``post``s."""

    def __init__(self, plugin: _Hyperliquid) -> None:
        self.plugin = plugin
        self.tick_period = plugin.idle_check_s
        self.candles: dict[str, Subscription] = {}  # canonical subscription JSON -> stream
        self.silent: set[str] = set()  # canonical JSON of acknowledged non-candle subscriptions
        self._last_sent = 0
        self._closing = False
        self._methods: dict[str, Handler] = {
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "ping": self._ping,
            "post": self._post,
        }

    def on_open(self, now_ms: int) -> list[Action]:
        self._last_sent = self.wall_ms
        return [Send(WELCOME)]

    def on_text(self, text: str, now_ms: int) -> list[Action]:
        try:
            message = schema.decode(text)
            _, handler = schema.variant(message, "method", self._methods)
            actions = handler(message, now_ms)
        except (schema.MalformedJson, schema.SchemaError):
            actions = [error(f"Error parsing JSON into valid websocket request: {text[:ECHO_LIMIT]}")]
        if any(isinstance(a, Send) for a in actions):
            self._last_sent = self.wall_ms
        return actions

    def on_tick(self, now_ms: int) -> list[Action]:
        """Close a connection sent nothing for ``idle_timeout_s``.

        A candle subscription gets a push every second, so a connection holding one never idles; any
        other stays open while the server answers something (a ``pong`` counts). Measured in the
        runtime's monotonic time (``wall_ms``), whatever the market clock does.
        """
        if self.candles:
            self._last_sent = self.wall_ms
        elif self.wall_ms - self._last_sent >= self.plugin.idle_timeout_s * 1000 and not self._closing:
            self._closing = True
            return [IDLE_CLOSE]
        return []

    # -- methods ----------------------------------------------------------------------------------
    def _parse(self, message: dict[str, Any]) -> _Parsed:
        """The subscription a subscribe/unsubscribe request names.

        A candle subscription is echoed as the server parses it (``type``, ``coin``, ``interval``);
        another known type as sent.
        """
        subscription = schema.obj(message, "subscription")
        kind = schema.string(subscription, "type")
        if kind == "candle":
            coin = schema.string(subscription, "coin")
            code, _ = schema.variant(subscription, "interval", INTERVALS)
            echo = {"type": "candle", "coin": coin, "interval": code}
            return _Parsed(_dumps(echo), echo, True, self.plugin.resolve(coin, code))
        if kind not in SILENT_TYPES:
            raise schema.SchemaError(f"unknown subscription type {kind!r}")
        return _Parsed(_dumps(subscription), subscription, False, None)

    def _subscribe(self, message: dict[str, Any], now_ms: int) -> list[Action]:
        parsed = self._parse(message)
        key = parsed.key
        if parsed.candle and parsed.stream is None:
            return [error(f"Invalid subscription {key}")]
        if key in self.candles or key in self.silent:
            return [error(f"Already subscribed: {key}")]
        if len(self.candles) + len(self.silent) >= self.plugin.max_subscriptions:
            # Hyperliquid's limit (1000 per IP) is documented, its message is not (UNVERIFIED).
            return [error(f"Cannot track more than {self.plugin.max_subscriptions} total subscriptions")]
        ack = _ack("subscribe", parsed.echo)
        if parsed.stream is None:
            self.silent.add(key)
            return [ack]
        self.candles[key] = parsed.stream
        return [ack, Subscribe(parsed.stream)]

    def _unsubscribe(self, message: dict[str, Any], now_ms: int) -> list[Action]:
        parsed = self._parse(message)
        stream = self.candles.pop(parsed.key, None)
        if stream is not None:
            return [_ack("unsubscribe", parsed.echo), Unsubscribe(stream)]
        if parsed.key in self.silent:
            self.silent.discard(parsed.key)
            return [_ack("unsubscribe", parsed.echo)]
        return [error(f"Already unsubscribed: {parsed.key}")]

    def _ping(self, message: dict[str, Any], now_ms: int) -> list[Action]:
        return [Send(PONG)]

    def _post(self, message: dict[str, Any], now_ms: int) -> list[Action]:
        request_id = schema.u64(message, "id")
        request = schema.obj(message, "request")
        kind, _ = schema.variant(request, "type", _POST_TYPES)
        payload = schema.obj(request, "payload")
        if kind == "action":
            # Signed actions need an account; a market-data mock has none.
            response: dict[str, Any] = {"type": "error", "payload": "Actions are not supported by this server"}
        else:
            try:
                data = self.plugin.answer(payload, now_ms)
                response = {"type": "info", "payload": {"type": payload["type"], "data": data}}
            except schema.SchemaError:
                response = {"type": "error", "payload": errors.DESERIALIZE_TEXT}
        return [_send("post", {"id": request_id, "response": response})]


def _ack(method: str, echo: dict[str, Any]) -> Send:
    return _send("subscriptionResponse", {"method": method, "subscription": echo})
