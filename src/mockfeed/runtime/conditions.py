"""Network conditions an exchange serves under (latency, jitter, injected errors), changeable live.

:class:`Conditions` is an immutable value; each exchange has a :class:`ConditionsHolder` that the REST
runtime reads on every request, so replacing it takes effect on the next request.

Faults are reproducible: every draw is a pure function of ``(fault_seed, exchange, request number,
purpose)`` (a keyed BLAKE2b hash turned into a uniform number in [0, 1)), and request numbers count the
exchange's REST requests from 0, restarting whenever whole conditions are set (at start, by assignment,
by PUT) or a PATCH names ``fault_seed``. The same seed and the same
request sequence therefore fail the same requests and delay them by the same amounts, whatever the
timing or the other exchanges do.

Latency of one answer: ``latency_ms + U * jitter_ms`` with U uniform in [0, 1), i.e. uniform in
``[latency_ms, latency_ms + jitter_ms)``. Each request fails independently with probability
``error_rate``.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import struct
from collections.abc import Mapping
from typing import Any

import attrs

KEYS = ("latency_ms", "jitter_ms", "error_rate", "fault_seed")
MAX_DELAY_MS = 600_000.0  # ten minutes: anything longer is surely a unit mistake
_DELAY, _ERROR = 1, 2  # draw purposes: independent streams for the same request


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


def _number(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{key} must be a finite number, got {value!r}")
    return number


def _latency(value: object) -> float:
    return check_delay(value, "latency_ms")


def _jitter(value: object) -> float:
    return check_delay(value, "jitter_ms")


_CHECKS = {"latency_ms": check_delay, "jitter_ms": check_delay, "error_rate": check_rate,
           "fault_seed": check_seed}


def draw(seed: int, exchange: str, number: int, purpose: int) -> float:
    """A uniform number in [0, 1) that depends only on its arguments (counter-based, no state)."""
    digest = hashlib.blake2b(
        struct.pack("<QQQ", seed, number, purpose), digest_size=8, key=exchange.encode()[:64]
    ).digest()
    return (int.from_bytes(digest, "little") >> 11) * 2.0**-53


@attrs.frozen(slots=True)
class Conditions:
    """Latency (fixed ``latency_ms`` plus uniform ``jitter_ms``), ``error_rate`` and ``fault_seed``.

    Values are validated on construction (ValueError naming the field).
    """

    latency_ms: float = attrs.field(default=0.0, converter=_latency)
    jitter_ms: float = attrs.field(default=0.0, converter=_jitter)
    error_rate: float = attrs.field(default=0.0, converter=check_rate)
    fault_seed: int = attrs.field(default=0, converter=check_seed)

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


class ConditionsHolder:
    """One exchange's current conditions and request counter, read by the runtime on every request."""

    def __init__(self, exchange: str, conditions: Conditions | None = None) -> None:
        self.exchange = exchange
        self._conditions = conditions if conditions is not None else Conditions()
        self._numbers = itertools.count()

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
        self._conditions = value
        if reseed:
            self._numbers = itertools.count()

    def next_request(self) -> tuple[Conditions, int]:
        """The conditions and the number of a newly arrived request."""
        return self._conditions, next(self._numbers)
