"""AscendEX streams: URL paths, the ``op`` control protocol, and the JSON ping/pong heartbeat.

Client messages are ``{"op": ..., "id": ..., "ch": ...}``; server messages carry ``m``. A session says
``{"m":"connected","type":"unauth"}`` on open (as ccxt and the v2 documentation record), acknowledges
``sub``/``unsub``, answers ``{"op":"ping"}`` with a pong, and pings a quiet client with
``{"m":"ping","hp":N}``: a client that lets two pings go unanswered is disconnected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from mockfeed.exchanges.ascend_ex.errors import Reason
from mockfeed.exchanges.base import Action, Close, Send, Subscribe, Subscription, Unsubscribe, WsSession

if TYPE_CHECKING:
    from mockfeed.exchanges.ascend_ex.plugin import _AscendEx

#: The documented public path (optionally under an account group), ccxt's v2 path, and hummingbot's.
_PATH = re.compile(
    r"^(?:/[0-9]{1,4})?/api/pro/v[12]/stream$|^/api/pro/v1/websocket-for-hummingbot-liq-mining/stream$"
)

#: Public channels mockfeed acknowledges but never feeds (it serves candles only).
_SILENT_CHANNELS = frozenset({"depth", "depth-realtime", "bbo", "trades", "ref-px", "summary",
                              "futures-pricing-data"})
#: Channels that need an authenticated session, which a public stream never is.
_PRIVATE_CHANNELS = frozenset({"order", "balance", "futures-order", "futures-account-update"})
_ANY = ("", "*")


@attrs.frozen
class StreamRules:
    """Heartbeat timings and session limits of the stream endpoint, as data."""

    idle_s: float = 15.0  # UNVERIFIED: quiet time before a server ping ("after a while" in the docs)
    suppress_s: float = 30.0  # a client ping stops server pings for this long (documented)
    max_missed: int = 2  # unanswered pings before the session is dropped (documented)
    health: int = 3  # ``hp`` of a healthy session (documented sample)
    tick_s: float = 1.0  # how often the session checks its heartbeat
    max_symbols: int = 10  # symbols per ``ch`` (documented)
    sessions_per_group: int = 20  # reported by risk-limit-info, not enforced (needs the client IP)
    sessions_total: int = 300
    level1_ops: tuple[tuple[str, int], ...] = (
        ("auth", 800), ("ping", 800), ("pong", 800), ("sub", 150), ("unsub", 150),
    )
    level2_ops: tuple[tuple[str, int], ...] = (
        ("auth", 1000), ("ping", 1000), ("pong", 1000), ("sub", 200), ("unsub", 200),
    )


def ws_path_served(path: str) -> bool:
    """Whether a WebSocket path is one of AscendEX's stream paths."""
    return _PATH.match(path) is not None


def _dump(message: Mapping[str, Any]) -> Send:
    return Send(orjson.dumps(message).decode())


class AscendExSession(WsSession):
    """One stream connection: ``sub``/``unsub`` of ``bar`` channels, pings both ways."""

    def __init__(self, plugin: _AscendEx, rules: StreamRules) -> None:
        self.plugin = plugin
        self.rules = rules
        self.tick_period = rules.tick_s
        self.streams: dict[tuple[str, str], Subscription] = {}  # (interval name, symbol) in sub order
        self._heard_ms = 0
        self._pinged_ms = 0
        self._quiet_until_ms = 0
        self._missed = 0
        self._closing = False
        self._ops: Mapping[str, Callable[[dict[str, Any], int], list[Action]]] = {
            "sub": self._sub,
            "unsub": self._unsub,
            "ping": self._ping,
            "pong": self._pong,
            "auth": self._auth,
            "req": self._req,
        }

    def on_open(self, now_ms: int) -> list[Action]:
        self._heard_ms = self.wall_ms
        return [_dump({"m": "connected", "type": "unauth"})]

    def on_text(self, text: str, now_ms: int) -> list[Action]:
        self._heard_ms = self.wall_ms
        self._missed = 0
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            message = None
        if not isinstance(message, dict):
            return [_error(Reason.INVALID_JSON_FORMAT, "Require a valid json object", None)]
        op = message.get("op")
        if op is None:
            return [_error(Reason.INVALID_WS_REQUEST_DATA, "Missing required parameter: op", message)]
        handler = self._ops.get(op) if isinstance(op, str) else None
        if handler is None:
            shown = op if isinstance(op, str) else orjson.dumps(op).decode()
            return [_error(Reason.INVALID_WS_REQUEST_DATA, f"Invalid request op: {shown[:64]}", message)]
        return handler(message, now_ms)

    # -- heartbeat --------------------------------------------------------------------------------
    def on_tick(self, now_ms: int) -> list[Action]:
        rules = self.rules
        wall = self.wall_ms  # heartbeats run on the runtime's monotonic time, not market time
        quiet_since = max(self._heard_ms, self._pinged_ms)
        if self._closing or wall < self._quiet_until_ms or wall - quiet_since < rules.idle_s * 1000:
            return []
        if self._missed >= rules.max_missed:
            self._closing = True
            return [
                _dump({
                    "m": "disconnected",
                    "code": Reason.INVALID_WS_REQUEST_DATA.value,
                    "reason": Reason.INVALID_WS_REQUEST_DATA.name,
                    "info": "Session is disconnected due to missing pong message from the client",
                }),
                Close(1000, "missing pong"),
            ]
        health = rules.health - self._missed
        self._missed += 1
        self._pinged_ms = wall
        return [_dump({"m": "ping", "hp": health})]

    def _ping(self, message: dict[str, Any], now_ms: int) -> list[Action]:
        self._quiet_until_ms = self.wall_ms + int(self.rules.suppress_s * 1000)
        return [_dump({"m": "pong", "code": 0, "ts": now_ms, "hp": self.rules.health})]

    def _pong(self, message: dict[str, Any], now_ms: int) -> list[Action]:
        return []  # hearing from the client is all a pong is for (see on_text)

    # -- channels ---------------------------------------------------------------------------------
    def _sub(self, message: dict[str, Any], now_ms: int) -> list[Action]:
        ch = message.get("ch")
        if not isinstance(ch, str) or not ch:
            return [_error(Reason.INVALID_WS_REQUEST_DATA, "Missing required parameter: ch", message)]
        name, _, rest = ch.partition(":")
        if name in _SILENT_CHANNELS:
            return [_ack("sub", message, ch)]
        if name in _PRIVATE_CHANNELS:
            return [_ack("sub", message, ch, Reason.AUTHORIZATION_NEEDED,
                         "Authorization is required for the API access or request")]
        if name != "bar":
            return [_ack("sub", message, ch, Reason.INVALID_WS_REQUEST_DATA,
                         f"Invalid channel: {name[:64]}")]
        interval, _, listed = rest.partition(":")
        symbols = [s for s in listed.split(",") if s]
        refusal = self._check_bar(interval, symbols)
        if refusal is not None:
            return [_ack("sub", message, ch, *refusal)]
        actions: list[Action] = []
        for symbol in symbols:
            key = (interval, symbol)
            subscription = self.plugin.resolve(interval, symbol)
            if key in self.streams or subscription is None:
                continue
            self.streams[key] = subscription
            actions.append(Subscribe(subscription))
        return [*actions, _ack("sub", message, ch)]

    def _check_bar(self, interval: str, symbols: list[str]) -> tuple[Reason, str] | None:
        """Why a ``bar:<interval>:<symbols>`` subscription is refused, or None."""
        if interval not in self.plugin.intervals:
            return Reason.INVALID_ARGUMENT, f"Invalid interval: {interval[:64]}"
        if not symbols:
            return Reason.INVALID_WS_REQUEST_DATA, "Missing symbol in channel: bar"
        if len(symbols) > self.rules.max_symbols:
            return Reason.INVALID_ARGUMENT, f"Too many symbols: at most {self.rules.max_symbols} per channel"
        unknown = next((s for s in symbols if s not in self.plugin.symbols), None)
        if unknown is not None:
            return Reason.SYMBOL_ERROR, f"Invalid symbol: {unknown[:64]}"
        return None

    def _unsub(self, message: dict[str, Any], now_ms: int) -> list[Action]:
        """Unsubscribe, with ``*`` or a missing part matching everything (``bar``, ``bar:1``, ``bar:*:S``)."""
        ch = message.get("ch")
        if not isinstance(ch, str) or not ch:
            return [_error(Reason.INVALID_WS_REQUEST_DATA, "Missing required parameter: ch", message)]
        name, _, rest = ch.partition(":")
        if name in _SILENT_CHANNELS or name in _PRIVATE_CHANNELS:
            return [_ack("unsub", message, ch)]
        if name != "bar":
            return [_ack("unsub", message, ch, Reason.INVALID_WS_REQUEST_DATA,
                         f"Invalid channel: {name[:64]}")]
        interval, _, listed = rest.partition(":")
        if interval not in _ANY and interval not in self.plugin.intervals:
            return [_ack("unsub", message, ch, Reason.INVALID_ARGUMENT, f"Invalid interval: {interval[:64]}")]
        symbols = None if listed in _ANY else {s for s in listed.split(",") if s}
        gone = [
            key for key in self.streams
            if interval in (*_ANY, key[0]) and (symbols is None or key[1] in symbols)
        ]
        actions: list[Action] = [Unsubscribe(self.streams.pop(key)) for key in gone]
        return [*actions, _ack("unsub", message, ch)]

    # -- requests mockfeed does not serve ------------------------------------------------------------
    def _auth(self, message: dict[str, Any], now_ms: int) -> list[Action]:
        body: dict[str, Any] = {"m": "auth", **_echo_id(message)}
        body["code"] = Reason.AUTHORIZATION_NEEDED.value
        body["err"] = "Authorization is required for the API access or request"
        return [_dump(body)]

    def _req(self, message: dict[str, Any], now_ms: int) -> list[Action]:
        action = message.get("action")
        shown = action if isinstance(action, str) else orjson.dumps(action).decode()
        return [_error(Reason.INVALID_WS_REQUEST_DATA, f"Invalid request action: {shown[:64]}", message)]


def _echo_id(message: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{"id": ...}`` when the request carried a usable id (the server echoes it back)."""
    if message is None:
        return {}
    value = message.get("id")
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return {"id": value}
    return {}


def _ack(
    kind: str,
    message: Mapping[str, Any],
    ch: str,
    reason: Reason | None = None,
    info: str = "",
) -> Send:
    """A ``sub``/``unsub`` acknowledgement; a refusal carries its code, reason and explanation.

    Success: ``{"m":"sub","id":..,"ch":..,"code":0}`` and ``{"m":"unsub","id":..,"ch":..}`` as
    documented. The shape of a refusal is UNVERIFIED ("one ack message with text explaining why"):
    the ack with a non-zero ``code``, plus ``reason`` and ``info`` as in the documented error message.
    """
    body: dict[str, Any] = {"m": kind, **_echo_id(message), "ch": ch[:200]}
    if reason is not None:
        body.update(code=reason.value, reason=reason.name, info=info)
    elif kind == "sub":
        body["code"] = 0
    return _dump(body)


def _error(reason: Reason, info: str, message: Mapping[str, Any] | None) -> Send:
    """The documented WebSocket error message ``{"m":"error","id":..,"code":..,"reason":..,"info":..}``."""
    return _dump({"m": "error", **_echo_id(message), "code": reason.value, "reason": reason.name,
                  "info": info})
