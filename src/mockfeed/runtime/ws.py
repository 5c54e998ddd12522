"""WebSocket connections: trio-websocket I/O around a plugin's sans-IO session."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import attrs
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

if TYPE_CHECKING:
    from mockfeed.market.clock import Clock
    from mockfeed.runtime.hub import Hub

log = logging.getLogger("mockfeed.ws")

SEND_QUEUE = 1024  # messages queued per connection before it counts as a slow consumer


@attrs.frozen
class _CloseRequest:
    code: int
    reason: str


class Connection:
    """One accepted WebSocket: a reader, a writer fed by a bounded queue, and server pings."""

    def __init__(
        self,
        ws: WebSocketConnection,
        session: WsSession,
        hub: Hub,
        clock: Clock,
        heartbeat: Heartbeat | None,
    ) -> None:
        self.ws = ws
        self.session = session
        self.hub = hub
        self.clock = clock
        self.heartbeat = heartbeat
        self._send, self._queue = trio.open_memory_channel[Message | _CloseRequest](SEND_QUEUE)
        self._scope = trio.CancelScope()
        self.slow = False

    def offer(self, message: Message) -> None:
        """Queue a shared push; a connection whose queue is full is dropped as a slow consumer."""
        if self.session.personalizes:
            message = self.session.personalize(message)
        self._queue_message(message)

    def _queue_message(self, message: Message) -> None:
        try:
            self._send.send_nowait(message)
        except trio.WouldBlock:
            self.slow = True
            self._scope.cancel()
        except (trio.ClosedResourceError, trio.BrokenResourceError):
            pass

    async def run(self) -> None:
        """Serve the connection until either side closes it."""
        with self._scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._writer)
                if self.heartbeat is not None:
                    nursery.start_soon(self._pinger, self.heartbeat)
                if self.session.tick_period is not None:
                    nursery.start_soon(self._ticker, self.session.tick_period)
                self._stamp()
                self._apply(self.session.on_open(self.clock.now_ms()))
                await self._reader()
                nursery.cancel_scope.cancel()
        self.hub.remove_all(self)
        if self.slow:
            log.info("dropped a slow consumer %s", self.ws.remote)

    async def close(self, code: int, reason: str, farewell: Message | None = None) -> None:
        """Close from the server side (shutdown), after a last message if the exchange sends one."""
        farewell = self.session.farewell(self.clock.now_ms()) or farewell
        with trio.move_on_after(2):
            try:
                if farewell is not None:
                    await self.ws.send_message(farewell)
                await self.ws.aclose(code, reason)
            except ConnectionClosed:
                pass
        self._scope.cancel()

    async def _reader(self) -> None:
        while True:
            try:
                message = await self.ws.get_message()
            except ConnectionClosed:
                return
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

    def _apply(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                self._queue_message(action.message)
            elif isinstance(action, Subscribe):
                self.hub.add(action.subscription, self)
            elif isinstance(action, Unsubscribe):
                self.hub.remove(action.subscription, self)
            elif isinstance(action, Close):
                try:
                    self._send.send_nowait(_CloseRequest(action.code, action.reason))
                except (trio.WouldBlock, trio.ClosedResourceError):
                    self._scope.cancel()

    async def _writer(self) -> None:
        try:
            async for item in self._queue:
                if isinstance(item, _CloseRequest):
                    await self.ws.aclose(item.code, item.reason)
                    break
                await self.ws.send_message(item)
        except ConnectionClosed:
            pass
        self._scope.cancel()

    async def _ticker(self, period: float) -> None:
        while True:
            await trio.sleep(period)
            self._stamp()
            self._apply(self.session.on_tick(self.clock.now_ms()))

    async def _pinger(self, heartbeat: Heartbeat) -> None:
        while True:
            await trio.sleep(heartbeat.interval)
            with trio.move_on_after(heartbeat.timeout) as waited:
                try:
                    await self.ws.ping()
                except ConnectionClosed:
                    break
            if waited.cancelled_caught:
                log.info("no pong within %ss, closing %s", heartbeat.timeout, self.ws.remote)
                with trio.move_on_after(2):
                    with contextlib.suppress(ConnectionClosed):
                        await self.ws.aclose(1008, "pong timeout")
                break
        self._scope.cancel()
