"""The day path: each pair's price at every 00:00 UTC, by a dyadic Brownian construction.

The price at the anchor date (2025-01-01) is the pair's start price. The path is fixed at ±2**17 days
(about 359 years) from a counter-based draw, then every dyadic midpoint is drawn between its two
ends, so the price at any day costs O(17) draws and never a walk from an origin.

``exp`` and ``log`` are computed here with IEEE-754 ``+ - × ÷`` only, not by the platform's C
library (whose last bits differ between systems), so every machine gets the same prices.
"""

from __future__ import annotations

import math

from mockfeed.market import draws

DYADIC_LEVELS = 17
SPAN_DAYS = 1 << DYADIC_LEVELS
#: Prices stay within [1, 2**50] ticks, so sums of 1e9 candles' quote volumes fit in 64 bits.
MAX_TICKS = 1 << 50
_LN2 = 0.6931471805599453
_LN2_HI = 0.6931471803691238  # _LN2 split so that k * _LN2_HI is exact for |k| < 2**20
_LN2_LO = 1.9082149292705877e-10
_MAX_LOG = 50 * _LN2


def exp(x: float) -> float:
    """e**x to within a few units in the last place, the same bits on every machine."""
    k = round(x / _LN2)
    r = (x - k * _LN2_HI) - k * _LN2_LO  # |r| <= 0.35
    term = total = 1.0
    for i in range(1, 18):
        term = term * r / i
        total += term
    return math.ldexp(total, k)


def log(y: float) -> float:
    """The natural log of ``y`` > 0, the same bits on every machine."""
    m, e = math.frexp(y)  # y = m * 2**e, 0.5 <= m < 1
    if m < 0.7071067811865476:
        m, e = m * 2.0, e - 1
    s = (m - 1.0) / (m + 1.0)  # |s| <= 0.172; log(m) = 2 atanh(s)
    s2 = s * s
    term, total = s, 0.0
    for i in range(1, 40, 2):
        total += term / i
        term *= s2
    return e * _LN2 + 2.0 * total


class OutOfRange(ValueError):
    """Raised for a time outside the model's span."""


class DayPath:
    """One pair's log prices (in ticks) at day boundaries, with a bounded cache of path points."""

    def __init__(self, key: int, log_anchor: float, sigma_day: float, cache_limit: int = 8192) -> None:
        self._key = key
        self._log_anchor = log_anchor
        self._sigma_day = sigma_day
        self._limit = cache_limit
        self._points: dict[int, float] = {}  # signed day offset from the anchor -> log price

    @property
    def size(self) -> int:
        """Points cached now (at most :attr:`limit` + 2)."""
        return len(self._points)

    @property
    def limit(self) -> int:
        """Points cached at most before the cache is cleared (plus the two ends)."""
        return self._limit

    def _point(self, position: int, v_lo: float, v_hi: float, width: int) -> float:
        value = self._points.get(position)
        if value is None:
            normal = draws.normal(draws.node_key(self._key, draws.PATH_LEVEL, position))
            spread = self._sigma_day * math.sqrt(width / 4)
            value = (v_lo + v_hi) / 2 + spread * normal
            if len(self._points) >= self._limit:
                self._points.clear()  # every point is recomputed identically when needed again
            self._points[position] = value
        return value

    def _top(self, side: int) -> float:
        top = self._points.get(side * SPAN_DAYS)
        if top is None:
            top = self._log_anchor + self._sigma_day * math.sqrt(SPAN_DAYS) * draws.normal(
                draws.node_key(self._key, draws.PATH_LEVEL, side * SPAN_DAYS)
            )
            self._points[side * SPAN_DAYS] = top
        return top

    def log_price(self, offset: int) -> float:
        """Log price in ticks at 00:00 UTC of the day ``offset`` days after the anchor."""
        side, x = (1, offset) if offset >= 0 else (-1, -offset)
        if x > SPAN_DAYS:
            raise OutOfRange("time is outside the model's span")
        lo, v_lo = 0, self._log_anchor
        hi, v_hi = SPAN_DAYS, self._top(side)
        while True:
            if x == lo:
                return v_lo
            if x == hi:
                return v_hi
            mid = (lo + hi) // 2
            v_mid = self._point(side * mid, v_lo, v_hi, hi - lo)
            if x < mid:
                hi, v_hi = mid, v_mid
            else:
                lo, v_lo = mid, v_mid

    def log_prices(self, first: int, last: int) -> list[float]:
        """:meth:`log_price` of every offset in ``[first, last]``, visiting each path point once."""
        if max(-first, last) > SPAN_DAYS:
            raise OutOfRange("time is outside the model's span")
        found: dict[int, float] = {}
        if first <= 0 <= last:
            found[0] = self._log_anchor
        if last > 0:
            self._fill(1, max(first, 1), last, found)
        if first < 0:
            self._fill(-1, max(-last, 1), -first, found)
        return [found[x] for x in range(first, last + 1)]

    def _fill(self, side: int, a: int, b: int, found: dict[int, float]) -> None:
        """Log prices of positions ``a..b`` (>= 1) on one side of the anchor, into ``found``."""
        top = self._top(side)
        if b == SPAN_DAYS:
            found[side * SPAN_DAYS] = top
        pending = [(0, self._log_anchor, SPAN_DAYS, top)]
        while pending:
            lo, v_lo, hi, v_hi = pending.pop()
            if hi - lo < 2:
                continue
            mid = (lo + hi) // 2
            v_mid = self._point(side * mid, v_lo, v_hi, hi - lo)
            if a <= mid <= b:
                found[side * mid] = v_mid
            if a < mid and lo < b:
                pending.append((lo, v_lo, mid, v_mid))
            if mid < b and hi > a:
                pending.append((mid, v_mid, hi, v_hi))

    def price(self, offset: int) -> int:
        """Price in ticks at 00:00 UTC of the day ``offset`` days after the anchor."""
        return _ticks(self.log_price(offset))

    def prices(self, first: int, last: int) -> list[int]:
        """:meth:`price` of every offset in ``[first, last]``."""
        return [_ticks(v) for v in self.log_prices(first, last)]


def _ticks(log_price: float) -> int:
    return max(1, round(exp(min(log_price, _MAX_LOG))))
