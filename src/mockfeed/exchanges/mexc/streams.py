"""MEXC WebSocket sessions: spot (``/ws``, JSON control, protobuf pushes) and contract (``/edge``, JSON).

Both APIs rely on client pings (no server protocol pings) and cut idle connections:

* spot: ``{"method":"SUBSCRIPTION"|"UNSUBSCRIPTION"|"PING", "params": [...], "id": n}`` answered
  ``{"id": n, "code": 0, "msg": ...}`` where ``msg`` echoes the channels (a refusal is still code 0,
  told apart only by its text); at most 30 subscriptions; closed after 30 s without a subscription and
  after 24 h in any case.
* contract: ``{"method":"sub.kline"|"unsub.kline"|"ping", "param": {...}}`` answered on ``rs.*``
  channels and ``pong``; closed when no ping came for 60 s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from mockfeed.exchanges.base import Action, Close, Send, Subscribe, Subscription, Unsubscribe, WsSession
from mockfeed.exchanges.mexc.limits import WS_CLOSE_CODE, WS_CLOSE_REASON, ws_meter

if TYPE_CHECKING:
    from mockfeed.exchanges.mexc.plugin import _Mexc

IDLE_CLOSE = 1000  # MEXC just ends an idle connection; no documented close code (UNVERIFIED)


@attrs.frozen
class Limits:
    """The connection rules of one MEXC WebSocket API (times in seconds, None: no such rule)."""

    idle_s: float  # spot: without any subscription; contract: without a client ping
    lifetime_s: float | None = None
    max_subscriptions: int | None = None


SPOT_LIMITS = Limits(idle_s=30.0, lifetime_s=24 * 3600.0, max_subscriptions=30)
CONTRACT_LIMITS = Limits(idle_s=60.0)


def _decode(text: str) -> dict[str, Any] | None:
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return message if isinstance(message, dict) else None


class MexcSession(WsSession):
    """What both APIs share: a tick each second enforcing the idle and lifetime cut-offs.

    Subclasses restart the idle clock (:meth:`_active`) on what counts as activity for their API and
    stop it (:meth:`_busy`) while nothing can make the connection idle.
    """

    tick_period = 1.0

    def __init__(self, plugin: _Mexc) -> None:
        self.plugin = plugin
        self.limits: Limits = plugin.limits
        self._opened_ms: int | None = None
        self._idle_from_ms: int | None = None

    def on_open(self, now_ms: int) -> list[Action]:
        self._opened_ms = self._idle_from_ms = self.wall_ms
        return []

    def on_tick(self, now_ms: int) -> list[Action]:
        """Lifetime and idle cut-offs, in the runtime's monotonic time whatever the market clock."""
        if self._opened_ms is None:
            self.on_open(now_ms)
        assert self._opened_ms is not None
        wall = self.wall_ms
        lifetime = self.limits.lifetime_s
        if lifetime is not None and wall - self._opened_ms >= lifetime * 1000:
            return [Close(IDLE_CLOSE, "connection lifetime reached")]
        if self._idle_from_ms is not None and wall - self._idle_from_ms >= self.limits.idle_s * 1000:
            return [Close(IDLE_CLOSE, "idle")]
        return []

    def _active(self) -> None:
        self._idle_from_ms = self.wall_ms

    def _busy(self) -> None:
        self._idle_from_ms = None


# -- spot ---------------------------------------------------------------------------------------

_BLOCKED = "Blocked!"
_TOO_MANY = "Exceeded the maximum number of subscriptions!"  # wording UNVERIFIED
_FORMAT_INVALID = "msg format invalid"  # wording UNVERIFIED


class SpotSession(MexcSession):
    """One spot connection on ``/ws``."""

    def __init__(self, plugin: _Mexc) -> None:
        super().__init__(plugin)
        self.channels: dict[str, Subscription] = {}  # in subscription order
        self._messages = ws_meter()
        self._methods: Mapping[str, Callable[[Any, Any, int], list[Action]]] = {
            "SUBSCRIPTION": self._subscribe,
            "UNSUBSCRIPTION": self._unsubscribe,
            "PING": self._ping,
        }

    def on_text(self, text: str, now_ms: int) -> list[Action]:
        if self.rate_limits and not self._messages.hit(None, self.wall_ms).admitted:
            return [Close(WS_CLOSE_CODE, WS_CLOSE_REASON)]
        message = _decode(text)
        if message is None:
            return [_spot_reply(0, _FORMAT_INVALID)]
        request_id = message.get("id", 0)
        if not isinstance(request_id, int) or isinstance(request_id, bool):
            request_id = 0
        method = message.get("method")
        # Methods are matched case-insensitively: ccxt sends {"method":"ping"}, the docs "PING".
        handler = self._methods.get(method.upper()) if isinstance(method, str) else None
        if handler is None:
            return [_spot_reply(request_id, _FORMAT_INVALID)]
        return handler(message.get("params"), request_id, now_ms)

    def _ping(self, params: Any, request_id: int, now_ms: int) -> list[Action]:
        return [_spot_reply(request_id, "PONG")]

    def _subscribe(self, params: Any, request_id: int, now_ms: int) -> list[Action]:
        if not _channel_list(params):
            return [_spot_reply(request_id, _FORMAT_INVALID)]
        actions: list[Action] = []
        joined: list[str] = []
        refused: dict[str, list[str]] = {}
        for channel in params:
            if channel in self.channels:
                joined.append(channel)
                continue
            subscription = self.plugin.spot_subscription(channel)
            maximum = self.limits.max_subscriptions
            if subscription is None:
                refused.setdefault(_BLOCKED, []).append(channel)
            elif maximum is not None and len(self.channels) >= maximum:
                refused.setdefault(_TOO_MANY, []).append(channel)
            else:
                self.channels[channel] = subscription
                actions.append(Subscribe(subscription))
                joined.append(channel)
        if self.channels:
            self._busy()
        if joined:
            actions.append(_spot_reply(request_id, ",".join(joined)))
        for reason, channels in refused.items():
            # The exact shape MEXC sends, full-width colon and trailing space included.
            text = f"Not Subscribed successfully! [{','.join(channels)}].  Reason： {reason} "
            actions.append(_spot_reply(request_id, text))
        return actions

    def _unsubscribe(self, params: Any, request_id: int, now_ms: int) -> list[Action]:
        if not _channel_list(params):
            return [_spot_reply(request_id, _FORMAT_INVALID)]
        actions: list[Action] = []
        for channel in params:
            subscription = self.channels.pop(channel, None)
            if subscription is not None:
                actions.append(Unsubscribe(subscription))
        if not self.channels and self._idle_from_ms is None:
            self._active()
        actions.append(_spot_reply(request_id, ",".join(params)))
        return actions


def _channel_list(params: Any) -> bool:
    return isinstance(params, list) and bool(params) and all(isinstance(p, str) for p in params)


def _spot_reply(request_id: int, msg: str) -> Send:
    return Send(orjson.dumps({"id": request_id, "code": 0, "msg": msg}).decode())


# -- contract -----------------------------------------------------------------------------------


class ContractSession(MexcSession):
    """One contract connection on ``/edge``."""

    def __init__(self, plugin: _Mexc) -> None:
        super().__init__(plugin)
        self.subscriptions: dict[tuple[str, str], Subscription] = {}  # (symbol, interval name) →
        self._methods: Mapping[str, Callable[[Any, int], list[Action]]] = {
            "ping": self._ping,
            "sub.kline": self._subscribe,
            "unsub.kline": self._unsubscribe,
        }

    def on_text(self, text: str, now_ms: int) -> list[Action]:
        message = _decode(text)
        if message is None:
            return [_contract_reply("rs.error", "Invalid JSON", now_ms)]
        method = message.get("method")
        handler = self._methods.get(method) if isinstance(method, str) else None
        if handler is None:
            return [_contract_reply("rs.error", f"Unknown method: {method}", now_ms)]
        return handler(message.get("param"), now_ms)

    def _ping(self, param: Any, now_ms: int) -> list[Action]:
        self._active()
        return [Send(orjson.dumps({"channel": "pong", "data": now_ms}).decode())]

    def _subscribe(self, param: Any, now_ms: int) -> list[Action]:
        symbol, code = _symbol_interval(param)
        key = (symbol, code)
        if key in self.subscriptions:
            return [_contract_reply("rs.sub.kline", "success", now_ms)]
        refusal, subscription = self.plugin.contract_subscription(symbol, code)
        if subscription is None:
            return [_contract_reply("rs.sub.kline", refusal, now_ms)]
        self.subscriptions[key] = subscription
        return [Subscribe(subscription), _contract_reply("rs.sub.kline", "success", now_ms)]

    def _unsubscribe(self, param: Any, now_ms: int) -> list[Action]:
        # The docs unsubscribe by symbol alone (every interval of it); ccxt also names the interval.
        symbol, _ = _symbol_interval(param)
        named = param.get("interval") if isinstance(param, dict) else None
        keys = [k for k in self.subscriptions if k[0] == symbol and named in (None, k[1])]
        actions: list[Action] = [Unsubscribe(self.subscriptions.pop(k)) for k in keys]
        return [*actions, _contract_reply("rs.unsub.kline", "success", now_ms)]


def _symbol_interval(param: Any) -> tuple[str, str]:
    """``param.symbol`` and ``param.interval`` (default ``Min1``, as on REST); "" when unusable."""
    if not isinstance(param, dict):
        return "", ""
    symbol, code = param.get("symbol", ""), param.get("interval", "Min1")
    return (symbol if isinstance(symbol, str) else "", code if isinstance(code, str) else "")


def _contract_reply(channel: str, data: str, now_ms: int) -> Send:
    return Send(orjson.dumps({"channel": channel, "data": data, "ts": now_ms}).decode())
