"""Fan-out of kline pushes: one ticker per exchange, each push encoded once per subscription."""

from __future__ import annotations

from typing import Protocol

import attrs
import trio

from mockfeed.exchanges.base import ExchangePlugin, Message, Subscription
from mockfeed.market import Interval, MarketModel
from mockfeed.market.clock import Clock

TICK_SECONDS = 0.05  # ticker granularity: close events go out within this of the boundary
MAX_CATCH_UP = 16  # finals sent at most per topic and pass, should the ticker fall behind


class Subscriber(Protocol):
    """What the hub needs of a connection: a non-blocking offer of an encoded message."""

    def offer(self, message: Message) -> None:
        """Queue a message for sending without waiting."""


@attrs.define
class _Topic:
    styles: set[Subscription] = attrs.Factory(set)
    open_ms: int | None = None
    due: float = 0.0


class Hub:
    """Subscribers per :class:`Subscription`, and the ticker that pushes their candles."""

    def __init__(self, plugin: ExchangePlugin, model: MarketModel, clock: Clock) -> None:
        self.plugin = plugin
        self.model = model
        self.clock = clock
        self.subscribers: dict[Subscription, set[Subscriber]] = {}
        self._topics: dict[tuple[str, Interval], _Topic] = {}
        self.pushes = 0
        self._woken = trio.Event()

    def add(self, subscription: Subscription, subscriber: Subscriber) -> None:
        """Start delivering ``subscription`` to ``subscriber``."""
        self.subscribers.setdefault(subscription, set()).add(subscriber)
        topic = self._topics.setdefault((subscription.pair, subscription.interval), _Topic())
        topic.styles.add(subscription)
        self._woken.set()

    def remove(self, subscription: Subscription, subscriber: Subscriber) -> None:
        """Stop delivering ``subscription`` to ``subscriber``."""
        members = self.subscribers.get(subscription)
        if members is None:
            return
        members.discard(subscriber)
        if not members:
            del self.subscribers[subscription]
            key = (subscription.pair, subscription.interval)
            topic = self._topics[key]
            topic.styles.discard(subscription)
            if not topic.styles:
                del self._topics[key]

    def remove_all(self, subscriber: Subscriber) -> None:
        """Forget every subscription of a subscriber (it disconnected)."""
        for subscription in [s for s, m in self.subscribers.items() if subscriber in m]:
            self.remove(subscription, subscriber)

    async def run(self) -> None:
        """Push forever: a final update when a candle closes, the forming one at the plugin's cadence."""
        while True:
            if not self._topics:
                await self._woken.wait()  # nothing to push: sleep until a first subscription
                self._woken = trio.Event()
            self.tick(trio.current_time())
            await trio.sleep(TICK_SECONDS)

    def tick(self, mono: float) -> None:
        """One pass over every topic at monotonic time ``mono``."""
        now_ms = self.clock.now_ms()
        for (pair, interval), topic in list(self._topics.items()):
            styles = list(topic.styles)
            current = interval.floor(now_ms)
            if topic.open_ms is not None and current > topic.open_ms:
                opens: list[int] = []
                t = topic.open_ms
                while t < current and len(opens) < MAX_CATCH_UP:
                    opens.append(t)
                    t = interval.next(t)
                for t in opens:
                    self._push(styles, pair, interval, t, now_ms)
                topic.due = mono + self.plugin.push_period(styles[0])
            elif mono >= topic.due:
                self._push(styles, pair, interval, current, now_ms)
                topic.due = mono + self.plugin.push_period(styles[0])
            topic.open_ms = current

    def _push(
        self, styles: list[Subscription], pair: str, interval: Interval, open_ms: int, now_ms: int
    ) -> None:
        candle = self.model.candle(pair, interval, open_ms, now_ms)
        if candle is None:
            return
        for subscription in styles:
            message = self.plugin.encode_push(subscription, candle, now_ms)
            for subscriber in list(self.subscribers.get(subscription, ())):
                subscriber.offer(message)
                self.pushes += 1

