"""Fan-out of kline pushes: one ticker per exchange, each push encoded and framed once.

Every pass of the ticker collects the pushes that fall due (a close, the forming candle at the
plugin's cadence, catch-up after a stall) and hands them out in one go: each connection gets all
of its share in a single write, and the frame bytes are the same objects for every subscriber.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

import attrs
import trio

from mockfeed.exchanges.base import ExchangePlugin, Message, Subscription
from mockfeed.logs import TRACE, preview, tracing
from mockfeed.market import Interval, MarketModel
from mockfeed.market.clock import Clock
from mockfeed.runtime.chores import Chores
from mockfeed.runtime.conditions import Conditions, ConditionsHolder
from mockfeed.runtime.frames import Push, encode_frame
from mockfeed.runtime.lanes import DELIVER, DUPLICATE, LATE
from mockfeed.runtime.outbox import Outbox, broadcast

TICK_SECONDS = 0.05  # polling period for a clock that cannot tell when a time comes
MIN_SLEEP = 0.001  # the shortest sleep between passes (a close computed a hair early)
MAX_SLEEP = 5.0  # the longest, whatever the schedule says
MAX_CATCH_UP = 16  # finals sent at most per topic and pass after market time jumped
MAX_REPLAY = 1440  # finals replayed at most after one jump (a day of 1m candles); older are skipped


@attrs.define
class _Topic:
    styles: set[Subscription] = attrs.Factory(set)
    open_ms: int | None = None  # the candle being pushed (finals before it have gone out)
    due: float = 0.0  # monotonic time of the next cadence push
    behind: bool = False  # closes remain to be pushed (catch-up in progress)


class Hub:
    """Subscribers per :class:`Subscription`, the ticker that pushes their candles, and the
    :class:`Chores` (timers, short tasks) shared by the exchange's connections."""

    def __init__(
        self,
        plugin: ExchangePlugin,
        model: MarketModel,
        clock: Clock,
        faults: ConditionsHolder | None = None,
    ) -> None:
        self.plugin = plugin
        self.faults = faults if faults is not None else ConditionsHolder(str(plugin.exchange))
        self.model = model
        self.clock = clock
        self.subscribers: dict[Subscription, set[Outbox]] = {}
        self._topics: dict[tuple[str, Interval], _Topic] = {}
        self.chores = Chores()
        self.pushes = 0  # messages handed to subscribers so far
        self.overridden = 0  # connections with conditions of their own (they need the faulty path)
        self._woken = trio.Event()

    def add(self, subscription: Subscription, subscriber: Outbox) -> None:
        """Start delivering ``subscription`` to ``subscriber`` (a connection's outbox)."""
        self.subscribers.setdefault(subscription, set()).add(subscriber)
        topic = self._topics.setdefault((subscription.pair, subscription.interval), _Topic())
        topic.styles.add(subscription)
        self.wake()

    def remove(self, subscription: Subscription, subscriber: object) -> None:
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

    def remove_all(self, subscriber: object) -> None:
        """Forget every subscription of a subscriber (it disconnected); anything else is a no-op."""
        for subscription in [s for s, m in self.subscribers.items() if subscriber in m]:
            self.remove(subscription, subscriber)

    def wake(self) -> None:
        """Recompute the schedule now (market time moved, or a stream was added)."""
        self._woken.set()

    async def run(self) -> None:
        """Push forever: a final update when a candle closes, the forming one at the plugin's cadence.

        Between passes the ticker sleeps until the next push falls due — the earliest cadence
        push or candle close, the latter from the clock's ``seconds_until`` — or until :meth:`wake`
        (a new subscription, or market time moved). Under a virtual clock an hour of candles is
        then a few hundred passes, not one every 50 ms.
        """
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.chores.run)
            while True:
                if not self._topics:
                    await self._woken.wait()  # nothing to push: sleep until a first subscription
                    self._woken = trio.Event()
                mono = trio.current_time()
                self.tick(mono)
                with trio.move_on_after(self._sleep_for(mono)):
                    await self._woken.wait()
                self._woken = trio.Event()

    def _sleep_for(self, mono: float) -> float:
        """Seconds until the next pass is due (at least a millisecond, at most MAX_SLEEP)."""
        seconds_until = getattr(self.clock, "seconds_until", None)
        if seconds_until is None:
            return TICK_SECONDS  # a clock that cannot tell: poll
        delay = MAX_SLEEP
        for (_, interval), topic in self._topics.items():
            if topic.behind:
                return 0.0  # catch-up continues on the next pass
            delay = min(delay, topic.due - mono)
            if topic.open_ms is not None:
                delay = min(delay, seconds_until(interval.next(topic.open_ms)))
        return max(MIN_SLEEP, delay)

    def tick(self, mono: float) -> None:
        """One pass over every topic at monotonic time ``mono``; everything due goes out together.

        When market time has passed candle closes not yet pushed, their finals go out in order, at
        most MAX_CATCH_UP per topic and pass (the next pass follows at once), and at most the last
        MAX_REPLAY of them after a jump: older closes are skipped.
        """
        now_ms = self.clock.now_ms()
        due: list[tuple[Subscription, Message]] = []
        for (pair, interval), topic in list(self._topics.items()):
            styles = list(topic.styles)
            current = interval.floor(now_ms)
            if topic.open_ms is not None and current > topic.open_ms:
                t = topic.open_ms
                if interval.months == 0 and (current - t) // (interval.seconds * 1000) > MAX_REPLAY:
                    t = current - MAX_REPLAY * interval.seconds * 1000
                for _ in range(MAX_CATCH_UP):
                    if t >= current:
                        break
                    self._encode(due, styles, pair, interval, t, now_ms)
                    t = interval.next(t)
                topic.behind = t < current
                topic.due = mono + self.plugin.push_period(styles[0])
                topic.open_ms = t
                continue
            if mono >= topic.due:
                self._encode(due, styles, pair, interval, current, now_ms)
                topic.due = mono + self.plugin.push_period(styles[0])
            topic.behind = False
            topic.open_ms = current
        self.fan_out(due)

    def push_now(self) -> None:
        """Push the forming candle of every topic now, off the cadence (benchmarks drive this)."""
        now_ms = self.clock.now_ms()
        due: list[tuple[Subscription, Message]] = []
        for (pair, interval), topic in list(self._topics.items()):
            self._encode(due, list(topic.styles), pair, interval, interval.floor(now_ms), now_ms)
        self.fan_out(due)

    def _encode(
        self,
        due: list[tuple[Subscription, Message]],
        styles: list[Subscription],
        pair: str,
        interval: Interval,
        open_ms: int,
        now_ms: int,
    ) -> None:
        candle = self.model.candle(pair, interval, open_ms, now_ms)
        if candle is None:
            return
        for subscription in styles:
            due.append((subscription, self.plugin.encode_push(subscription, candle, now_ms)))

    def fan_out(self, due: list[tuple[Subscription, Message]]) -> None:
        """Deliver ``due`` (in order) to the subscribers of each subscription, one write each.

        Under lossy, delayed, duplicating or late conditions each subscriber's share is filtered and
        scheduled per its
        :class:`~mockfeed.runtime.lanes.Lane`; subscribers whose shares end up equal and due together
        are still written in one pass with shared bytes. A stalled exchange pushes nothing.
        """
        if not due:
            return
        if tracing():
            for subscription, message in due:
                TRACE.info("PUSH %s %s %s -> %d subscriber(s): %s", self.faults.exchange,
                           subscription.pair, subscription.interval.code,
                           len(self.subscribers.get(subscription, ())),
                           preview(message))
        conditions = self.faults.conditions
        if self.overridden:
            self._fan_out_faulty(due, conditions)  # some connections have conditions of their own
            return
        if conditions.stall:
            return
        if conditions.alters_pushes:
            if conditions.only_delays_ws:
                self._fan_out_delayed(due, conditions)
            else:
                self._fan_out_faulty(due, conditions)
            return
        first = due[0][0]
        if all(subscription == first for subscription, _ in due):
            members = self.subscribers.get(first)
            if members:
                push = Push.of([message for _, message in due])
                self.pushes += len(members) * len(push)
                broadcast(list(members), push)  # a copy: a slow consumer leaves the set meanwhile
            return
        # Several streams at once: group each subscriber's share; equal shares share their bytes.
        frames = [encode_frame(message) for _, message in due]
        shares = self._shares(due)
        built: dict[tuple[int, ...], Push] = {}
        for subscriber, indexes in shares.items():
            key = tuple(indexes)
            share = built.get(key)
            if share is None:
                share = built[key] = Push(
                    tuple(due[i][1] for i in key), b"".join(frames[i] for i in key)
                )
            self.pushes += len(share)
            subscriber.deliver(share)

    def _shares(self, due: list[tuple[Subscription, Message]]) -> dict[Outbox, list[int]]:
        """Each subscriber's share of ``due``: the indexes of the messages it gets, in order."""
        shares: dict[Outbox, list[int]] = {}
        for index, (subscription, _) in enumerate(due):
            for subscriber in self.subscribers.get(subscription, ()):
                shares.setdefault(subscriber, []).append(index)
        return shares

    def _fan_out_delayed(self, due: list[tuple[Subscription, Message]], base: Conditions) -> None:
        """:meth:`_fan_out_faulty` for one constant latency and nothing else (no connection with
        conditions of its own): one :meth:`Lane.delayed` per subscriber instead of a fate per push,
        subscribers due together written in one pass."""
        now = trio.current_time()
        soonest = now + base.latency_ms / 1000
        first = due[0][0]
        shares: Iterable[tuple[Outbox, tuple[int, ...]]]
        if all(subscription == first for subscription, _ in due):
            everything = tuple(range(len(due)))
            shares = [(member, everything) for member in self.subscribers.get(first, ())]
        else:
            shares = [(member, tuple(indexes)) for member, indexes in self._shares(due).items()]
        groups: dict[tuple[tuple[int, ...], float], list[Outbox]] = {}
        for subscriber, share in shares:
            kept, at = subscriber.lane.delayed(share, soonest)
            if kept:
                groups.setdefault((kept, at), []).append(subscriber)
        self._send_groups(due, groups, now)

    def _fan_out_faulty(self, due: list[tuple[Subscription, Message]], base: Conditions) -> None:
        exchange = self.faults.exchange
        now = trio.current_time()
        groups: dict[tuple[tuple[int, ...], float], list[Outbox]] = {}
        for subscriber, indexes in self._shares(due).items():
            lane = subscriber.lane
            conditions = lane.conditions(base)
            if conditions.stall:
                continue
            share: list[int] = []
            for i in indexes:
                fate = lane.fate(conditions, exchange)
                if fate == DELIVER:
                    share.append(i)
                elif fate == DUPLICATE:
                    share += (i, i)
                elif fate == LATE:  # overtaken by what follows: outside the lane's order
                    groups.setdefault(((i,), now + conditions.late_ms / 1000), []).append(subscriber)
            if not share:
                continue
            at = lane.due(conditions, exchange, now) if conditions.delays_ws else now
            groups.setdefault((tuple(share), at), []).append(subscriber)
        self._send_groups(due, groups, now)

    def _send_groups(
        self,
        due: list[tuple[Subscription, Message]],
        groups: dict[tuple[tuple[int, ...], float], list[Outbox]],
        now: float,
    ) -> None:
        """Write each group's share of ``due`` to its subscribers at its time, framed once per group."""
        frames: dict[int, bytes] = {}
        for (share_key, at), subscribers in groups.items():
            for i in share_key:
                if i not in frames:
                    frames[i] = encode_frame(due[i][1])
            push = Push(tuple(due[i][1] for i in share_key), b"".join(frames[i] for i in share_key))
            self.pushes += len(subscribers) * len(push)
            if at <= now:
                broadcast(subscribers, push)
            else:
                self.chores.call_later(at - now, partial(broadcast, subscribers, push))
