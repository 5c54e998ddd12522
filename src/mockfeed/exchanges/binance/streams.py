"""Binance market streams: URL grammar and the per-connection control protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

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
from mockfeed.exchanges.binance.limits import WS_CLOSE_CODE, WS_CLOSE_REASON
from mockfeed.market import Interval

if TYPE_CHECKING:
    from mockfeed.exchanges.binance.plugin import _Binance

_METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
_MAX_ID_LENGTH = 36
_MAX_STREAMS = 1024


def stream_name(symbol: str, interval: Interval) -> str:
    """``btcusdt@kline_1m`` for ``BTCUSDT`` and one minute (``...@+08:00`` in UTC+8)."""
    zone = "@+08:00" if interval.offset_ms else ""
    return f"{symbol.lower()}@kline_{interval.code}{zone}"


def parse_ws_path(path: str, query: str, prefixes: tuple[str, ...]) -> tuple[bool, list[str]] | None:
    """(combined?, streams named in the URL) for a connection path, or None for an unknown path.

    Accepts raw ``/ws``, ``/ws/<stream>[/<stream>...]`` (segments without ``@`` are ignored, which
    covers ccxt's ``/ws/<index>``), combined ``/stream?streams=a/b``, and any of those under the
    product's prefixes. ``/stream/ws...`` is raw: ccxt needs ``/stream`` in a spot URL.
    """
    for prefix in prefixes:
        if prefix and not path.startswith(prefix + "/"):
            continue
        rest = path[len(prefix):]
        segments = rest.strip("/").split("/")
        if segments[:1] == ["stream"] and segments[1:2] == ["ws"]:
            segments = segments[1:]  # ccxt's spot trick: /stream/ws/<n> is a raw stream path
        if segments[0] == "ws":
            return False, [s for s in segments[1:] if "@" in s]
        if segments == ["stream"]:
            streams = parse_qs(query).get("streams", [""])[0]
            return True, [s for s in streams.split("/") if s]
    return None


class BinanceSession(WsSession):
    """One Binance stream connection: SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / properties."""

    def __init__(self, plugin: _Binance, combined: bool, streams: list[str]) -> None:
        self.plugin = plugin
        self.combined = combined
        self.streams: list[str] = []  # in subscription order, as LIST_SUBSCRIPTIONS reports them
        self._initial = streams
        self._messages = plugin.limits.ws_meter()

    @property
    def _style(self) -> str:
        return "combined" if self.combined else "raw"

    def _subscription(self, name: str) -> Subscription | None:
        resolved = self.plugin.resolve_stream(name)
        if resolved is None:
            return None
        pair, interval = resolved
        return Subscription(pair.name, interval, self._style)

    def on_open(self, now_ms: int) -> list[Action]:
        return self._subscribe(self._initial)

    def _subscribe(self, names: list[str]) -> list[Action]:
        actions: list[Action] = []
        for name in names:
            if name in self.streams:
                continue
            self.streams.append(name)
            sub = self._subscription(name)
            # A well-formed stream that serves nothing is acknowledged and stays silent, as on Binance.
            if sub is not None:
                actions.append(Subscribe(sub))
        return actions

    def _unsubscribe(self, names: list[str]) -> list[Action]:
        actions: list[Action] = []
        for name in names:
            if name not in self.streams:
                continue
            self.streams.remove(name)
            sub = self._subscription(name)
            if sub is not None:
                actions.append(Unsubscribe(sub))
        return actions

    def on_text(self, text: str, now_ms: int) -> list[Action]:
        # Only text/binary messages are counted: trio-websocket answers pings itself.
        if self.rate_limits and not self._messages.hit(None, self.wall_ms).admitted:
            return [Close(WS_CLOSE_CODE, WS_CLOSE_REASON)]
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            return [_error(3, f"Invalid JSON: {error.msg} at line {error.lineno} column {error.colno}")]
        if not isinstance(message, dict):
            return [_error(2, "Invalid request: expected a JSON object")]
        request_id = message.get("id")
        if not _valid_id(request_id):
            return [_error(2, "Invalid request: invalid value for `id`")]
        method = message.get("method")
        if method is None:
            return [_error(2, "Invalid request: missing field `method`", request_id)]
        if method not in _METHODS:
            expected = ", ".join(f"`{m}`" for m in _METHODS)
            shown = method if isinstance(method, str) else orjson.dumps(method).decode()
            return [_error(2, f"Invalid request: unknown variant `{shown}`, expected one of {expected}",
                           request_id)]
        params = message.get("params", [])
        if method == "LIST_SUBSCRIPTIONS":
            return [_result(list(self.streams), request_id)]
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            return self._change(method, params, request_id)
        return self._property(method, params, request_id)

    def _change(self, method: str, params: Any, request_id: Any) -> list[Action]:
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            return [_error(2, "Invalid request: `params` must be an array of stream names", request_id)]
        bad = next((p for p in params if "@" not in p or len(p) > 200), None)
        if bad is not None:
            return [_error(2, f"Invalid request: invalid stream name `{bad[:200]}`", request_id)]
        if method == "SUBSCRIBE":
            if len(set(self.streams) | set(params)) > _MAX_STREAMS:
                return [_error(2, f"Invalid request: too many streams (at most {_MAX_STREAMS})",
                               request_id)]
            actions = self._subscribe(params)
        else:
            actions = self._unsubscribe(params)
        return [*actions, _result(None, request_id)]

    def _property(self, method: str, params: Any, request_id: Any) -> list[Action]:
        if not isinstance(params, list) or not params or params[0] != "combined":
            return [_error(2, "Invalid request: unknown property", request_id)]
        if method == "GET_PROPERTY":
            return [_result(self.combined, request_id)]
        if len(params) != 2 or not isinstance(params[1], bool):
            return [_error(2, "Invalid request: `combined` takes a boolean", request_id)]
        actions: list[Action] = []
        if params[1] != self.combined:
            names = list(self.streams)
            actions += self._unsubscribe(names)
            self.combined = params[1]
            actions += self._subscribe(names)
        return [*actions, _result(None, request_id)]


def _valid_id(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, str):
        return len(value) <= _MAX_ID_LENGTH and value.isascii() and value.isalnum()
    return False


def _result(result: Any, request_id: Any) -> Send:
    return Send(orjson.dumps({"result": result, "id": request_id}).decode())


def _error(code: int, msg: str, request_id: Any = None) -> Send:
    body: dict[str, Any] = {"code": code, "msg": msg}
    if request_id is not None:
        body["id"] = request_id
    return Send(orjson.dumps(body).decode())
