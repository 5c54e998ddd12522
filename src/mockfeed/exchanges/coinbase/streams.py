"""The Advanced Trade market-data feed: subscribe grammar, acks, heartbeats and per-connection sequence.

Every message carries ``{"channel", "client_id", "timestamp", "sequence_num", "events"}``, the
sequence counting per connection. Candle pushes are encoded once for all subscribers with a
``"sequence_num":0,`` placeholder that :meth:`CoinbaseSession.personalize` fills in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from mockfeed.exchanges.base import (
    Action,
    Close,
    Message,
    Send,
    Subscribe,
    Unsubscribe,
    WsSession,
)
from mockfeed.exchanges.coinbase.wire import go_time, rfc3339_nano, ws_candle
from mockfeed.market import Interval

if TYPE_CHECKING:
    from mockfeed.exchanges.coinbase.plugin import CoinbaseAdvancedTrade

#: Candles on the feed are always five-minute buckets; there is no granularity field.
CANDLE_INTERVAL = Interval.parse("5m")
CANDLES = "candles"
HEARTBEATS = "heartbeats"
#: Channels that need a JWT; without one the feed answers ``authentication failure``.
AUTH_CHANNELS = frozenset({"user", "futures_balance_summary"})
#: Real market channels mockfeed does not model (it serves candles only).
UNSERVED_CHANNELS = frozenset({"ticker", "ticker_batch", "level2", "market_trades", "status"})
SUBSCRIBE_DEADLINE_MS = 5_000
SEQUENCE_PLACEHOLDER = '"sequence_num":0,'


def envelope(channel: str, now_ms: int, sequence: int, events: list[dict[str, Any]]) -> str:
    """One feed message (key order as on the wire)."""
    return orjson.dumps(
        {
            "channel": channel,
            "client_id": "",
            "timestamp": rfc3339_nano(now_ms),
            "sequence_num": sequence,
            "events": events,
        }
    ).decode()


def error(message: str) -> Send:
    """The feed's error message, ``{"type": "error", "message": ...}``."""
    return Send(orjson.dumps({"type": "error", "message": message}).decode())


class CoinbaseSession(WsSession):
    """One connection to ``advanced-trade-ws``: ``candles`` and ``heartbeats`` channels.

    A connection that has not subscribed to anything within 5 s is closed. Heartbeats go out every
    second once subscribed to ``heartbeats``. A connection with subscriptions that has been sent
    nothing (no push, no heartbeat, no reply) for the plugin's ``channel_idle_s`` is closed, as
    Coinbase closes channels without updates (e.g. while the ``stall`` condition holds pushes).
    """

    tick_period = 1.0
    personalizes = True

    def __init__(self, plugin: CoinbaseAdvancedTrade) -> None:
        self.plugin = plugin
        self.channels: dict[str, list[str]] = {}  # channel → product ids, in subscription order
        self.sequence = 0
        self.opened_ms = 0  # runtime monotonic time (wall_ms) of the handshake
        self.subscribed = False
        self.heartbeat_counter = 0
        self.updated_ms = 0  # wall_ms of the last message this connection was sent
        self._pushed = False  # a push went out since the last tick
        self._closing = False

    def _next(self) -> int:
        sequence = self.sequence
        self.sequence += 1
        return sequence

    def _send(self, channel: str, now_ms: int, events: list[dict[str, Any]]) -> Send:
        self.updated_ms = self.wall_ms
        return Send(envelope(channel, now_ms, self._next(), events))

    # -- runtime hooks ----------------------------------------------------------------------------
    def on_open(self, now_ms: int) -> list[Action]:
        self.opened_ms = self.updated_ms = self.wall_ms
        return []

    def on_tick(self, now_ms: int) -> list[Action]:
        age_ms = self.wall_ms - self.opened_ms  # protocol time: unaffected by the market clock
        if self._pushed:  # pushes are written by the runtime; the tick dates them to the second
            self._pushed = False
            self.updated_ms = self.wall_ms
        if self._closing:
            return []
        if not self.subscribed:
            if age_ms >= SUBSCRIBE_DEADLINE_MS:
                # UNVERIFIED close code: the live feed just disconnects; 1000 tells clients it was deliberate.
                return [Close(1000, "subscribe timeout")]
            return []
        if HEARTBEATS not in self.channels:
            if self.channels and self.wall_ms - self.updated_ms >= self.plugin.channel_idle_s * 1000:
                self._closing = True
                return [Close(1000, "no updates")]  # UNVERIFIED code and reason, as above
            return []
        self.heartbeat_counter += 1
        event = {
            "current_time": go_time(now_ms, age_ms),
            # A string, as in ccxt's and the docs' sample (the spec shows a number; the client wins).
            "heartbeat_counter": str(self.heartbeat_counter),
        }
        return [self._send(HEARTBEATS, now_ms, [event])]

    def personalize(self, push: Message) -> Message:
        assert isinstance(push, str)
        self._pushed = True
        return push.replace(SEQUENCE_PLACEHOLDER, f'"sequence_num":{self._next()},', 1)

    # -- control messages -------------------------------------------------------------------------
    def on_text(self, text: str, now_ms: int) -> list[Action]:
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            return [error("failure to parse message as JSON")]
        if not isinstance(message, dict):
            return [error("message must be a JSON object")]
        kind = message.get("type")
        if kind not in ("subscribe", "unsubscribe"):
            return [error(f"unknown message type {_show(kind)}: expected subscribe or unsubscribe")]
        channel = message.get("channel")
        if not isinstance(channel, str) or not channel:
            return [error("channel is required (one channel per message)")]
        products = message.get("product_ids", [])
        if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
            return [error("product_ids must be an array of strings")]
        if channel in AUTH_CHANNELS and not message.get("jwt"):
            return [error("authentication failure")]
        if channel not in (CANDLES, HEARTBEATS):
            served = "not served by mockfeed" if channel in UNSERVED_CHANNELS | AUTH_CHANNELS else "unknown"
            return [error(f"channel {channel} is {served}")]
        if channel == CANDLES:
            if not products:
                return [error("product_ids are required for the candles channel")]
            unknown = [p for p in products if p not in self.plugin.products]
            if unknown:
                return [error(f"Failed to subscribe: invalid product_id {unknown[0]}")]
        if kind == "subscribe":
            return self._subscribe(channel, products, now_ms)
        return self._unsubscribe(channel, products, now_ms)

    def _subscribe(self, channel: str, products: list[str], now_ms: int) -> list[Action]:
        self.subscribed = True
        listed = self.channels.setdefault(channel, [])
        added = [p for p in dict.fromkeys(products) if p not in listed]
        listed.extend(added)
        actions: list[Action] = []
        if channel == CANDLES:
            actions += [Subscribe(self.plugin.subscription(p)) for p in added]
        actions.append(self._ack(now_ms))
        if channel == CANDLES:
            actions += [self._snapshot(p, now_ms) for p in added]
        return actions

    def _unsubscribe(self, channel: str, products: list[str], now_ms: int) -> list[Action]:
        listed = self.channels.get(channel)
        actions: list[Action] = []
        if listed is not None:
            gone = listed if channel == HEARTBEATS else [p for p in listed if p in products]
            if channel == CANDLES:
                actions += [Unsubscribe(self.plugin.subscription(p)) for p in gone]
            remaining = [p for p in listed if p not in gone]
            if remaining:
                self.channels[channel] = remaining
            else:
                del self.channels[channel]
        actions.append(self._ack(now_ms))
        return actions

    def _ack(self, now_ms: int) -> Send:
        """The ``subscriptions`` message: the connection's whole subscription set after a change."""
        return self._send("subscriptions", now_ms, [{"subscriptions": dict(self.channels)}])

    def _snapshot(self, product_id: str, now_ms: int) -> Send:
        """The first candles message of a product: the forming bucket, ``type: snapshot``."""
        candle = self.plugin.model.candle(
            self.plugin.products[product_id].name, CANDLE_INTERVAL, now_ms, now_ms
        )
        candles = [ws_candle(candle, product_id)] if candle is not None else []
        return self._send(CANDLES, now_ms, [{"type": "snapshot", "candles": candles}])


def _show(value: Any) -> str:
    return orjson.dumps(value).decode() if not isinstance(value, str) else value
