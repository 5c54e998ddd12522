"""KuCoin public WebSocket: token check, welcome, JSON ping/pong, subscribe/unsubscribe with acks.

Grammar (one JSON object per message)::

    {"id": "1", "type": "subscribe", "topic": "/market/candles:BTC-USDT_1min", "response": true}
    {"id": "1", "type": "ack"}                                   (only when "response" is true)
    {"id": "2", "type": "ping"}  ->  {"id": "2", "type": "pong"}
    {"id": "3", "type": "error", "code": 404, "data": "topic ... is not found"}

A topic may list several ``SYMBOL_TYPE`` items separated by commas (at most 100 at a time, 300 per
connection). Any client message counts as activity; a connection silent for longer than
``pingInterval + pingTimeout`` (as handed out by bullet-public) is closed. Silence is measured in
ticks (each ``tick_period`` seconds of real time), not in market time, so an accelerated or nudged
market clock does not cut healthy connections.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from mockfeed.exchanges.base import (
    Action,
    Close,
    Send,
    Subscribe,
    Subscription,
    Unsubscribe,
    WsSession,
)
from mockfeed.exchanges.kucoin.tokens import TokenState

if TYPE_CHECKING:
    from mockfeed.exchanges.kucoin.plugin import _Kucoin

MAX_TOPICS_PER_MESSAGE = 100
MAX_TOPICS_PER_SESSION = 300
MAX_MESSAGES = 100  # client messages per window
MESSAGE_WINDOW_MS = 10_000

# Close codes and some wordings are not documented by KuCoin (UNVERIFIED); they follow what
# clients have logged: 401 "token is expired" (ccxt renegotiates on exactly this text), 404 topic
# not found, 400 topic invalid, 415 type not supported, 509 for limits.
TOKEN_CLOSE = 1008
IDLE_CLOSE = 1000
_TOKEN_ERRORS = {TokenState.INVALID: "token is invalid", TokenState.EXPIRED: "token is expired"}


class KucoinSession(WsSession):
    """One connection to a KuCoin public WebSocket endpoint."""

    def __init__(self, plugin: _Kucoin, token: str | None, connect_id: str | None) -> None:
        self.plugin = plugin
        self.token = token
        self.connect_id = connect_id
        self.topics: dict[str, Subscription] = {}  # single-item topic -> stream, in subscription order
        self.tick_s = plugin.idle_check_s
        self.tick_period = self.tick_s
        self.silent_ticks = 0
        self.closed = False
        self._recent: deque[int] = deque()
        self._handlers: dict[str, Callable[[dict[str, Any], Any], list[Action]]] = {
            "ping": self._ping,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
        }

    def on_open(self, now_ms: int) -> list[Action]:
        state = self.plugin.tokens.check(self.token, now_ms)
        if state is not TokenState.VALID:
            self.closed = True
            reason = _TOKEN_ERRORS[state]
            return [_error(None, 401, reason), Close(TOKEN_CLOSE, reason)]
        welcome = {"id": self.connect_id or str(now_ms), "type": "welcome"}
        return [Send(orjson.dumps(welcome).decode())]

    def on_tick(self, now_ms: int) -> list[Action]:
        if self.closed:
            return []
        self.silent_ticks += 1
        if self.silent_ticks * self.tick_s * 1000 <= self.plugin.idle_limit_ms:
            return []
        self.closed = True
        return [Close(IDLE_CLOSE, "ping timeout")]

    def on_text(self, text: str, now_ms: int) -> list[Action]:
        if self.closed:
            return []
        self.silent_ticks = 0
        if not self._admit(self.wall_ms):
            return [_error(None, 509, "exceed max permits per 10 seconds")]
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            return [_error(None, 400, "invalid json format")]
        if not isinstance(message, dict):
            return [_error(None, 400, "invalid json format")]
        request_id = message.get("id")
        kind = message.get("type")
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            return [_error(request_id, 415, "type is not supported")]
        return handler(message, request_id)

    def _admit(self, wall_ms: int) -> bool:
        """Count one client message against KuCoin's 100 per 10 seconds (of monotonic time)."""
        while self._recent and wall_ms - self._recent[0] >= MESSAGE_WINDOW_MS:
            self._recent.popleft()
        if len(self._recent) >= MAX_MESSAGES:
            return False
        self._recent.append(wall_ms)
        return True

    def _ping(self, message: dict[str, Any], request_id: Any) -> list[Action]:
        return [_reply("pong", request_id)]

    def _streams(self, topic: Any) -> list[tuple[str, Subscription]]:
        """The (single-item topic, stream) pairs a topic names; raises :class:`_Refused` if none."""
        prefix = self.plugin.product.topic_prefix
        if not isinstance(topic, str) or ":" not in topic:
            shown = topic if isinstance(topic, str) else orjson.dumps(topic).decode()
            raise _Refused(400, f"topic {shown} is invalid")
        channel, _, listed = topic.partition(":")
        if channel + ":" != prefix:
            raise _Refused(404, f"topic {topic} is not found")
        items = listed.split(",")
        if len(items) > MAX_TOPICS_PER_MESSAGE:
            raise _Refused(
                509, f"exceed max subscription count limitation of {MAX_TOPICS_PER_MESSAGE} per time"
            )
        out: list[tuple[str, Subscription]] = []
        for item in items:
            symbol, sep, code = item.rpartition("_")
            if not sep or not symbol or not code:
                raise _Refused(400, f"topic {topic} is invalid")
            stream = self.plugin.resolve_stream(symbol, code)
            if stream is None:
                raise _Refused(404, f"topic {topic} is not found")
            out.append((prefix + item, stream))
        return out

    def _subscribe(self, message: dict[str, Any], request_id: Any) -> list[Action]:
        try:
            streams = self._streams(message.get("topic"))
        except _Refused as refused:
            return [_error(request_id, refused.code, refused.data)]
        fresh = {name: stream for name, stream in streams if name not in self.topics}
        if len(self.topics) + len(fresh) > MAX_TOPICS_PER_SESSION:
            limit = f"exceed max subscription count limitation of {MAX_TOPICS_PER_SESSION} per session"
            return [_error(request_id, 509, limit)]
        self.topics.update(fresh)
        actions: list[Action] = [Subscribe(stream) for stream in fresh.values()]
        return actions + _ack(message, request_id)

    def _unsubscribe(self, message: dict[str, Any], request_id: Any) -> list[Action]:
        try:
            streams = self._streams(message.get("topic"))
        except _Refused as refused:
            return [_error(request_id, refused.code, refused.data)]
        actions: list[Action] = [
            Unsubscribe(self.topics.pop(name)) for name, _ in streams if name in self.topics
        ]
        return actions + _ack(message, request_id)


class _Refused(Exception):
    """A topic the server refuses, with the error frame's code and text."""

    def __init__(self, code: int, data: str) -> None:
        super().__init__(data)
        self.code = code
        self.data = data


def _frame(body: dict[str, Any], request_id: Any) -> Send:
    payload = {"id": request_id, **body} if request_id is not None else body
    return Send(orjson.dumps(payload).decode())


def _reply(kind: str, request_id: Any) -> Send:
    return _frame({"type": kind}, request_id)


def _error(request_id: Any, code: int, data: str) -> Send:
    return _frame({"type": "error", "code": code, "data": data}, request_id)


def _ack(message: dict[str, Any], request_id: Any) -> list[Action]:
    """The ack, only when the request asked for one with ``"response": true``."""
    return [_reply("ack", request_id)] if message.get("response") is True else []
