"""The deterministic, random-access market model.

Every candle is a pure function of ``(seed, pair, time)``. The path is built coarse to fine:

* Day-boundary log prices come from a dyadic Brownian construction around an anchor date
  (2025-01-01), so the price at any day costs O(log N) counter-based normal draws, never a walk from
  an origin.
* A node (a day, an hour, a minute) expands into its children (24 hours, 60 minutes, 60 seconds)
  with a Brownian bridge between its open and close, squeezed into its high/low range. The child that
  holds the highest point takes the node's high exactly, and the one with the lowest point its low;
  volumes, quote volumes and trade counts are split exactly (integer units) among the children.

So every interval is the exact aggregate of 1-second candles: a candle's high is the max of its
children's, its volume their sum, and so on, at every level. Intervals that are not nodes (3m, 4h,
1w, 1M...) are aggregates of the nodes that tile them.

Prices are integers of ticks, base volumes integers of lots, quote volumes integers of tick×lot, so
sums are exact; decimals are made only at the edge (:class:`Candle`).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TypeAlias

from mockfeed.market.candle import Candle
from mockfeed.market.interval import Interval
from mockfeed.market.pairs import PairSpec

#: Node values: (open, high, low, close, taker-buy base, taker-sell base, taker-buy quote,
#: taker-sell quote, trades), prices in ticks, base in lots, quote in tick×lot.
Node: TypeAlias = tuple[int, int, int, int, int, int, int, int, int]

ANCHOR_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z: where each pair's start price holds
DEFAULT_HISTORY_START_MS = 1_483_228_800_000  # 2017-01-01T00:00:00Z: first candle served

_DAY = 86_400
_ANCHOR_DAY = ANCHOR_MS // 1000 // _DAY
_DYADIC_LEVELS = 17  # the path is defined for 2**17 days (about 359 years) on each side of the anchor
# (seconds per node, children per node) for day, hour, minute; seconds have no children.
_LEVELS = ((86_400, 24), (3_600, 60), (60, 60), (1, 0))
_SECOND_LEVEL = 3
_SECONDS_PER_YEAR = 365 * _DAY


class OutOfRange(ValueError):
    """Raised for a time outside the model's span."""


class PairModel:
    """The synthetic market of one pair under one seed."""

    def __init__(self, spec: PairSpec, seed: int, history_start_ms: int, cache_size: int) -> None:
        self.spec = spec
        self.seed = seed
        self.history_start_s = history_start_ms // 1000 // _DAY * _DAY
        self._tick = spec.tick_size
        self._lot = spec.lot_size
        self._quote_unit = spec.tick_size * spec.lot_size
        self._sigma_s = spec.volatility / math.sqrt(_SECONDS_PER_YEAR)
        self._log_anchor = math.log(float(spec.start_price / spec.tick_size))
        self._key_prefix = f"{seed}|{spec.name}|".encode()
        self._path_cache: dict[tuple[int, int], float] = {}
        self._expansions: OrderedDict[tuple[int, int], tuple[Node, list[Node]]] = OrderedDict()
        self._day_values: dict[int, Node] = {}
        self._cache_size = cache_size

    # -- randomness ---------------------------------------------------------------------------
    def _digest(self, tag: str) -> bytes:
        return hashlib.blake2b(self._key_prefix + tag.encode(), digest_size=16).digest()

    def _normal(self, tag: str) -> float:
        raw = self._digest(tag)
        u1 = (int.from_bytes(raw[:8], "little") + 1) / 18446744073709551617.0
        u2 = int.from_bytes(raw[8:], "little") / 18446744073709551616.0
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def _rng(self, level: int, index: int) -> random.Random:
        return random.Random(int.from_bytes(self._digest(f"n{level}:{index}"), "little"))

    # -- the day path ---------------------------------------------------------------------------
    def _day_log_price(self, day: int) -> float:
        """Log price (in ticks) at 00:00 UTC of ``day`` (days since 1970-01-01)."""
        offset = day - _ANCHOR_DAY
        side, x = (1, offset) if offset >= 0 else (-1, -offset)
        span = 1 << _DYADIC_LEVELS
        if x > span:
            raise OutOfRange("time is outside the model's span")
        sigma_day = self._sigma_s * math.sqrt(_DAY)
        lo, v_lo = 0, self._log_anchor
        hi = span
        v_hi = self._path_cache.get((side, hi))
        if v_hi is None:
            v_hi = self._log_anchor + sigma_day * math.sqrt(span) * self._normal(f"p{side}:top")
            self._path_cache[(side, hi)] = v_hi
        while True:
            if x == lo:
                return v_lo
            if x == hi:
                return v_hi
            mid = (lo + hi) // 2
            v_mid = self._path_cache.get((side, mid))
            if v_mid is None:
                spread = sigma_day * math.sqrt((hi - lo) / 4)
                v_mid = (v_lo + v_hi) / 2 + spread * self._normal(f"p{side}:{mid}")
                if len(self._path_cache) > 200_000:
                    self._path_cache.clear()
                self._path_cache[(side, mid)] = v_mid
            if x < mid:
                hi, v_hi = mid, v_mid
            else:
                lo, v_lo = mid, v_mid

    def _day_price(self, day: int) -> int:
        return max(1, round(math.exp(self._day_log_price(day))))

    # -- nodes ----------------------------------------------------------------------------------
    def node(self, level: int, index: int) -> Node:
        """The value of node ``index`` (counted from the epoch) at ``level`` (0 day ... 3 second)."""
        if level == 0:
            return self._day_value(index)
        size = _LEVELS[level - 1][1]
        parent, position = divmod(index, size)
        return self._expand(level - 1, parent)[1][position]

    def _expand(self, level: int, index: int) -> tuple[Node, list[Node]]:
        key = (level, index)
        cached = self._expansions.get(key)
        if cached is not None:
            self._expansions.move_to_end(key)
            return cached
        if level == 0:
            result = self._expand_day(index)
        else:
            value = self.node(level, index)
            result = (value, self._children(level, index, value, None))
        self._expansions[key] = result
        if len(self._expansions) > self._cache_size:
            self._expansions.popitem(last=False)
        return result

    def _day_value(self, day: int) -> Node:
        value = self._day_values.get(day)
        if value is None:
            value = self._day_head(day)[0]
            if len(self._day_values) >= 4 * self._cache_size:
                self._day_values.clear()
            self._day_values[day] = value
        return value

    def _expand_day(self, day: int) -> tuple[Node, list[Node]]:
        value, rng, points = self._day_head(day)
        return value, self._children(0, day, value, (rng, points))

    def _day_head(self, day: int) -> tuple[Node, random.Random, list[int]]:
        """A day's value, with its hour points and the generator positioned for its children."""
        o, c = self._day_price(day), self._day_price(day + 1)
        rng = self._rng(0, day)
        points = self._bridge(rng, o, c, 24, 3600)
        top, bottom = max(points), min(points)
        hour_sigma = self._sigma_s * math.sqrt(3600)
        h = top + round(abs(rng.gauss(0.0, 1.0)) * top * hour_sigma * 0.5)
        low = max(1, bottom - round(abs(rng.gauss(0.0, 1.0)) * bottom * hour_sigma * 0.5))
        move = abs(math.log(c / o)) / (self._sigma_s * math.sqrt(_DAY))
        factor = (0.7 + 0.5 * min(move, 4.0)) * math.exp(0.25 * rng.gauss(0.0, 1.0))
        # Quote volume at the range's midpoint: a target every level below can reach (see _tilt).
        mid = (h + low) // 2
        price = float(mid * self._tick)
        volume = round(self.spec.daily_quote_volume * factor / price / float(self._lot))
        buy_share = 0.5 + 0.05 * (1 if c > o else -1 if c < o else 0) + 0.03 * rng.gauss(0.0, 1.0)
        buy = round(volume * min(0.9, max(0.1, buy_share)))
        sell = volume - buy
        trades = round(volume * float(self._lot) * price / self.spec.mean_trade_quote)
        trades = max(trades, 1) if volume else 0
        value: Node = (o, h, low, c, buy, sell, buy * mid, sell * mid, trades)
        return value, rng, points

    def _bridge(self, rng: random.Random, o: int, c: int, n: int, child_seconds: int) -> list[int]:
        """n+1 tick prices from o to c: a Brownian bridge in log price."""
        step = self._sigma_s * math.sqrt(child_seconds)
        gauss = rng.gauss
        walk = [0.0]
        acc = 0.0
        for _ in range(n):
            acc += gauss(0.0, step)
            walk.append(acc)
        lo, lc = math.log(o), math.log(c)
        end = walk[n]
        points = [o]
        for i in range(1, n):
            frac = i / n
            points.append(max(1, round(math.exp(lo + (lc - lo) * frac + walk[i] - frac * end))))
        points.append(c)
        return points

    def _children(
        self,
        level: int,
        index: int,
        value: Node,
        prepared: tuple[random.Random, list[int]] | None,
    ) -> list[Node]:
        seconds, n = _LEVELS[level]
        child_seconds = seconds // n
        o, h, low, c, buy, sell, buy_q, sell_q, trades = value
        if prepared is None:
            rng = self._rng(level, index)
            points = self._squeeze(self._bridge(rng, o, c, n, child_seconds), h, low)
        else:
            rng, points = prepared
        gauss = rng.gauss
        sigma = self._sigma_s * math.sqrt(child_seconds)
        scale = (h + low) / 2 * sigma
        top = max(range(n), key=lambda i: max(points[i], points[i + 1]))
        bottom = min(range(n), key=lambda i: min(points[i], points[i + 1]))
        opens, closes = points[:-1], points[1:]
        highs: list[int] = []
        lows: list[int] = []
        weights: list[float] = []
        buy_weights: list[float] = []
        for i in range(n):
            co, cc = opens[i], closes[i]
            ch = h if i == top else min(h, max(co, cc) + round(abs(gauss(0.0, 1.0)) * scale * 0.4))
            cl = low if i == bottom else max(low, min(co, cc) - round(abs(gauss(0.0, 1.0)) * scale * 0.4))
            highs.append(ch)
            lows.append(cl)
            weight = (0.5 + (ch - cl) / scale) * math.exp(0.4 * gauss(0.0, 1.0))
            tilt = 0.5 + (0.1 if cc > co else -0.1 if cc < co else 0.0) + 0.08 * gauss(0.0, 1.0)
            weights.append(weight)
            buy_weights.append(weight * min(0.95, max(0.05, tilt)))
        sell_weights = [w - b for w, b in zip(weights, buy_weights, strict=True)]
        mids = [(hi + lo) / 2 for hi, lo in zip(highs, lows, strict=True)]
        buys = _split(buy, _tilt(buy_weights, mids, buy_q / buy) if buy else buy_weights)
        sells = _split(sell, _tilt(sell_weights, mids, sell_q / sell) if sell else sell_weights)
        buys, buy_qs = _fit_quote(buy_q, buys, lows, highs, top, bottom)
        sells, sell_qs = _fit_quote(sell_q, sells, lows, highs, top, bottom)
        counts = _split(trades, [float(b + s) for b, s in zip(buys, sells, strict=True)])
        return [
            (opens[i], highs[i], lows[i], closes[i], buys[i], sells[i], buy_qs[i], sell_qs[i], counts[i])
            for i in range(n)
        ]

    @staticmethod
    def _squeeze(points: list[int], high: int, low: int) -> list[int]:
        """Pull a bridge toward its chord until every point lies in [low, high]."""
        n = len(points) - 1
        o, c = points[0], points[-1]
        shrink = 1.0
        for i in range(1, n):
            chord = o + (c - o) * i / n
            dev = points[i] - chord
            if points[i] > high and dev > 0:
                shrink = min(shrink, (high - chord) / dev)
            elif points[i] < low and dev < 0:
                shrink = min(shrink, (low - chord) / dev)
        if shrink >= 1.0:
            return points
        out = [o]
        for i in range(1, n):
            chord = o + (c - o) * i / n
            out.append(min(high, max(low, round(chord + (points[i] - chord) * shrink))))
        out.append(c)
        return out

    # -- ranges ---------------------------------------------------------------------------------
    def aggregate(self, start_s: int, end_s: int) -> Node | None:
        """The aggregate of the 1-second candles in ``[start_s, end_s)``, or None if empty."""
        start_s = max(start_s, self.history_start_s)
        parts: list[Node] = []
        t = start_s
        while t < end_s:
            for level, (size, _) in enumerate(_LEVELS):
                if t % size == 0 and t + size <= end_s:
                    parts.append(self.node(level, t // size))
                    t += size
                    break
        return _combine(parts) if parts else None

    def to_candle(self, value: Node, open_ms: int, close_ms: int, closed: bool) -> Candle:
        """Turn a node value into a :class:`Candle` of decimals."""
        o, h, low, c, buy, sell, buy_q, sell_q, trades = value
        tick, lot, unit = self._tick, self._lot, self._quote_unit
        return Candle(
            open_time=open_ms,
            close_time=close_ms,
            open=o * tick,
            high=h * tick,
            low=low * tick,
            close=c * tick,
            volume=(buy + sell) * lot,
            quote_volume=(buy_q + sell_q) * unit,
            trades=trades,
            taker_buy_volume=buy * lot,
            taker_buy_quote_volume=buy_q * unit,
            closed=closed,
        )

    def first_open_ms(self, interval: Interval) -> int:
        """Open time of the first candle of ``interval`` (the one containing the history start)."""
        return interval.floor(self.history_start_s * 1000)

    def candle_at(self, interval: Interval, open_ms: int, now_ms: int) -> Candle | None:
        """The candle of ``interval`` opening at ``open_ms`` as it stands at ``now_ms``.

        None if it opens after ``now_ms`` or ends before the history start. A candle still open at
        ``now_ms`` is the aggregate of its completed seconds, with ``closed`` False; with none
        completed yet it is flat at its open price.
        """
        if open_ms > now_ms:
            return None
        next_ms = interval.next(open_ms)
        closed = next_ms <= now_ms
        end_s = next_ms // 1000 if closed else now_ms // 1000
        start_s = open_ms // 1000
        value = self.aggregate(start_s, end_s)
        if value is None:
            if end_s <= self.history_start_s and closed:
                return None
            first = max(start_s, self.history_start_s)
            if first * 1000 >= next_ms:
                return None
            price = self.node(_SECOND_LEVEL, first)[0]
            value = (price, price, price, price, 0, 0, 0, 0, 0)
        return self.to_candle(value, open_ms, next_ms - 1, closed)


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """Split a non-negative integer exactly, in proportion to non-negative weights."""
    n = len(weights)
    if total == 0:
        return [0] * n
    whole = math.fsum(weights)
    if whole <= 0.0:
        out = [0] * n
        out[-1] = total
        return out
    out = []
    acc = 0.0
    previous = 0
    for w in weights[:-1]:
        acc += w
        mark = min(total, int(total * (acc / whole)))
        mark = max(mark, previous)
        out.append(mark - previous)
        previous = mark
    out.append(total - previous)
    return out


def _tilt(weights: list[float], mids: list[float], target: float) -> list[float]:
    """Weights exponentially tilted so that the weighted mean of ``mids`` equals ``target``.

    A node's average price must be matched by its children, whose volumes are otherwise random;
    tilting shifts volume smoothly toward the side it must come from instead of piling it on the
    extreme child. A node priced at its range midpoint is always reachable: the children holding
    its high and low have midpoints on either side of it.
    """
    lo, hi = min(mids), max(mids)
    if hi <= lo:
        return weights
    xs = [(m - target) / (hi - lo) for m in mids]
    lam, left, right = 0.0, -60.0, 60.0
    for _ in range(40):
        terms = [w * math.exp(lam * x) for w, x in zip(weights, xs, strict=True)]
        f = math.fsum(t * x for t, x in zip(terms, xs, strict=True))
        total = math.fsum(terms)
        if abs(f) <= 1e-9 * total:
            break
        if f > 0:
            right = lam
        else:
            left = lam
        slope = math.fsum(t * x * x for t, x in zip(terms, xs, strict=True))
        step = lam - f / slope if slope > 0 else (left + right) / 2
        lam = step if left < step < right else (left + right) / 2
    return [w * math.exp(lam * x) for w, x in zip(weights, xs, strict=True)]


def _fit_quote(
    total: int, volumes: list[int], lows: list[int], highs: list[int], top: int, bottom: int
) -> tuple[list[int], list[int]]:
    """Split a quote volume so that each child's average price lies within its own range.

    Returns (volumes, quotes) with ``sum(quotes) == total`` and ``low*v <= q <= high*v`` per child.
    When the parent's average price is beyond what the children's ranges can hold, whole lots move
    first into the child holding the parent's high (or low), which can always absorb it. Each child
    then gets its floor ``low*v`` plus a share of the remainder in proportion to its room.
    """
    volumes = list(volumes)
    n = len(volumes)
    floor = sum(lo * v for lo, v in zip(lows, volumes, strict=True))
    ceiling = sum(hi * v for hi, v in zip(highs, volumes, strict=True))
    if total > ceiling:
        for j in sorted((j for j in range(n) if j != top), key=lambda j: highs[j]):
            gain, need = highs[top] - highs[j], total - ceiling
            if need <= 0:
                break
            if gain <= 0 or volumes[j] == 0:
                continue
            move = min(volumes[j], -(-need // gain))
            volumes[j] -= move
            volumes[top] += move
            ceiling += move * gain
            floor += move * (lows[top] - lows[j])
    elif total < floor:
        for j in sorted((j for j in range(n) if j != bottom), key=lambda j: -lows[j]):
            gain, need = lows[j] - lows[bottom], floor - total
            if need <= 0:
                break
            if gain <= 0 or volumes[j] == 0:
                continue
            move = min(volumes[j], -(-need // gain))
            volumes[j] -= move
            volumes[bottom] += move
            floor -= move * gain
            ceiling -= move * (highs[j] - highs[bottom])
    if not floor <= total <= ceiling:  # not reached in practice; keeps sums exact regardless
        return volumes, _split(total, [float(v) for v in volumes])
    rest = total - floor
    rooms = [(hi - lo) * v for lo, hi, v in zip(lows, highs, volumes, strict=True)]
    whole = sum(rooms)
    quotes = []
    previous = acc = 0
    for i in range(n):
        acc += rooms[i]
        mark = rest * acc // whole if whole else 0
        quotes.append(lows[i] * volumes[i] + mark - previous)
        previous = mark
    return volumes, quotes


def _combine(parts: Iterable[Node]) -> Node:
    it = iter(parts)
    o, h, low, c, buy, sell, buy_q, sell_q, trades = next(it)
    for p in it:
        if p[1] > h:
            h = p[1]
        if p[2] < low:
            low = p[2]
        c = p[3]
        buy += p[4]
        sell += p[5]
        buy_q += p[6]
        sell_q += p[7]
        trades += p[8]
    return (o, h, low, c, buy, sell, buy_q, sell_q, trades)


class MarketModel:
    """Deterministic candles for a set of pairs under one seed.

    All times are epoch milliseconds. ``now_ms`` is passed in by the caller (the clock lives in the
    runtime), so the model stays a pure function of its arguments.
    """

    def __init__(
        self,
        pairs: Sequence[PairSpec],
        seed: int = 0,
        history_start_ms: int = DEFAULT_HISTORY_START_MS,
        cache_size: int = 4096,
    ) -> None:
        self.seed = seed
        self.history_start_ms = history_start_ms
        self.pairs: dict[str, PairModel] = {
            p.name: PairModel(p, seed, history_start_ms, cache_size) for p in pairs
        }

    def pair(self, name: str) -> PairModel:
        """The model of one canonical pair (``KeyError`` if not configured)."""
        return self.pairs[name]

    def candle(self, pair: str, interval: Interval, open_ms: int, now_ms: int) -> Candle | None:
        """One candle (forming if still open at ``now_ms``), or None if none exists there."""
        return self.pairs[pair].candle_at(interval, interval.floor(open_ms), now_ms)

    def candles(
        self,
        pair: str,
        interval: Interval,
        *,
        now_ms: int,
        limit: int,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[Candle]:
        """Up to ``limit`` candles, oldest first, selected as Binance selects klines.

        With ``start_ms``: the oldest candles opening at or after it, up to ``end_ms``. Without: the
        newest candles opening at or before ``end_ms`` (default: now). The forming candle is included
        when the window reaches now.
        """
        model = self.pairs[pair]
        out = []
        for t in self.opens(pair, interval, now_ms=now_ms, limit=limit, start_ms=start_ms, end_ms=end_ms):
            candle = model.candle_at(interval, t, now_ms)
            if candle is not None:
                out.append(candle)
        return out

    def opens(
        self,
        pair: str,
        interval: Interval,
        *,
        now_ms: int,
        limit: int,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[int]:
        """The open times :meth:`candles` would return, without computing any candle."""
        model = self.pairs[pair]
        last = min(now_ms, end_ms) if end_ms is not None else now_ms
        first_open = model.first_open_ms(interval)
        opens: list[int] = []
        if start_ms is not None and start_ms > last:
            return opens
        if interval.seconds and not interval.offset_ms and interval.seconds % (7 * 86400):
            step = interval.seconds * 1000  # epoch-aligned fixed intervals: plain arithmetic
            if start_ms is not None:
                first = max(-(-start_ms // step) * step, first_open)
                return list(range(first, min(last + 1, first + limit * step), step))
            newest = last // step * step
            return list(range(max(first_open, newest - (limit - 1) * step), newest + 1, step))
        if start_ms is not None:
            t = interval.floor(start_ms)
            if t < start_ms:
                t = interval.next(t)
            t = max(t, first_open)
            while t <= last and len(opens) < limit:
                opens.append(t)
                t = interval.next(t)
        else:
            t = interval.floor(last)
            while t >= first_open and len(opens) < limit:
                opens.append(t)
                t = interval.prev(t)
            opens.reverse()
        return opens

    def tick_size(self, pair: str) -> Decimal:
        """Price step of a pair."""
        return self.pairs[pair].spec.tick_size
