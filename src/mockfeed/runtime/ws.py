"""WebSocket connections: trio-websocket I/O around a plugin's sans-IO session.

trio-websocket does the handshake, reading, pongs and the close handshake; an :class:`Outbox`
writes (pushes, replies, and trio-websocket's own frames, in order). An idle connection holds no
task of its own besides the one reading: server pings and session ticks are timers in the hub's
:class:`~mockfeed.runtime.chores.Chores`, and anything that must wait runs as a short task there.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from mockfeed.exchanges.base import (
    Action,
    Close,
    Heartbeat,
    Message,
    Send,
    Subscribe,
    Unsubscribe,
    WsSession,
)
from mockfeed.logs import TRACE, preview, tracing
from mockfeed.runtime.outbox import SEND_QUEUE, attach

if TYPE_CHECKING:
    from mockfeed.market.clock import Clock
    from mockfeed.runtime.chores import Timer
    from mockfeed.runtime.conditions import Conditions
    from mockfeed.runtime.hub import Hub

__all__ = ["SEND_QUEUE", "Connection"]

log = logging.getLogger("mockfeed.ws")

CLOSE_TIMEOUT = 2.0  # seconds a server-initiated close handshake may take
_GOLDEN = 0.6180339887498949
_opened = itertools.count()


def first_ping_delay(interval: float) -> float:
    """When a new connection gets its first ping: between half and all of ``interval``.

    Connections opened together would otherwise be pinged together, every interval, and their
    pongs would arrive as one burst that stalls pushes; the golden-ratio sequence spreads them
    evenly, deterministically, in the order connections open.
    """
    return interval * (0.5 + 0.5 * (next(_opened) * _GOLDEN % 1.0))


class Connection:
    """One accepted WebSocket: its session, its outbox (what the hub delivers to), and its timers."""

    __slots__ = (
        "_finished", "_life_timer", "_ping_timer", "_tasks", "_tick_timer", "clock", "heartbeat", "hub",
        "id", "lifetime", "opened_ms", "outbox", "path", "session", "ws",
    )

    def __init__(
        self,
        ws: WebSocketConnection,
        session: WsSession,
        hub: Hub,
        clock: Clock,
        heartbeat: Heartbeat | None,
        number: int = 0,
        lifetime: float | None = None,
        connection_id: int = 0,
        path: str = "",
    ) -> None:
        self.ws = ws
        self.id = connection_id  # stable for the connection's life (the control endpoint's handle)
        self.path = path
        self.opened_ms = clock.now_ms()
        self.session = session
        self.hub = hub
        self.clock = clock
        self.heartbeat = heartbeat
        self.outbox = attach(ws, self._spawn, session.personalize if session.personalizes else None)
        self.outbox.on_slow = self._on_slow
        self.outbox.lane_number = number
        self.lifetime = lifetime
        self._life_timer: Timer | None = None
        self._ping_timer: Timer | None = None
        self._tick_timer: Timer | None = None
        self._tasks: set[trio.CancelScope] | None = None  # this connection's running chores
        self._finished = False

    @property
    def slow(self) -> bool:
        """Whether it was dropped as a slow consumer."""
        return self.outbox.slow

    async def run(self) -> None:
        """Serve the connection until either side closes it."""
        chores = self.hub.chores
        try:
            if self.heartbeat is not None:
                self._ping_timer = chores.call_later(
                    first_ping_delay(self.heartbeat.interval), self._ping_due
                )
            if self.session.tick_period is not None:
                self._tick_timer = chores.call_later(self.session.tick_period, self._tick)
            if self.lifetime is not None:
                self._life_timer = chores.call_later(self.lifetime, self._expire)
            self._stamp()
            self._apply(self.session.on_open(self.clock.now_ms()))
            while True:
                try:
                    message = await self.ws.get_message()
                except ConnectionClosed:
                    break
                self._on_message(message)
        finally:
            self._finish()
        if self.slow:
            await self.outbox.abort()

    async def close(self, code: int, reason: str, farewell: Message | None = None) -> None:
        """Close from the server side (shutdown), after a last message if the exchange sends one."""
        farewell = self.session.farewell(self.clock.now_ms()) or farewell
        if farewell is not None:
            self.outbox.send(farewell)
        await self._close(code, reason)

    def _on_message(self, message: Message) -> None:
        if tracing():
            TRACE.info("WS %s <- %s", self.outbox.peer, preview(message), extra={"client": self.outbox.peer})
        now = self.clock.now_ms()
        self._stamp()
        try:
            if isinstance(message, str):
                actions = self.session.on_text(message, now)
            else:
                actions = self.session.on_binary(message, now)
        except Exception:
            log.exception("session failed on a message")
            actions = [Close(1011, "internal error")]
        self._apply(actions)

    def _stamp(self) -> None:
        self.session.wall_ms = int(trio.current_time() * 1000)
        self.session.rate_limits = self.hub.faults.conditions.rate_limits

    def _apply(self, actions: list[Action]) -> None:
        conditions = self.outbox.conditions(self.hub.faults.conditions)
        if conditions.delays_ws:
            self._apply_later(actions, conditions)
        else:
            self._apply_actions(actions)

    def _apply_actions(self, actions: list[Action]) -> None:
        for action in actions:
            if tracing() and isinstance(action, Send | Close):
                shown = preview(action.message) if isinstance(action, Send) else f"close {action.code}"
                TRACE.info("WS %s -> %s", self.outbox.peer, shown, extra={"client": self.outbox.peer})
            if isinstance(action, Send):
                self.outbox.send(action.message)
            elif isinstance(action, Subscribe):
                if not self._finished and not self.outbox.slow:
                    self.hub.add(action.subscription, self.outbox)
            elif isinstance(action, Unsubscribe):
                self.hub.remove(action.subscription, self.outbox)
            elif isinstance(action, Close):
                self.outbox.stop()
                self._spawn(partial(self._close, action.code, action.reason))

    def _apply_later(self, actions: list[Action], conditions: Conditions) -> None:
        """Actions under WebSocket latency: replies and closes go out at their lane's due time, in
        order with the pushes; subscriptions change at once (as the exchange sees the request)."""
        lane = self.outbox.lane
        now = trio.current_time()
        exchange = self.hub.faults.exchange
        chores = self.hub.chores
        for action in actions:
            if isinstance(action, Send):
                at = lane.due(conditions, exchange, now)
                chores.call_later(at - now, partial(self.outbox.send, action.message))
            elif isinstance(action, Close):
                at = lane.due(conditions, exchange, now)
                chores.call_later(at - now, partial(self._apply_actions, [action]))
            else:
                self._apply_actions([action])

    async def _close(self, code: int, reason: str) -> None:
        # The close frame queues behind everything already in the outbox; should the handshake
        # time out, trio-websocket closes the stream on its way out.
        with trio.move_on_after(CLOSE_TIMEOUT), contextlib.suppress(ConnectionClosed):
            await self.ws.aclose(code, reason)

    def _expire(self) -> None:
        if not self._finished:
            log.info("closing %s: its lifetime of %ss is over", self.outbox.peer, self.lifetime)
            self._apply_actions([Close(1001, "connection lifetime exceeded")])

    def info(self) -> dict[str, object]:
        """What the control endpoint shows of this connection."""
        subscriptions = [
            {"pair": s.pair, "interval": s.interval.code, **({"style": s.style} if s.style else {})}
            for s, members in self.hub.subscribers.items() if self.outbox in members
        ]
        return {
            "id": self.id, "peer": self.outbox.peer, "path": self.path, "opened_ms": self.opened_ms,
            "subscriptions": subscriptions, "backlog": self.outbox.backlog,
            "overrides": dict(self.outbox.lane.overrides or {}) if self.outbox.overridden else {},
            "conditions": self.outbox.conditions(self.hub.faults.conditions).to_json(),
        }

    def override(self, change: dict[str, object] | None) -> None:
        """Set this connection's own condition keys (None or empty: back to the exchange's);
        ValueError naming a bad key or value, nothing changed then."""
        lane = self.outbox.lane
        had = lane.overrides is not None
        lane.override(change)
        if not self._finished:
            self.hub.overridden += (lane.overrides is not None) - had

    def disconnect(self, code: int | None) -> None:
        """End the connection now: a close handshake with ``code``, or a TCP reset when None."""
        if self._finished:
            return
        if code is not None:
            self._apply_actions([Close(code, "disconnected by the server")])
            return
        self.outbox.reset()
        self.hub.chores.spawn(self.outbox.abort)

    def _tick(self) -> None:
        period = self.session.tick_period
        if self._finished or period is None:
            return
        self._stamp()
        self._apply(self.session.on_tick(self.clock.now_ms()))
        self._tick_timer = self.hub.chores.call_later(period, self._tick)

    def _ping_due(self) -> None:
        self._spawn(self._ping)

    async def _ping(self) -> None:
        heartbeat = self.heartbeat
        assert heartbeat is not None
        with trio.move_on_after(heartbeat.timeout) as waited:
            try:
                await self.ws.ping()
            except ConnectionClosed:
                return
        if waited.cancelled_caught:
            log.info("no pong within %ss, closing %s", heartbeat.timeout, self.outbox.peer)
            self.outbox.stop()
            await self._close(1008, "pong timeout")
        elif not self._finished:
            self._ping_timer = self.hub.chores.call_later(heartbeat.interval, self._ping_due)

    def _on_slow(self) -> None:
        log.info("dropping a slow consumer %s (%d messages waiting)", self.outbox.peer, self.outbox.backlog)
        self.hub.remove_all(self.outbox)  # at once: a slow consumer costs the others nothing

    def _spawn(self, fn: Callable[[], Awaitable[None]]) -> None:
        """Run ``fn`` as a chore of this connection, cancelled when the connection ends."""
        if not self._finished:
            self.hub.chores.spawn(self._run_chore, fn)

    async def _run_chore(self, fn: Callable[[], Awaitable[None]]) -> None:
        if self._finished:
            return
        scope = trio.CancelScope()
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(scope)
        try:
            with scope:
                await fn()
        finally:
            self._tasks.discard(scope)

    def _finish(self) -> None:
        if self.outbox.overridden:
            self.hub.overridden -= 1
        self._finished = True
        for timer in (self._ping_timer, self._tick_timer, self._life_timer):
            if timer is not None:
                timer.cancel()
        self.outbox.release()
        self.hub.remove_all(self.outbox)
        for scope in list(self._tasks or ()):
            scope.cancel()
