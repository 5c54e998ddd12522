"""Network conditions an exchange serves under (latency, jitter, injected errors), changeable live.

:class:`Conditions` is an immutable value; each exchange has a :class:`ConditionsHolder` that the REST
runtime reads on every request, so replacing it takes effect on the next request.

Faults are reproducible: every draw is a pure function of ``(fault_seed, exchange, request number,
purpose)`` (a keyed BLAKE2b hash turned into a uniform number in [0, 1)), and request numbers count the
exchange's REST requests from 0, restarting whenever whole conditions are set (at start, by assignment,
by PUT) or a PATCH names ``fault_seed``. The same seed and the same
request sequence therefore fail the same requests and delay them by the same amounts, whatever the
timing or the other exchanges do.

Latency of one answer (REST) or message (WebSocket): ``latency_ms + U * jitter_ms`` with U uniform in
[0, 1), i.e. uniform in ``[latency_ms, latency_ms + jitter_ms)``. Each request fails independently with
probability ``error_rate`` and is held then timed out with probability ``timeout_rate``; each WebSocket
push is dropped with probability ``loss`` (``loss_burst`` consecutive pushes per drop). WebSocket draws
use the connection's number (connections counted from 0 in accept order) and its push number.
``maintenance``, ``stall``, ``ws_lifetime_s`` and ``rate_limits`` are switches, see docs/faults.md.
"""

from __future__ import annotations

import fnmatch
import hashlib
import itertools
import math
import struct
from collections.abc import Callable, Mapping
from typing import Any

import attrs

KEYS = (
    "latency_ms", "jitter_ms", "error_rate", "fault_seed", "loss", "loss_burst", "timeout_rate",
    "timeout_ms", "maintenance", "stall", "ws_lifetime_s", "rate_limits", "duplicate", "late",
    "late_ms",
)
MAX_DELAY_MS = 600_000.0  # ten minutes: anything longer is surely a unit mistake
MAX_BURST = 1_000_000
MAX_LIFETIME_S = 7 * 86400.0
# Draw purposes: independent streams for the same request (REST) or push (WS, connection in the
# high bits of the purpose).
_DELAY, _ERROR, _TIMEOUT, _LOSS, _WS_DELAY, _DUPLICATE, _LATE = 1, 2, 3, 4, 5, 6, 7


def check_delay(value: object, key: str = "latency_ms") -> float:
    """A delay in milliseconds: a finite number in 0 … 600000; ValueError naming ``key`` otherwise."""
    number = _number(value, key)
    if not 0 <= number <= MAX_DELAY_MS:
        raise ValueError(f"{key} must be between 0 and {MAX_DELAY_MS:g} ms, got {value!r}")
    return number


def check_rate(value: object, key: str = "error_rate") -> float:
    """A probability in [0, 1]; ValueError naming ``key`` otherwise."""
    number = _number(value, key)
    if not 0 <= number <= 1:
        raise ValueError(f"{key} must be a probability between 0 and 1, got {value!r}")
    return number


def check_seed(value: object, key: str = "fault_seed") -> int:
    """A fault seed: an integer in 0 … 2**63-1; ValueError naming ``key`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be a non-negative integer, got {value!r}")
    if not 0 <= value < 2**63:
        raise ValueError(f"{key} must be between 0 and 2**63-1, got {value!r}")
    return value


def check_flag(value: object, key: str = "maintenance") -> bool:
    """A switch: JSON true or false; ValueError naming ``key`` otherwise."""
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, got {value!r}")
    return value


def check_burst(value: object, key: str = "loss_burst") -> int:
    """Pushes dropped per loss event: an integer in 1 … 1000000; ValueError naming ``key`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BURST:
        raise ValueError(f"{key} must be an integer between 1 and {MAX_BURST}, got {value!r}")
    return value


def check_lifetime(value: object, key: str = "ws_lifetime_s") -> float | None:
    """A WebSocket lifetime in seconds (0 < s <= 7 days), or None for the exchange's own."""
    if value is None:
        return None
    number = _number(value, key)
    if not 0 < number <= MAX_LIFETIME_S:
        raise ValueError(f"{key} must be null or between 0 (excluded) and {MAX_LIFETIME_S:g} s, got {value!r}")
    return number


def _number(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{key} must be a finite number, got {value!r}")
    return number


def _loss(value: object) -> float:
    return check_rate(value, "loss")


def _timeout_rate(value: object) -> float:
    return check_rate(value, "timeout_rate")


def _timeout_ms(value: object) -> float:
    return check_delay(value, "timeout_ms")


def _stall(value: object) -> bool:
    return check_flag(value, "stall")


def _rate_limits(value: object) -> bool:
    return check_flag(value, "rate_limits")


def _duplicate(value: object) -> float:
    return check_rate(value, "duplicate")


def _late(value: object) -> float:
    return check_rate(value, "late")


def _late_ms(value: object) -> float:
    return check_delay(value, "late_ms")


def _latency(value: object) -> float:
    return check_delay(value, "latency_ms")


def _jitter(value: object) -> float:
    return check_delay(value, "jitter_ms")


_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "latency_ms": check_delay, "jitter_ms": check_delay, "error_rate": check_rate,
    "fault_seed": check_seed, "loss": check_rate, "loss_burst": check_burst,
    "timeout_rate": check_rate, "timeout_ms": check_delay, "maintenance": check_flag,
    "stall": check_flag, "ws_lifetime_s": check_lifetime, "rate_limits": check_flag,
    "duplicate": check_rate, "late": check_rate, "late_ms": check_delay,
}


def draw(seed: int, exchange: str, number: int, purpose: int) -> float:
    """A uniform number in [0, 1) that depends only on its arguments (counter-based, no state)."""
    digest = hashlib.blake2b(
        struct.pack("<QQQ", seed, number, purpose), digest_size=8, key=exchange.encode()[:64]
    ).digest()
    return (int.from_bytes(digest, "little") >> 11) * 2.0**-53


@attrs.frozen(slots=True)
class Conditions:
    """One exchange's network conditions; all defaults mean a perfect network.

    ``latency_ms`` plus uniform ``jitter_ms`` delay every REST answer and WebSocket message;
    ``error_rate`` replaces REST answers by native errors; ``timeout_rate`` holds requests
    ``timeout_ms`` then answers the exchange's timeout error; ``loss`` drops WebSocket pushes,
    ``loss_burst`` at a time; ``maintenance`` answers REST with the native maintenance error and
    closes WebSockets; ``stall`` stops pushes on open connections; ``ws_lifetime_s`` closes each
    WebSocket after that many seconds (None: the exchange's own limit); ``rate_limits`` enforces the
    exchange's request limits; ``duplicate`` sends a push twice and ``late`` holds one back ``late_ms``
    while later messages overtake it. Values are validated on construction (ValueError naming the field).
    """

    latency_ms: float = attrs.field(default=0.0, converter=_latency)
    jitter_ms: float = attrs.field(default=0.0, converter=_jitter)
    error_rate: float = attrs.field(default=0.0, converter=check_rate)
    fault_seed: int = attrs.field(default=0, converter=check_seed)
    loss: float = attrs.field(default=0.0, converter=_loss)
    loss_burst: int = attrs.field(default=1, converter=check_burst)
    timeout_rate: float = attrs.field(default=0.0, converter=_timeout_rate)
    timeout_ms: float = attrs.field(default=30_000.0, converter=_timeout_ms)
    maintenance: bool = attrs.field(default=False, converter=check_flag)
    stall: bool = attrs.field(default=False, converter=_stall)
    ws_lifetime_s: float | None = attrs.field(default=None, converter=check_lifetime)
    rate_limits: bool = attrs.field(default=False, converter=_rate_limits)
    duplicate: float = attrs.field(default=0.0, converter=_duplicate)
    late: float = attrs.field(default=0.0, converter=_late)
    late_ms: float = attrs.field(default=1000.0, converter=_late_ms)

    @classmethod
    def from_json(cls, change: Mapping[str, Any]) -> Conditions:
        """Conditions from a JSON object; absent keys take their defaults (a full replacement)."""
        return cls().updated(change)

    def updated(self, change: Mapping[str, Any]) -> Conditions:
        """A copy with the keys of ``change`` replaced, all or nothing.

        Raises ValueError naming the first unknown or invalid key.
        """
        for key in change:
            if key not in _CHECKS:
                raise ValueError(f"unknown key {key!r}; expected some of {', '.join(KEYS)}")
        checked = {key: _CHECKS[key](value, key) for key, value in change.items()}
        return attrs.evolve(self, **checked)

    def to_json(self) -> dict[str, object]:
        """The conditions as a JSON-ready dict."""
        return {key: getattr(self, key) for key in KEYS}

    @property
    def perfect_for_rest(self) -> bool:
        """Whether REST answers go out untouched: no latency, fault, maintenance or rate limit."""
        return not (
            self.latency_ms or self.jitter_ms or self.error_rate or self.timeout_rate
            or self.maintenance or self.rate_limits
        )

    def delay_ms(self, exchange: str, number: int) -> float:
        """How long request ``number`` of ``exchange`` waits before its answer (ms)."""
        if self.jitter_ms == 0:
            return self.latency_ms
        return self.latency_ms + draw(self.fault_seed, exchange, number, _DELAY) * self.jitter_ms

    def fails(self, exchange: str, number: int) -> bool:
        """Whether request ``number`` of ``exchange`` is answered with an injected error."""
        if self.error_rate == 0:
            return False
        return draw(self.fault_seed, exchange, number, _ERROR) < self.error_rate

    def times_out(self, exchange: str, number: int) -> bool:
        """Whether request ``number`` of ``exchange`` is held ``timeout_ms`` and then timed out."""
        if self.timeout_rate == 0:
            return False
        return draw(self.fault_seed, exchange, number, _TIMEOUT) < self.timeout_rate

    def drops(self, exchange: str, connection: int, push: int) -> bool:
        """Whether push ``push`` of WebSocket ``connection`` starts a loss event (of ``loss_burst``)."""
        if self.loss == 0:
            return False
        return draw(self.fault_seed, exchange, push, _LOSS | connection << 8) < self.loss

    def ws_delay_ms(self, exchange: str, connection: int, message: int) -> float:
        """How long message ``message`` of WebSocket ``connection`` waits before it is written (ms)."""
        if self.jitter_ms == 0:
            return self.latency_ms
        return self.latency_ms + draw(self.fault_seed, exchange, message, _WS_DELAY | connection << 8) * self.jitter_ms

    def duplicates(self, exchange: str, connection: int, push: int) -> bool:
        """Whether push ``push`` of WebSocket ``connection`` is delivered twice in a row."""
        if self.duplicate == 0:
            return False
        return draw(self.fault_seed, exchange, push, _DUPLICATE | connection << 8) < self.duplicate

    def is_late(self, exchange: str, connection: int, push: int) -> bool:
        """Whether push ``push`` of WebSocket ``connection`` is held back ``late_ms`` (out of order)."""
        if self.late == 0:
            return False
        return draw(self.fault_seed, exchange, push, _LATE | connection << 8) < self.late

    @property
    def alters_pushes(self) -> bool:
        """Whether pushes need the per-connection path (loss, delays, duplicates, late pushes)."""
        return self.loss > 0 or self.delays_ws or self.duplicate > 0 or self.late > 0

    @property
    def only_delays_ws(self) -> bool:
        """Whether pushes are only held back by one constant latency (no jitter, loss, duplicates or
        late pushes): the hub's cheapest faulty path."""
        return self.latency_ms > 0 and not (self.jitter_ms or self.loss or self.duplicate or self.late)

    @property
    def delays_ws(self) -> bool:
        """Whether WebSocket messages are delayed at all."""
        return self.latency_ms > 0 or self.jitter_ms > 0


#: Condition keys one REST route may override.
ROUTE_KEYS = ("latency_ms", "jitter_ms", "error_rate", "timeout_rate", "timeout_ms", "maintenance")


def check_partial(change: Mapping[str, Any], allowed: tuple[str, ...], scope: str) -> dict[str, Any]:
    """``change`` as a dict if every key is among ``allowed`` and every value valid; ValueError
    naming the key otherwise (``scope`` says where, e.g. "per route")."""
    for key in change:
        if key not in allowed:
            raise ValueError(f"{key!r} cannot be set {scope}; expected some of {', '.join(allowed)}")
    Conditions().updated(change)
    return dict(change)


def check_routes(routes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per-route overrides checked (paths start with ``/``; :data:`ROUTE_KEYS` only), empty ones
    dropped; ValueError naming the route and key."""
    checked: dict[str, dict[str, Any]] = {}
    for pattern, keys in routes.items():
        if not isinstance(pattern, str) or not pattern.startswith("/"):
            raise ValueError(f"a route is a path starting with '/', got {pattern!r}")
        if not isinstance(keys, Mapping):
            raise ValueError(f"{pattern}: expected an object of condition keys")
        try:
            if keys:
                checked[pattern] = check_partial(keys, ROUTE_KEYS, "per route")
        except ValueError as error:
            raise ValueError(f"{pattern}: {error}") from None
    return checked


class ConditionsHolder:
    """One exchange's current conditions and request counter, read by the runtime on every request."""

    def __init__(self, exchange: str, conditions: Conditions | None = None) -> None:
        self.exchange = exchange
        self._conditions = conditions if conditions is not None else Conditions()
        self._numbers = itertools.count()
        self._connections = itertools.count()
        self._watchers: list[Callable[[Conditions, Conditions], None]] = []
        self._routes: dict[str, dict[str, Any]] = {}  # path pattern -> its own condition keys
        self._route_cache: dict[str, tuple[Conditions, Conditions]] = {}  # pattern -> (base, effective)

    def watch(self, watcher: Callable[[Conditions, Conditions], None]) -> None:
        """Call ``watcher(old, new)`` after every change (e.g. to close WebSockets for maintenance)."""
        self._watchers.append(watcher)

    @property
    def conditions(self) -> Conditions:
        """The current conditions."""
        return self._conditions

    @conditions.setter
    def conditions(self, value: Conditions) -> None:
        if not isinstance(value, Conditions):
            raise TypeError(f"expected Conditions, got {type(value).__name__}")
        self._set(value, reseed=True)

    def replace(self, change: Mapping[str, Any]) -> Conditions:
        """Replace every value (absent keys: defaults); request numbers restart from 0."""
        self._set(Conditions.from_json(change), reseed=True)
        return self._conditions

    def update(self, change: Mapping[str, Any]) -> Conditions:
        """Change only the given keys; request numbers restart if ``fault_seed`` is among them."""
        self._set(self._conditions.updated(change), "fault_seed" in change)
        return self._conditions

    def _set(self, value: Conditions, reseed: bool) -> None:
        old, self._conditions = self._conditions, value
        for watcher in self._watchers:
            watcher(old, value)
        if reseed:
            self._numbers = itertools.count()
            self._connections = itertools.count()

    def next_request(self, path: str = "") -> tuple[Conditions, int]:
        """The conditions for a newly arrived request on ``path``, and its number."""
        return self.for_path(path), next(self._numbers)

    @property
    def routes(self) -> dict[str, dict[str, Any]]:
        """Per-route overrides: a path (``*`` matches anything, e.g. ``/api/v3/*``) to its own keys."""
        return {pattern: dict(keys) for pattern, keys in self._routes.items()}

    def set_routes(self, routes: Mapping[str, Mapping[str, Any]]) -> None:
        """Replace every route's overrides, all or nothing; ValueError naming the route and key.

        Keys are those of :data:`ROUTE_KEYS`; a request takes the first pattern that matches its
        path, in the order given, on top of the exchange's conditions.
        """
        checked = check_routes(routes)
        self._routes = checked
        self._route_cache = {}

    def for_path(self, path: str) -> Conditions:
        """The conditions a request on ``path`` is under: the exchange's, with the first matching
        route's overrides on top."""
        base = self._conditions
        if not self._routes or not path:
            return base
        for pattern, keys in self._routes.items():
            if pattern == path or ("*" in pattern and fnmatch.fnmatchcase(path, pattern)):
                cached = self._route_cache.get(pattern)
                if cached is None or cached[0] is not base:
                    cached = self._route_cache[pattern] = (base, base.updated(keys))
                return cached[1]
        return base

    def next_connection(self) -> int:
        """The number of a newly accepted WebSocket connection (its fault draws depend on it)."""
        return next(self._connections)
