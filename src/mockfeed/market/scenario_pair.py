"""One pair's market under a scenario: the model's candles, transformed second by second.

The events compile into a timeline of *segments* that tile all time. In each, every 1-second candle
of the model is transformed the same way: its prices mapped by one exact increasing affine function
``p -> a·p + b`` (a jump's ramp is a run of short segments with growing factors ``a``, the time
after it one long segment; a volatility regime one segment ``a = f·k``, ``b = f·P0·(1 - k)``, moves
``k`` times the model's around its starting price ``P0``), or replaced by a flat, zero-volume candle
(a halt). *Absent* spans (before a listing, gaps) have no seconds at all. Outside regimes ``b`` is 0:
after a regime, as after a halt, the market goes on from the price reached, the model's later
prices multiplied by one factor.

A candle is the aggregate of its transformed, present seconds, which is computed per segment from
the model's own aggregates, so the cost does not grow with the candle's length:

* prices: ``max(1, round(a·p + b))`` is monotone non-decreasing, so the transformed open, high, low
  and close of an aggregate are those of its seconds, transformed: any tiling of a range gives the
  same candle;
* quote volumes are sums, and rounded products do not add up. Within a segment they are taken as
  differences of the rounded, transformed running totals since the segment's start,
  ``round(a·Q(t) + b·V(t))`` for the model's quote ``Q`` and base volume ``V`` (per taker side),
  which telescope: any tiling sums to the same quotes, within one unit per side of the exact
  ``a·q + b·v`` (each trade's price transformed), never negative. Base volumes and trades are
  unchanged. A regime is tempered so that ``a·p + b`` stays above a tenth of ``P0`` over it: the
  one-tick floor never cuts a price, and quotes stay within each candle's low and high.

Factors are :class:`~fractions.Fraction` and all arithmetic is on integers, so every process and
machine computes the same candles.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from fractions import Fraction
from math import gcd
from typing import Any

from mockfeed.market.interval import Interval
from mockfeed.market.model import Backend, PairModel, RawCandle
from mockfeed.market.nodes import SECOND_LEVEL, Node, combine
from mockfeed.market.pairs import PairSpec
from mockfeed.market.scenario import Resolved

NEVER = 1 << 62  # seconds: beyond any time the model serves, both ways
_MEMO_LIMIT = 65_536  # running totals remembered (four integers each)
#: A volatility regime keeps the price above this share of its level at the regime's start.
REGIME_FLOOR = Fraction(1, 10)


def ramp_step(span: int) -> int:
    """Seconds per step of a ramp over ``span`` seconds: at most 3,600 steps below 60 hours."""
    return 1 if span <= 3_600 else 60 if span <= 216_000 else 3_600


class _Segment:
    """``[start, end)`` where prices ``p`` become ``factor·p + offset``, or flat at ``price`` (a halt).

    ``scale``, ``shift`` and ``unit`` are the same map on integers: ``(scale·p + shift) / unit``.
    """

    __slots__ = ("end", "factor", "identity", "offset", "price", "scale", "shift", "start", "unit")

    def __init__(
        self, start: int, end: int, factor: Fraction, price: int | None = None,
        offset: Fraction = Fraction(0),
    ) -> None:
        self.start = start
        self.end = end
        self.factor = factor
        self.offset = offset
        self.price = price
        self.identity = factor == 1 and offset == 0
        unit = factor.denominator * offset.denominator // gcd(factor.denominator, offset.denominator)
        self.unit = unit
        self.scale = factor.numerator * (unit // factor.denominator)
        self.shift = offset.numerator * (unit // offset.denominator)

    def apply(self, value: int, volume: int = 1) -> int:
        """``factor·value + offset·volume`` rounded half up, exactly (a price: ``volume`` 1)."""
        unit = self.unit
        return (2 * (self.scale * value + self.shift * volume) + unit) // (2 * unit)

    def price_of(self, value: int) -> int:
        """A model price transformed (at least one tick)."""
        return max(1, self.apply(value))


class ScenarioPairModel(PairModel):
    """A :class:`PairModel` whose candles follow scripted events (see the module's docstring)."""

    def __init__(
        self,
        spec: PairSpec,
        seed: int,
        history_start_ms: int,
        cache_size: int,
        backend: Backend = "auto",
        *,
        events: Sequence[Resolved],
        base: PairModel | None = None,
    ) -> None:
        super().__init__(spec, seed, history_start_ms, cache_size, backend)
        #: The untouched market, which does the computing (its caches are the ones that fill); a
        #: plain model of the same pair, seed and history may be shared.
        self.base = base or PairModel(spec, seed, history_start_ms, cache_size, backend)
        self.events = tuple(events)
        self.listing_s = max((e.start for e in events if e.kind == "listing"), default=-NEVER)
        self._gaps = any(e.kind == "gap" for e in events)
        self._absent = _merge(
            [(-NEVER, self.listing_s)] + [(e.start, e.end) for e in events if e.kind == "gap"]
        )
        self._segments: list[_Segment] | None = None
        self._starts: list[int] = []
        self._memo: dict[tuple[int, int], tuple[int, int, int, int]] = {}

    def cache_info(self) -> dict[str, int]:
        """How full the model's caches are (see :meth:`PairModel.cache_info`)."""
        return self.base.cache_info()

    # -- the timeline ---------------------------------------------------------------------------
    @property
    def segments(self) -> list[_Segment]:
        """The timeline, compiled on first use (halts need the model's prices)."""
        if self._segments is None:
            self._segments = self._compile()
            self._starts = [s.start for s in self._segments]
        return self._segments

    def _compile(self) -> list[_Segment]:
        out: list[_Segment] = []
        factor, cursor = Fraction(1), -NEVER
        for event in self.events:
            if event.kind in ("listing", "gap"):
                continue
            start, end = event.start, event.end
            if start > cursor:
                out.append(_Segment(cursor, start, factor))
            if event.kind == "halt":
                last = out[-1]
                close = self.base.node(SECOND_LEVEL, start - 1)[3]
                price = last.price if last.price is not None else last.price_of(close)
                out.append(_Segment(start, end, Fraction(1), price))
                factor = Fraction(price, self.base.node(SECOND_LEVEL, end)[0])
            elif event.kind == "volatility":
                segment, factor = self._regime(start, end, event.factor, factor)
                out.append(segment)
            else:
                step = ramp_step(end - start)
                steps = -(-(end - start) // step)
                for j in range(steps):
                    a = start + j * step
                    grown = factor * (1 + (event.factor - 1) * Fraction(j + 1, steps))
                    out.append(_Segment(a, min(a + step, end), grown))
                factor *= event.factor
            cursor = end
        out.append(_Segment(cursor, NEVER, factor))
        return out

    def _regime(self, start: int, end: int, wildness: Fraction, factor: Fraction) -> tuple[_Segment, Fraction]:
        """A volatility regime's segment under the running ``factor``, and the factor after it.

        Inside, a model price ``p`` is ``P0 + k·(p - P0)`` (then times ``factor``) with ``P0`` the
        model's price at ``start``; ``k`` is ``wildness``, lowered if needed so that the regime's
        lowest price stays above ``REGIME_FLOOR × P0``. After, prices are the model's times the
        ratio that makes the regime's last price and the next one agree.
        """
        p0 = self.base.node(SECOND_LEVEL, start)[0]
        value = self.base.aggregate(start, end)
        low = p0 if value is None else value[2]
        floor = REGIME_FLOOR * p0
        k = wildness
        if low < p0 and p0 + k * (low - p0) < floor:
            k = (p0 - floor) / (p0 - low)
        segment = _Segment(start, end, factor * k, offset=factor * p0 * (1 - k))
        p1 = self.base.node(SECOND_LEVEL, end)[0]
        return segment, factor * (p0 + k * (p1 - p0)) / p1

    def _segment_at(self, t: int) -> int:
        """Index of the segment containing second ``t``."""
        segments = self.segments
        return bisect_right(self._starts, t) - 1 if segments else 0

    def _present(self, start: int, end: int) -> list[tuple[int, int]]:
        """``[start, end)`` without the absent spans, as ordered pieces."""
        out: list[tuple[int, int]] = []
        t = start
        for a, b in self._absent:
            if b <= t:
                continue
            if a >= end:
                break
            if a > t:
                out.append((t, a))
            t = max(t, b)
        if t < end:
            out.append((t, end))
        return out

    def present(self, second: int) -> bool:
        """Whether the 1-second candle at ``second`` exists."""
        return bool(self._present(second, second + 1))

    # -- transformed aggregates -----------------------------------------------------------------
    def _running(self, index: int, t: int) -> tuple[int, int, int, int]:
        """The model's (buy, sell) quote and (buy, sell) base totals from segment ``index``'s start
        to second ``t``."""
        segment = self.segments[index]
        if t <= segment.start:
            return 0, 0, 0, 0
        found = self._memo.get((index, t))
        if found is None:
            value = self.base.aggregate(segment.start, t)
            found = (0, 0, 0, 0) if value is None else (value[6], value[7], value[4], value[5])
            self._remember(index, t, found)
        return found

    def _remember(self, index: int, t: int, totals: tuple[int, int, int, int]) -> None:
        if len(self._memo) >= _MEMO_LIMIT:
            del self._memo[next(iter(self._memo))]
        self._memo[(index, t)] = totals

    def _scaled(self, index: int, a: int, b: int, value: Node) -> Node:
        """The model's aggregate ``value`` of ``[a, b)`` (inside segment ``index``), transformed."""
        segment = self.segments[index]
        if segment.identity:
            return value
        o, h, low, c, buy, sell, buy_q, sell_q, trades = value
        cb, cs, vb, vs = self._running(index, a)
        eb, es, wb, ws = cb + buy_q, cs + sell_q, vb + buy, vs + sell
        self._remember(index, b, (eb, es, wb, ws))
        price, apply = segment.price_of, segment.apply
        return (
            price(o), price(h), price(low), price(c), buy, sell,
            apply(eb, wb) - apply(cb, vb), apply(es, ws) - apply(cs, vs), trades,
        )

    def _piece(self, index: int, a: int, b: int) -> Node | None:
        segment = self.segments[index]
        if segment.price is not None:
            p = segment.price
            return (p, p, p, p, 0, 0, 0, 0, 0)
        value = self.base.aggregate(a, b)
        return None if value is None else self._scaled(index, a, b, value)

    def aggregate(self, start_s: int, end_s: int) -> Node | None:
        """The aggregate of the present, transformed 1-second candles in ``[start_s, end_s)``."""
        parts: list[Node] = []
        for a, b in self._present(max(start_s, self.history_start_s), end_s):
            index = self._segment_at(a)
            while a < b:
                stop = min(b, self.segments[index].end)
                part = self._piece(index, a, stop)
                if part is not None:
                    parts.append(part)
                a, index = stop, index + 1
        return combine(parts) if parts else None

    # -- candles --------------------------------------------------------------------------------
    def first_open_ms(self, interval: Interval) -> int:
        """Open time of the first candle of ``interval``: the one containing the listing, if any."""
        return interval.floor(max(self.history_start_s, self.listing_s) * 1000)

    def existing_opens(
        self, interval: Interval, opens: Sequence[int], limit: int, forward: bool, last_ms: int
    ) -> Sequence[int]:
        """``opens`` without the candles a gap removes, refilled beyond it up to ``limit``.

        Exchanges select the candles that exist, so a page over a gap goes on after it (forward
        from a start, or back from an end) instead of coming back short or empty, which would end
        a client's pagination early.
        """
        if not self._gaps or not opens:  # a listing alone: first_open_ms already applies
            return opens
        kept = [t for t in opens if self._exists(interval, t)]
        if len(kept) == len(opens) or len(opens) < limit:  # nothing removed, or a bound reached
            return kept
        if forward:
            t = interval.next(opens[-1])
            while len(kept) < limit and t <= last_ms:
                if self._exists(interval, t):
                    kept.append(t)
                    t = interval.next(t)
                else:
                    t = max(interval.next(t), interval.floor(self._absent_end(self._first_second(t)) * 1000))
            return kept
        earlier: list[int] = []
        first, t = self.first_open_ms(interval), interval.prev(opens[0])
        while len(kept) + len(earlier) < limit and t >= first:
            if self._exists(interval, t):
                earlier.append(t)
                t = interval.prev(t)
            else:
                t = min(interval.prev(t), interval.floor(self._absent_start(self._first_second(t)) * 1000 - 1))
        return [*reversed(earlier), *kept]

    def _first_second(self, open_ms: int) -> int:
        return max(open_ms // 1000, self.history_start_s)

    def _exists(self, interval: Interval, open_ms: int) -> bool:
        """Whether some second of the candle opening at ``open_ms`` is present."""
        return bool(self._present(self._first_second(open_ms), interval.next(open_ms) // 1000))

    def _absent_end(self, second: int) -> int:
        """The end of the absent span holding ``second``."""
        return next(b for a, b in self._absent if a <= second < b)

    def _absent_start(self, second: int) -> int:
        """The start of the absent span holding ``second``."""
        return next(a for a, b in self._absent if a <= second < b)

    def _raw_one(self, interval: Interval, open_ms: int, now_ms: int) -> RawCandle | None:
        if open_ms > now_ms:
            return None
        next_ms = interval.next(open_ms)
        closed = next_ms <= now_ms
        start_s = open_ms // 1000
        value = self.aggregate(start_s, next_ms // 1000 if closed else now_ms // 1000)
        if value is None:
            first = max(start_s, self.history_start_s)
            if closed or first * 1000 >= next_ms or not self.present(first):
                return None
            opening = self.aggregate(first, first + 1)  # the forming second's open, as it will be
            assert opening is not None
            price = opening[0]
            value = (price, price, price, price, 0, 0, 0, 0, 0)
        return _row(value, open_ms, next_ms - 1, closed)

    def raw_at(self, interval: Interval, opens: Sequence[int], now_ms: int) -> list[RawCandle | None]:
        """:meth:`PairModel.raw_at` under the scenario.

        Closed candles inside one segment are the model's batch, transformed row by row; candles
        that straddle a boundary, touch an absent span or are still forming go one by one.
        """
        out: list[RawCandle | None] = [None] * len(opens)
        batches: dict[int, list[int]] = {}
        for j, open_ms in enumerate(opens):
            index = self._whole_segment(interval, open_ms, now_ms)
            if index is None:
                out[j] = self._raw_one(interval, open_ms, now_ms)
            else:
                batches.setdefault(index, []).append(j)
        for index, slots in batches.items():
            segment = self.segments[index]
            if segment.price is not None:
                p = segment.price
                for j in slots:
                    open_ms = opens[j]
                    out[j] = (open_ms, interval.next(open_ms) - 1, p, p, p, p, 0, 0, 0, 0, 0, True)
                continue
            rows = self.base.raw_at(interval, [opens[j] for j in slots], now_ms)
            for j, row in zip(slots, rows, strict=True):
                out[j] = None if row is None else self._scaled_row(index, row)
        return out

    def raw_columns(
        self, interval: Interval, opens: Sequence[int], now_ms: int
    ) -> tuple[list[tuple[Sequence[int], Any]], list[tuple[int, RawCandle | None]]]:
        """:meth:`PairModel.raw_columns` under the scenario: every candle one by one from
        :meth:`raw_at` (the base model's column blocks know nothing of the scenario)."""
        return [], list(enumerate(self.raw_at(interval, opens, now_ms)))

    def _whole_segment(self, interval: Interval, open_ms: int, now_ms: int) -> int | None:
        """The segment holding all of a closed, wholly present candle (else None)."""
        if open_ms % 1000:
            return None
        next_ms = interval.next(open_ms)
        a, b = open_ms // 1000, next_ms // 1000
        if next_ms > now_ms or a < self.history_start_s or self._present(a, b) != [(a, b)]:
            return None
        index = self._segment_at(a)
        return index if b <= self.segments[index].end else None

    def _scaled_row(self, index: int, row: RawCandle) -> RawCandle:
        if self.segments[index].identity:
            return row
        open_ms, close_ms, o, h, low, c, volume, quote, trades, buy, buy_q, closed = row
        node = (o, h, low, c, buy, volume - buy, buy_q, quote - buy_q, trades)
        value = self._scaled(index, open_ms // 1000, (close_ms + 1) // 1000, node)
        return _row(value, open_ms, close_ms, closed)


def _row(value: Node, open_ms: int, close_ms: int, closed: bool) -> RawCandle:
    o, h, low, c, buy, sell, buy_q, sell_q, trades = value
    return (open_ms, close_ms, o, h, low, c, buy + sell, buy_q + sell_q, trades, buy, buy_q, closed)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint union of ``[a, b)`` spans (empty ones dropped)."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
