"""Bybit v5 public streams: the per-connection ``op`` protocol (subscribe, unsubscribe, ping).

Every reply has Bybit's shape ``{"success", "ret_msg", "conn_id", "req_id", "op"}``. A request is
all-or-nothing: one refused topic refuses the whole request (clients resend the rest), and one
ack covers every topic of an accepted request. There are no server pings; a connection with no
subscription that sends nothing for the plugin's ``idle_timeout_s`` is closed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from mockfeed.exchanges.base import Action, Close, Send, Subscribe, Subscription, Unsubscribe, WsSession

if TYPE_CHECKING:
    from mockfeed.exchanges.bybit.plugin import _Bybit

IDLE_CLOSE_CODE = 1001  # Bybit drops the TCP connection; the runtime can only close with a frame


class _Refused(Exception):
    """A request refused with ``ret_msg``."""

    def __init__(self, ret_msg: str) -> None:
        super().__init__(ret_msg)
        self.ret_msg = ret_msg


class BybitSession(WsSession):
    """One connection to ``/v5/public/spot`` or ``/v5/public/linear``."""

    def __init__(self, plugin: _Bybit, conn_id: str) -> None:
        self.plugin = plugin
        self.product = plugin.product
        self.conn_id = conn_id
        self.topics: dict[str, Subscription] = {}  # subscribed topics, in subscription order
        self.tick_period = plugin.idle_check_s
        self._idle_ms = round(plugin.idle_timeout_s * 1000)
        self._last_ms = 0
        self._closing = False
        self._ops: dict[str, Callable[[Any, str], list[Action]]] = {
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "ping": self._ping,
        }

    # -- events ---------------------------------------------------------------------------------
    def on_open(self, now_ms: int) -> list[Action]:
        self._last_ms = self.wall_ms
        return []

    def on_text(self, text: str, now_ms: int) -> list[Action]:
        self._last_ms = self.wall_ms
        try:
            message = _decode(text)
            req_id = _req_id(message.get("req_id"))
        except _Refused as refused:
            return [self._reply(False, refused.ret_msg, "", "")]
        op = message.get("op")
        handler = self._ops.get(op) if isinstance(op, str) else None
        if handler is None:
            shown = op if isinstance(op, str) else ""
            return [self._reply(False, "error:invalid op", req_id, shown)]
        return handler(message.get("args"), req_id)

    def on_tick(self, now_ms: int) -> list[Action]:
        """Close an idle connection: nothing subscribed and no message for the idle timeout.

        Measured in the runtime's monotonic time (``wall_ms``), whatever the market clock does.
        """
        if self._closing or self.topics or self.wall_ms - self._last_ms < self._idle_ms:
            return []
        self._closing = True
        return [Close(IDLE_CLOSE_CODE, "idle timeout")]

    # -- operations -----------------------------------------------------------------------------
    def _subscribe(self, args: Any, req_id: str) -> list[Action]:
        try:
            topics = _topics(args)
            limit = self.product.max_args
            if limit is not None and len(topics) > limit:
                raise _Refused(f"args size >{limit}")
            wanted: dict[str, Subscription] = {}
            for topic in topics:
                if topic in self.topics or topic in wanted:
                    raise _Refused(f"error:already subscribed,topic:{topic}")
                resolved = self.plugin.resolve_topic(topic)
                if isinstance(resolved, str):
                    raise _Refused(resolved)
                wanted[topic] = resolved
        except _Refused as refused:
            return [self._reply(False, refused.ret_msg, req_id, "subscribe")]
        self.topics.update(wanted)
        # The ack goes out before the first push of any of these topics.
        ack = self._reply(True, self.product.subscribe_ret_msg, req_id, "subscribe")
        return [ack, *(Subscribe(s) for s in wanted.values())]

    def _unsubscribe(self, args: Any, req_id: str) -> list[Action]:
        try:
            topics = _topics(args)
        except _Refused as refused:
            return [self._reply(False, refused.ret_msg, req_id, "unsubscribe")]
        # Topics not subscribed are ignored and still acknowledged (UNVERIFIED; ccxt only
        # unsubscribes what it subscribed).
        gone = [self.topics.pop(t) for t in dict.fromkeys(topics) if t in self.topics]
        return [self._reply(True, "", req_id, "unsubscribe"), *(Unsubscribe(s) for s in gone)]

    def _ping(self, args: Any, req_id: str) -> list[Action]:
        # ccxt records a pong only for ret_msg "pong" (or op "pong" / a "pong" key).
        body: dict[str, object] = {"success": True, "ret_msg": "pong", "conn_id": self.conn_id}
        if self.product.pong_has_req_id:
            body["req_id"] = req_id
        body["op"] = "ping"
        return [Send(orjson.dumps(body).decode())]

    def _reply(self, success: bool, ret_msg: str, req_id: str, op: str) -> Send:
        body = {"success": success, "ret_msg": ret_msg, "conn_id": self.conn_id, "req_id": req_id, "op": op}
        return Send(orjson.dumps(body).decode())


def _decode(text: str) -> dict[str, Any]:
    """The request object; ``null`` reads as an empty one, as Bybit's JSON decoder allows."""
    stripped = text.lstrip()
    if not stripped or stripped[0] not in "{n":
        found = stripped[:1] or "EOF"
        raise _Refused(f"Failed to decode incoming data:readObjectStart: expect {{ or n, but found {found}")
    try:
        message = orjson.loads(stripped)
    except orjson.JSONDecodeError as error:
        raise _Refused(f"Failed to decode incoming data:{error.msg}") from None
    if message is None:
        return {}
    if not isinstance(message, dict):
        raise _Refused("Failed to decode incoming data:readObjectStart: expect { or n")
    return message


def _req_id(value: Any) -> str:
    """``req_id`` echoed as a string: Bybit's field is a string, ccxt sends an integer."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return orjson.dumps(value).decode()
    raise _Refused("Failed to decode incoming data:req_id: expect a string")


def _topics(args: Any) -> list[str]:
    """The ``args`` of a subscribe or unsubscribe: a non-empty list of topic strings."""
    if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
        raise _Refused("error:args must be a non-empty list of topics")  # UNVERIFIED wording
    return args
