"""OKX WebSocket: the per-connection protocol of ``/ws/v5/business`` (and ``/public``, ``/private``).

Client messages are the text ``ping`` (answered with the text ``pong``) or JSON requests
``{"id": "1", "op": "subscribe", "args": [{"channel": "candle1m", "instId": "BTC-USDT"}]}``. Each
argument is acknowledged (``{"event": "subscribe", "arg": .., "connId": ..}``) or refused with an
``{"event": "error", "code": .., "msg": .., "connId": ..}``; ``id`` is echoed when given.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from mockfeed.exchanges.base import Action, Close, Send, Subscribe, Subscription, Unsubscribe, WsSession

if TYPE_CHECKING:
    from mockfeed.exchanges.okx.plugin import _Okx

_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")  # "case-sensitive alphanumerics ... up to 32 characters"
OPS_PER_HOUR = 480  # subscribe + unsubscribe + login requests per connection and hour
_HOUR_MS = 3_600_000
IDLE_CLOSE = Close(4004, "No data received in 30s")

Handler = Callable[[Any, "str | None"], list[Action]]


_UPGRADE_NOTICE = "The connection will soon be closed for a service upgrade. Please reconnect."


class OkxSession(WsSession):
    """One OKX WebSocket connection: subscriptions, acks, errors, ``ping``/``pong`` and the idle cut."""

    def __init__(self, plugin: _Okx, business: bool, conn_id: str) -> None:
        self.plugin = plugin
        self.business = business  # only the business URL serves candle channels
        self.conn_id = conn_id
        self.channels: dict[tuple[str, str], Subscription] = {}  # (channel, instId) -> stream
        self.idle_ms = round(plugin.idle_timeout_s * 1000)
        self.tick_period = min(1.0, plugin.idle_timeout_s / 4)
        self._last_sent = 0
        self._closing = False
        self._ops: deque[int] = deque()
        self._handlers: dict[str, Handler] = {
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "login": self._login,
        }

    def on_open(self, now_ms: int) -> list[Action]:
        self._last_sent = self.wall_ms
        return []

    def on_text(self, text: str, now_ms: int) -> list[Action]:
        actions = self._answer(text, now_ms)
        if any(isinstance(a, Send) for a in actions):
            self._last_sent = self.wall_ms
        return actions

    def on_tick(self, now_ms: int) -> list[Action]:
        """Close with 4004 after ``idle_timeout_s`` with no subscription and nothing sent.

        A subscribed connection receives a push at least every second, so it never idles; an
        unsubscribed one stays open while its ``ping``s are answered with ``pong``. Measured in the
        runtime's monotonic time (``wall_ms``), whatever the market clock does.
        """
        if self.channels:
            self._last_sent = self.wall_ms
        elif self.wall_ms - self._last_sent >= self.idle_ms and not self._closing:
            self._closing = True
            return [IDLE_CLOSE]
        return []

    # -- requests ---------------------------------------------------------------------------------
    def _answer(self, text: str, now_ms: int) -> list[Action]:
        if text == "ping":
            return [Send("pong")]
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            return [self._illegal(text)]
        if not isinstance(message, dict):
            return [self._illegal(text)]
        request_id = message.get("id")
        if request_id is not None and not (isinstance(request_id, str) and _ID.match(request_id)):
            return [self._illegal(text)]
        op = message.get("op")
        if not isinstance(op, str):
            return [self._illegal(text, request_id)]
        handler = self._handlers.get(op)
        if handler is None:
            return [self._error("60019", f"Invalid op: {op}", request_id)]
        if not self._count_op(self.wall_ms):
            return [self._error("60014", "Requests too frequent", request_id)]
        return handler(message.get("args"), request_id)

    def _count_op(self, wall_ms: int) -> bool:
        """Record one request against the hourly allowance (in monotonic time); False if used up."""
        while self._ops and self._ops[0] <= wall_ms - _HOUR_MS:
            self._ops.popleft()
        if len(self._ops) >= OPS_PER_HOUR:
            return False
        self._ops.append(wall_ms)
        return True

    def _subscribe(self, args: Any, request_id: str | None) -> list[Action]:
        return self._change(args, request_id, subscribe=True)

    def _unsubscribe(self, args: Any, request_id: str | None) -> list[Action]:
        return self._change(args, request_id, subscribe=False)

    def _login(self, args: Any, request_id: str | None) -> list[Action]:
        return [self._error("60009", "Login failure", request_id)]  # the mock has no accounts

    def _change(self, args: Any, request_id: str | None, *, subscribe: bool) -> list[Action]:
        """Acknowledge or refuse each argument in turn.

        UNVERIFIED: how OKX answers a request mixing good and bad arguments; here each one gets its
        own ack or error.
        """
        if not isinstance(args, list) or not args:
            return [self._error("60013", "Invalid args", request_id)]
        actions: list[Action] = []
        for arg in args:
            if not isinstance(arg, dict) or not isinstance(arg.get("channel"), str):
                actions.append(self._error("60013", "Invalid args", request_id))
                continue
            channel, inst_id = arg["channel"], arg.get("instId")
            found = self._resolve(channel, inst_id)
            if found is None:
                actions.append(self._error("60018", _wrong_url(arg), request_id))
                continue
            key = (channel, str(inst_id))
            if subscribe and key not in self.channels:
                self.channels[key] = found
                actions.append(Subscribe(found))
            elif not subscribe and key in self.channels:
                actions.append(Unsubscribe(self.channels.pop(key)))
            event = "subscribe" if subscribe else "unsubscribe"
            actions.append(self._event(event, {"channel": channel, "instId": inst_id}, request_id))
        return actions

    def _resolve(self, channel: str, inst_id: Any) -> Subscription | None:
        if not self.business or not isinstance(inst_id, str):
            return None
        return self.plugin.resolve(channel, inst_id)

    def farewell(self, now_ms: int) -> str | None:
        """OKX's 64008 notice, with this connection's connId, before a closing for an upgrade."""
        return orjson.dumps(
            {"event": "notice", "code": "64008", "msg": _UPGRADE_NOTICE, "connId": self.conn_id}
        ).decode()

    # -- replies ----------------------------------------------------------------------------------
    def _event(self, event: str, arg: dict[str, Any], request_id: str | None) -> Send:
        body: dict[str, Any] = {} if request_id is None else {"id": request_id}
        body.update({"event": event, "arg": arg, "connId": self.conn_id})
        return Send(orjson.dumps(body).decode())

    def _error(self, code: str, msg: str, request_id: str | None) -> Send:
        body: dict[str, Any] = {} if request_id is None else {"id": request_id}
        body.update({"event": "error", "code": code, "msg": msg, "connId": self.conn_id})
        return Send(orjson.dumps(body).decode())

    def _illegal(self, text: str, request_id: str | None = None) -> Send:
        # The spec quotes "Invalid request: {...}"; ccxt (and OKX's messages it records) use
        # "Illegal request: {...}" and parse the request id back out of it, so ccxt wins.
        return self._error("60012", f"Illegal request: {text}", request_id)


def _wrong_url(arg: dict[str, Any]) -> str:
    """60018's message, naming the argument as OKX does (``channel:candle1m,instId:BTC-USDT``)."""
    named = ",".join(f"{key}:{value}" for key, value in arg.items())
    return (
        f"Wrong URL or {named} doesn't exist. "
        "Please use the correct URL, channel and parameters referring to API document."
    )
