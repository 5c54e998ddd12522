"""Sans-IO rate limiters: plain values in (key, time in ms, cost), decisions out.

Exchanges count requests per client IP (the *key*) in windows of wall time:

* :class:`FixedWindow` counts cost in aligned windows ``[k·W, (k+1)·W)`` and starts from zero at
  each boundary (Binance's ``X-MBX-USED-WEIGHT-1M`` minute, Gate's 10-second window);
* :class:`SlidingWindow` admits a request only if the cost admitted in the last ``W`` ms, this
  request included, stays within the limit (OKX's "40 requests per 2 seconds").

Both keep memory bounded: a key whose window has passed is forgotten, and beyond ``max_keys`` live
keys the least recently seen is dropped. :class:`Bans` adds escalating bans for clients that keep
sending after being refused. Times are milliseconds of a monotonic clock that never goes back.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Protocol

import attrs

from mockfeed.exchanges.base import RestRequest, RestResponse

DEFAULT_MAX_KEYS = 10_000


@attrs.frozen(slots=True)
class Decision:
    """The outcome of one request against a limiter.

    ``used`` is the cost counted in the key's current window after this decision (refused requests
    add nothing); ``retry_after_ms`` is how long until a request of the same cost would be admitted
    (0 when admitted); ``reset_ms`` is how long until the current window ends (fixed windows) or its
    oldest cost expires (sliding windows; 0 when nothing is counted).
    """

    admitted: bool
    used: int
    limit: int
    retry_after_ms: int
    reset_ms: int

    @property
    def remaining(self) -> int:
        """Cost still available in the window (never negative)."""
        return max(0, self.limit - self.used)


class Limiter(Protocol):
    """What exchange tables need from a limiter."""

    limit: int
    window_ms: int

    def hit(self, key: Hashable, now_ms: int, cost: int = 1) -> Decision:
        """Admit and count ``cost`` if it fits the limit, else refuse and count nothing."""
        ...

    def peek(self, key: Hashable, now_ms: int, cost: int = 1) -> Decision:
        """What :meth:`hit` would decide, counting nothing."""
        ...


def _check(limit: int, window_ms: int, max_keys: int) -> None:
    if limit < 1 or window_ms < 1 or max_keys < 1:
        raise ValueError("limit, window_ms and max_keys must be positive")


class FixedWindow:
    """Cost per key in aligned windows of ``window_ms``; each window starts from zero."""

    def __init__(self, limit: int, window_ms: int, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        _check(limit, window_ms, max_keys)
        self.limit = limit
        self.window_ms = window_ms
        self.max_keys = max_keys
        # key -> (window index, cost); ordered by last use, so expired keys sit at the front.
        self._used: dict[Hashable, tuple[int, int]] = {}

    def __len__(self) -> int:
        return len(self._used)

    def used(self, key: Hashable, now_ms: int) -> int:
        """Cost counted for ``key`` in the window holding ``now_ms``."""
        window, cost = self._used.get(key, (-1, 0))
        return cost if window == now_ms // self.window_ms else 0

    def peek(self, key: Hashable, now_ms: int, cost: int = 1) -> Decision:
        """What :meth:`hit` would decide, counting nothing."""
        used = self.used(key, now_ms)
        reset = self.window_ms - now_ms % self.window_ms
        if used + cost <= self.limit:
            return Decision(True, used + cost, self.limit, 0, reset)
        # A cost above the limit never fits; the next window is still the earliest chance.
        return Decision(False, used, self.limit, reset, reset)

    def hit(self, key: Hashable, now_ms: int, cost: int = 1) -> Decision:
        """Admit and count ``cost`` if it fits the window's limit, else refuse and count nothing."""
        decision = self.peek(key, now_ms, cost)
        if decision.admitted:
            self._store(key, now_ms, decision.used)
        return decision

    def charge(self, key: Hashable, now_ms: int, cost: int) -> int:
        """Count ``cost`` whatever the limit (the exchange reports usage even when not enforcing)."""
        used = self.used(key, now_ms) + cost
        self._store(key, now_ms, used)
        return used

    def _store(self, key: Hashable, now_ms: int, used: int) -> None:
        window = now_ms // self.window_ms
        self._used.pop(key, None)
        self._expire(window)
        self._used[key] = (window, used)

    def _expire(self, window: int) -> None:
        used = self._used
        while used:
            oldest = next(iter(used))
            if used[oldest][0] >= window and len(used) < self.max_keys:
                return
            del used[oldest]


class SlidingWindow:
    """At most ``limit`` cost per key in any ``window_ms`` interval (a log of admitted costs)."""

    def __init__(self, limit: int, window_ms: int, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        _check(limit, window_ms, max_keys)
        self.limit = limit
        self.window_ms = window_ms
        self.max_keys = max_keys
        # key -> log of (time, cost), oldest first; keys ordered by last admission.
        self._logs: dict[Hashable, collections.deque[tuple[int, int]]] = {}
        self._totals: dict[Hashable, int] = {}

    def __len__(self) -> int:
        return len(self._logs)

    def used(self, key: Hashable, now_ms: int) -> int:
        """Cost admitted for ``key`` in the ``window_ms`` ending at ``now_ms``."""
        self._trim(key, now_ms)
        return self._totals.get(key, 0)

    def peek(self, key: Hashable, now_ms: int, cost: int = 1) -> Decision:
        """What :meth:`hit` would decide, counting nothing."""
        used = self.used(key, now_ms)
        log = self._logs.get(key)
        reset = log[0][0] + self.window_ms - now_ms if log else 0
        if used + cost <= self.limit:
            return Decision(True, used + cost, self.limit, 0, reset)
        return Decision(False, used, self.limit, self._wait(log, used + cost, now_ms), reset)

    def hit(self, key: Hashable, now_ms: int, cost: int = 1) -> Decision:
        """Admit and log ``cost`` if it fits the window's limit, else refuse and log nothing."""
        decision = self.peek(key, now_ms, cost)
        if decision.admitted:
            log = self._logs.pop(key, None) or collections.deque()
            self._expire(now_ms)
            log.append((now_ms, cost))
            self._logs[key] = log
            self._totals[key] = decision.used
        return decision

    def _wait(self, log: collections.deque[tuple[int, int]] | None, need: int, now_ms: int) -> int:
        """Milliseconds until enough logged cost expires for ``need`` to fit."""
        if log is None or need - sum(c for _, c in log) > self.limit:
            return self.window_ms  # the cost alone exceeds the limit: never, say a window
        excess = need - self.limit
        for at, cost in log:
            excess -= cost
            if excess <= 0:
                return at + self.window_ms - now_ms
        return self.window_ms

    def _trim(self, key: Hashable, now_ms: int) -> None:
        log = self._logs.get(key)
        if log is None:
            return
        start = now_ms - self.window_ms
        total = self._totals[key]
        while log and log[0][0] <= start:
            total -= log.popleft()[1]
        if log:
            self._totals[key] = total
        else:
            del self._logs[key], self._totals[key]

    def _expire(self, now_ms: int) -> None:
        start = now_ms - self.window_ms
        logs = self._logs
        while logs:
            oldest = next(iter(logs))
            if logs[oldest][-1][0] > start and len(logs) < self.max_keys:
                return
            del logs[oldest], self._totals[oldest]


@attrs.frozen(slots=True)
class Ban:
    """A client banned until ``until_ms`` (its ``offence``-th ban)."""

    until_ms: int
    offence: int


class Bans:
    """Escalating bans for clients that keep sending while refused.

    Each refusal is a strike; an admitted request clears the strikes. The ``strikes``-th strike in
    a row bans the key for ``durations_ms[n]`` (its n-th ban, counted from 0; the last duration
    repeats). Offences are forgotten ``forget_ms`` after a ban ends.
    """

    def __init__(
        self,
        strikes: int,
        durations_ms: Sequence[int],
        forget_ms: int,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> None:
        if strikes < 1 or not durations_ms or min(durations_ms) < 1 or max_keys < 1:
            raise ValueError("strikes, durations and max_keys must be positive")
        self.strikes = strikes
        self.durations_ms = tuple(durations_ms)
        self.forget_ms = forget_ms
        self.max_keys = max_keys
        self._strikes: dict[Hashable, int] = {}
        self._bans: dict[Hashable, Ban] = {}  # in order of ban start (expired ones leave from the front)

    def banned(self, key: Hashable, now_ms: int) -> Ban | None:
        """The ban in force for ``key`` at ``now_ms``, if any."""
        ban = self._bans.get(key)
        return ban if ban is not None and now_ms < ban.until_ms else None

    def admitted(self, key: Hashable) -> None:
        """A request of ``key`` was admitted: its strikes start over."""
        self._strikes.pop(key, None)

    def strike(self, key: Hashable, now_ms: int) -> Ban | None:
        """Count a refusal of ``key``; the ban it starts, if it is one strike too many."""
        count = self._strikes.pop(key, 0) + 1
        if len(self._strikes) >= self.max_keys:
            del self._strikes[next(iter(self._strikes))]
        if count < self.strikes:
            self._strikes[key] = count
            return None
        previous = self._bans.pop(key, None)
        offence = 0
        if previous is not None and now_ms < previous.until_ms + self.forget_ms:
            offence = previous.offence + 1
        duration = self.durations_ms[min(offence, len(self.durations_ms) - 1)]
        self._forget(now_ms)
        ban = Ban(now_ms + duration, offence)
        self._bans[key] = ban
        return ban

    def _forget(self, now_ms: int) -> None:
        bans = self._bans
        while bans:
            oldest = next(iter(bans))
            if bans[oldest].until_ms + self.forget_ms > now_ms and len(bans) < self.max_keys:
                return
            del bans[oldest]

    def __len__(self) -> int:
        return len(self._bans) + len(self._strikes)


def retry_after_s(ms: int) -> str:
    """A ``Retry-After`` header value: whole seconds, rounded up, at least 1."""
    return str(max(1, -(-ms // 1000)))


@attrs.frozen(slots=True)
class Rule:
    """``limit`` cost per ``window_ms``, in sliding or fixed (aligned) windows."""

    limit: int
    window_ms: int
    sliding: bool = True


class GroupLimits:
    """Named limits, each counted per client: an exchange's table of endpoint (or pool) limits.

    ``hit(client, group, now_ms, cost)`` counts against the group's own limiter, so two endpoints
    with separate limits never share a count, while endpoints sharing a pool name the same group.
    """

    def __init__(self, rules: Mapping[str, Rule], max_keys: int = DEFAULT_MAX_KEYS) -> None:
        self.rules = rules
        self._limiters: dict[str, FixedWindow | SlidingWindow] = {
            name: (SlidingWindow if rule.sliding else FixedWindow)(rule.limit, rule.window_ms, max_keys)
            for name, rule in rules.items()
        }

    def limiter(self, group: str) -> FixedWindow | SlidingWindow:
        """The limiter of ``group`` (KeyError for an unknown group)."""
        return self._limiters[group]

    def hit(self, client: Hashable, group: str, now_ms: int, cost: int = 1) -> Decision:
        """Admit and count, or refuse, one request of ``client`` against ``group``."""
        return self._limiters[group].hit(client, now_ms, cost)


class EndpointLimits:
    """An exchange's REST limits by path: ``route(path)`` names the group a request counts in
    (None: unlimited), ``cost(request)`` its weight, ``refuse(decision, request)`` the native refusal.
    """

    def __init__(
        self,
        rules: Mapping[str, Rule],
        route: Callable[[str], str | None],
        refuse: Callable[[Decision, RestRequest], RestResponse],
        cost: Callable[[RestRequest], int] = lambda request: 1,
    ) -> None:
        self.groups = GroupLimits(rules)
        self.route = route
        self.refuse = refuse
        self.cost = cost

    def check(self, request: RestRequest) -> RestResponse | None:
        """None if ``request`` is admitted (and counted), else the exchange's refusal."""
        group = self.route(request.path)
        if group is None:
            return None
        decision = self.groups.hit(request.client, group, request.wall_ms, self.cost(request))
        return None if decision.admitted else self.refuse(decision, request)
