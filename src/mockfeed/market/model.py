"""The deterministic, random-access market model.

Every candle is a pure function of ``(seed, pair, time)``. The path is built coarse to fine:

* Day-boundary prices come from a dyadic Brownian construction around an anchor date (2025-01-01),
  so the price at any day costs O(log N) counter-based draws (:mod:`mockfeed.market.daypath`).
* A node (a day, an hour, a minute) expands into its children (24 hours, 60 minutes, 60 seconds)
  with a Brownian bridge squeezed into its range; volumes, quote volumes and trades are split
  exactly in integers (:mod:`mockfeed.market.nodes`, and :mod:`mockfeed.market.nodes_np` for many
  nodes at once).

So every interval is the exact aggregate of 1-second candles: a candle's high is the max of its
children's, its volume their sum, and so on, at every level. Intervals that are not nodes (3m, 4h,
1w, 1M...) are aggregates of the nodes that tile them.

Prices are integers of ticks, base volumes integers of lots, quote volumes integers of tick×lot, so
sums are exact; decimals are made only at the edge (:class:`Candle`). :meth:`PairModel.raw_at` and
:meth:`MarketModel.raw_candles` hand out those integers directly (:data:`RawCandle`), for encoders
that format numbers themselves.

Caches are bounded per pair (see :class:`PairModel`); whatever is evicted is recomputed identically.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Sequence
from decimal import Decimal
from itertools import pairwise, repeat
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from mockfeed.market import daypath, draws, nodes
from mockfeed.market.candle import Candle
from mockfeed.market.daypath import DayPath, OutOfRange
from mockfeed.market.interval import Interval
from mockfeed.market.nodes import FIELDS, LEVELS, SECOND_LEVEL, Node, column_node, combine
from mockfeed.market.pairs import PairSpec

if TYPE_CHECKING:
    from mockfeed.market.scenario import Bound

__all__ = [
    "ANCHOR_MS",
    "DEFAULT_HISTORY_START_MS",
    "Backend",
    "MarketModel",
    "Node",
    "OutOfRange",
    "PairModel",
    "RawCandle",
]

#: A candle as integers, in :class:`Candle` field order: (open_time, close_time, open, high, low,
#: close, volume, quote_volume, trades, taker_buy_volume, taker_buy_quote_volume, closed); prices
#: in ticks, base volumes in lots, quote volumes in tick×lot (multiply by the pair's
#: ``tick_size``, ``lot_size`` and ``tick_size * lot_size``).
RawCandle: TypeAlias = tuple[int, int, int, int, int, int, int, int, int, int, int, bool]
#: "auto": numpy for batches of nodes when it is installed; "numpy": always; "python": never.
Backend: TypeAlias = Literal["auto", "numpy", "python"]

ANCHOR_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z: where each pair's start price holds
DEFAULT_HISTORY_START_MS = 1_483_228_800_000  # 2017-01-01T00:00:00Z: first candle served

_DAY = 86_400
_ANCHOR_DAY = ANCHOR_MS // 1000 // _DAY
_SIZES = (86_400, 3_600, 60, 1)  # seconds per node, per level
#: "auto" hands numpy batches of at least this many children (below, its per-call cost loses)...
NUMPY_MIN_CHILDREN = 40
#: ... or of at least this many day values.
NUMPY_MIN_DAYS = 8
#: A lone missing hour or minute is expanded with up to this many following siblings: one numpy
#: batch costs about two single expansions, and requests walk forward in time.
PREFETCH = 16
#: Pages of at least this many candles are assembled from whole series of nodes.
_SERIES_MIN_CANDLES = 4
#: Bound on integers a pair's nodes may reach for numpy's int64 (quote volumes are the largest).
_INT64_SAFE = 1 << 61
_DAY_VALUE_FACTOR = 4  # days remembered per expanded node in the cache

_numpy_nodes: ModuleType | None = None
_numpy_tried = False


def _accelerator() -> ModuleType | None:
    """:mod:`mockfeed.market.nodes_np` (importing numpy on first use), or None without numpy."""
    global _numpy_nodes, _numpy_tried
    if not _numpy_tried:
        _numpy_tried = True
        try:
            from mockfeed.market import nodes_np
        except ImportError:  # without numpy the model computes the same candles in pure Python
            nodes_np = None  # type: ignore[assignment]
        _numpy_nodes = nodes_np
    return _numpy_nodes


class PairModel:
    """The synthetic market of one pair under one seed.

    Memory is bounded: at most ``cache_size`` expanded nodes (an hour's 60 minutes or a minute's 60
    seconds take 4.4 KB, a day's 24 hours 1.8 KB), ``4 × cache_size`` day values (about 0.5 KB
    each) and 8,192 day-path points (about 0.1 KB each). With the default 1,024 that is at most
    about 7.5 MB per pair, whatever is asked.
    """

    def __init__(
        self,
        spec: PairSpec,
        seed: int,
        history_start_ms: int,
        cache_size: int,
        backend: Backend = "auto",
    ) -> None:
        self.spec = spec
        self.seed = seed
        self.history_start_s = history_start_ms // 1000 // _DAY * _DAY
        self._tick = spec.tick_size
        self._lot = spec.lot_size
        self._quote_unit = spec.tick_size * spec.lot_size
        self._params = nodes.PathParams(spec)
        self._key = draws.pair_key(seed, spec.name)
        log_anchor = daypath.log(float(spec.start_price / spec.tick_size))
        self._path = DayPath(self._key, log_anchor, self._params.day_sigma)
        self._cache_size = max(1, cache_size)
        self._blocks: OrderedDict[tuple[int, int], Sequence[int]] = OrderedDict()
        self._days: dict[int, Node] = {}
        self._day_limit = _DAY_VALUE_FACTOR * self._cache_size
        # A day's quote volume in tick×lot units, with room for the busiest day's factor (< 3.8)
        # and for high × volume (< 3 × quote).
        biggest = 8.0 * spec.daily_quote_volume / float(self._quote_unit)
        self._int64_safe = biggest < _INT64_SAFE
        if backend == "numpy" and (not self._int64_safe or _accelerator() is None):
            raise ValueError(f"numpy backend unavailable for {spec.name}")
        self._backend = backend if self._int64_safe else "python"

    def cache_info(self) -> dict[str, int]:
        """How full each cache is, beside its bound (``*_max``)."""
        return {
            "expansions": len(self._blocks),
            "expansions_max": self._cache_size,
            "days": len(self._days),
            "days_max": self._day_limit,
            "path_points": self._path.size,
            "path_points_max": self._path.limit + 2,
        }

    # -- backends -------------------------------------------------------------------------------
    def _numpy_for(self, count: int, minimum: int) -> ModuleType | None:
        """The numpy twin if a batch of ``count`` (children or days) should use it."""
        if self._backend == "python" or (self._backend == "auto" and count < minimum):
            return None
        return _accelerator()

    # -- nodes ----------------------------------------------------------------------------------
    def node(self, level: int, index: int) -> Node:
        """The value of node ``index`` (counted from the epoch) at ``level`` (0 day ... 3 second)."""
        if level == 0:
            value = self._days.get(index)
            return value if value is not None else self._day_values(index, index + 1)[0]
        n = LEVELS[level - 1][1]
        parent, position = divmod(index, n)
        return column_node(self._expansions(level - 1, parent, parent + 1, True)[0], n, position)

    def _nodes(self, level: int, i0: int, i1: int) -> list[Node]:
        """Values of the nodes ``[i0, i1)`` at ``level``."""
        if level == 0:
            return self._day_values(i0, i1)
        n = LEVELS[level - 1][1]
        p0 = i0 // n
        blocks = self._expansions(level - 1, p0, (i1 - 1) // n + 1, True)
        return [column_node(blocks[i // n - p0], n, i % n) for i in range(i0, i1)]

    def _day_values(self, d0: int, d1: int) -> list[Node]:
        """Values of days ``[d0, d1)``, computing the missing ones in one batch."""
        found = [self._days.get(d) for d in range(d0, d1)]
        missing = [d0 + i for i, v in enumerate(found) if v is None]
        if missing:
            for day, value in zip(missing, self._compute_heads(missing), strict=True):
                found[day - d0] = value
                self._remember_day(day, value)
        return found  # type: ignore[return-value]

    def _remember_day(self, day: int, value: Node) -> None:
        if len(self._days) >= self._day_limit:
            del self._days[next(iter(self._days))]
        self._days[day] = value

    def _prices(self, days: Sequence[int]) -> tuple[list[int], list[int]]:
        """Each (ascending) day's open and close price (ticks)."""
        first, last = days[0] - _ANCHOR_DAY, days[-1] + 1 - _ANCHOR_DAY
        if last - first < 4 * len(days):
            span = self._path.prices(first, last)
            return [span[d - _ANCHOR_DAY - first] for d in days], [span[d + 1 - _ANCHOR_DAY - first] for d in days]
        price = self._path.price  # a few days far apart
        return [price(d - _ANCHOR_DAY) for d in days], [price(d + 1 - _ANCHOR_DAY) for d in days]

    def _compute_heads(self, days: list[int]) -> list[Node]:
        opens, closes = self._prices(days)
        keys = [draws.node_key(self._key, 0, d) for d in days]
        fast = self._numpy_for(len(days), NUMPY_MIN_DAYS)
        if fast is not None:
            np = fast.np
            values = fast.heads(self._params, keys, np.array(opens), np.array(closes))
            return [tuple(row) for row in values.tolist()]
        return [
            nodes.day_head(self._params, k, o, c)[0] for k, o, c in zip(keys, opens, closes, strict=True)
        ]

    def _expansions(self, level: int, p0: int, p1: int, prefetch: bool = False) -> list[Sequence[int]]:
        """The children (as :data:`nodes.Columns`) of nodes ``[p0, p1)`` at ``level``.

        With ``prefetch``, a lone missing hour or minute comes with its next siblings.
        """
        blocks = self._blocks
        found: list[Sequence[int] | None] = []
        for p in range(p0, p1):
            block = blocks.get((level, p))
            if block is not None:
                blocks.move_to_end((level, p))
            found.append(block)
        missing = [p0 + i for i, b in enumerate(found) if b is None]
        if missing:
            wanted = len(missing)
            if prefetch and wanted == 1 and level > 0:
                missing.extend(self._siblings_after(level, missing[0]))
            computed = self._compute_expansions(level, missing)
            for p, block in zip(missing[:wanted], computed, strict=False):
                found[p - p0] = block
            for p, block in zip(missing, computed, strict=True):
                blocks[(level, p)] = block
                if len(blocks) > self._cache_size:
                    blocks.popitem(last=False)
        return found  # type: ignore[return-value]

    def _siblings_after(self, level: int, index: int) -> list[int]:
        """Up to :data:`PREFETCH` - 1 uncached nodes after ``index`` with the same parent."""
        n = LEVELS[level - 1][1]
        stop = min((index // n + 1) * n, index + PREFETCH)
        return [q for q in range(index + 1, stop) if (level, q) not in self._blocks]

    def _compute_expansions(self, level: int, indices: list[int]) -> list[Sequence[int]]:
        keys = [draws.node_key(self._key, level, i) for i in indices]
        fast = self._numpy_for(len(indices) * LEVELS[level][1], NUMPY_MIN_CHILDREN)
        if level == 0:
            opens, closes = self._prices(indices)
            if fast is not None:
                np = fast.np
                values, columns = fast.expand_days(self._params, keys, np.array(opens), np.array(closes))
                for day, row in zip(indices, values.tolist(), strict=True):
                    self._remember_day(day, tuple(row))
                return _pack_rows(columns)
            out: list[Sequence[int]] = []
            for day, k, o, c in zip(indices, keys, opens, closes, strict=True):
                value, cols = nodes.expand_day(self._params, k, o, c)
                self._remember_day(day, value)
                out.append(_pack(cols))
            return out
        n = LEVELS[level - 1][1]
        p0 = indices[0] // n
        parents = self._expansions(level - 1, p0, indices[-1] // n + 1)  # the nodes' own values
        if fast is not None:
            np = fast.np
            joined = _join_np(np, parents, n)
            values = joined[:, np.array(indices) - p0 * n].T.copy()
            return _pack_rows(fast.expand(self._params, level, keys, values))
        return [
            _pack(nodes.expand(self._params, level, k, column_node(parents[i // n - p0], n, i % n)))
            for k, i in zip(keys, indices, strict=True)
        ]

    # -- ranges ---------------------------------------------------------------------------------
    def aggregate(self, start_s: int, end_s: int) -> Node | None:
        """The aggregate of the 1-second candles in ``[start_s, end_s)``, or None if empty."""
        start_s = max(start_s, self.history_start_s)
        if start_s >= end_s:
            return None
        parts: list[Node] = []
        for level, i0, i1 in _tiles(start_s, end_s):
            parts.extend(self._nodes(level, i0, i1))
        return combine(parts)

    def to_candle(self, value: Node, open_ms: int, close_ms: int, closed: bool) -> Candle:
        """Turn a node value into a :class:`Candle` of decimals."""
        o, h, low, c, buy, sell, buy_q, sell_q, trades = value
        tick, lot, unit = self._tick, self._lot, self._quote_unit
        return Candle(
            open_ms, close_ms, o * tick, h * tick, low * tick, c * tick, (buy + sell) * lot,
            (buy_q + sell_q) * unit, trades, buy * lot, buy_q * unit, closed,
        )

    def candle_from_raw(self, raw: RawCandle) -> Candle:
        """The :class:`Candle` of a :data:`RawCandle`."""
        tick, lot, unit = self._tick, self._lot, self._quote_unit
        return Candle(
            raw[0], raw[1], raw[2] * tick, raw[3] * tick, raw[4] * tick, raw[5] * tick, raw[6] * lot,
            raw[7] * unit, raw[8], raw[9] * lot, raw[10] * unit, raw[11],
        )

    def first_open_ms(self, interval: Interval) -> int:
        """Open time of the first candle of ``interval`` (the one containing the history start)."""
        return interval.floor(self.history_start_s * 1000)

    def existing_opens(
        self, interval: Interval, opens: Sequence[int], limit: int, forward: bool, last_ms: int
    ) -> Sequence[int]:
        """``opens`` without candles that cannot exist, refilled up to ``limit`` (forward from the
        first, or back from the last, up to ``last_ms``): every candle exists here; a scenario's
        gaps remove some (:mod:`mockfeed.market.scenario_pair`)."""
        return opens

    def candle_at(self, interval: Interval, open_ms: int, now_ms: int) -> Candle | None:
        """The candle of ``interval`` opening at ``open_ms`` as it stands at ``now_ms``.

        None if it opens after ``now_ms`` or ends before the history start. A candle still open at
        ``now_ms`` is the aggregate of its completed seconds, with ``closed`` False; with none
        completed yet it is flat at its open price.
        """
        raw = self._raw_one(interval, open_ms, now_ms)
        return None if raw is None else self.candle_from_raw(raw)

    def _raw_one(self, interval: Interval, open_ms: int, now_ms: int) -> RawCandle | None:
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
            price = self.node(SECOND_LEVEL, first)[0]
            value = (price, price, price, price, 0, 0, 0, 0, 0)
        return _raw(value, open_ms, next_ms - 1, closed)

    def raw_at(self, interval: Interval, opens: Sequence[int], now_ms: int) -> list[RawCandle | None]:
        """:meth:`candle_at` for each of ``opens`` (ascending), as integers: the fast path for pages.

        Closed candles are aggregated from whole series of nodes computed in batches; the forming
        candle and odd alignments go one by one.
        """
        tiling = _tiling(interval)
        if tiling is None or len(opens) < _SERIES_MIN_CANDLES:
            return [self._raw_one(interval, open_ms, now_ms) for open_ms in opens]
        level, size = tiling
        out: list[RawCandle | None] = [None] * len(opens)
        runs, singles = self._plan(interval, opens, now_ms, size)
        for j in singles:
            out[j] = self._raw_one(interval, opens[j], now_ms)
        for run in runs:
            rows = self._run_rows(level, run)
            if isinstance(run.slots, range):
                out[run.slots.start : run.slots.stop] = rows
            else:
                for j, row in zip(run.slots, rows, strict=True):
                    out[j] = row
        return out

    def _plan(
        self, interval: Interval, opens: Sequence[int], now_ms: int, size: int
    ) -> tuple[list[_Run], Sequence[int]]:
        """Runs of closed candles to aggregate from series of nodes, and the rest, one by one."""
        size_ms = size * 1000
        first, count, step = opens[0], len(opens), interval.seconds * 1000
        history_ms = self.history_start_s * 1000
        if step and not first % size_ms and _regular(opens, step):
            closed = min(count, max(0, (now_ms - first) // step))
            j0 = min(closed, max(0, (history_ms - first) // step))  # earlier ones end before history
            singles = range(closed, count)
            if j0 >= closed:
                return [], singles
            start = max(first + j0 * step, history_ms) // size_ms
            every = step // size_ms
            second = (first + (j0 + 1) * step) // size_ms - start
            groups = [0, *range(second, second + (closed - j0 - 1) * every, every)]
            run = _Run(
                start, (first + closed * step) // size_ms, groups, range(j0, closed),
                # lists: zip makes tuples from them faster than from ranges
                list(range(first + j0 * step, first + closed * step, step)),
                list(range(first + (j0 + 1) * step - 1, first + (closed + 1) * step - 1, step)),
            )
            return [run], singles
        runs: list[_Run] = []
        others: list[int] = []
        for j, open_ms in enumerate(opens):
            if open_ms > now_ms:
                continue
            next_ms = interval.next(open_ms)
            if next_ms > now_ms or open_ms % size_ms:
                others.append(j)
                continue
            start_s, end_s = max(open_ms // 1000, history_ms // 1000), next_ms // 1000
            if end_s <= start_s:
                continue  # ends before the history start
            a, b = start_s // size, end_s // size
            if not runs or runs[-1].stop != a:
                runs.append(_Run(a, a, [], [], [], []))
            runs[-1].add(j, a, b, open_ms, next_ms - 1)
        return runs, others

    def raw_columns(
        self, interval: Interval, opens: Sequence[int], now_ms: int
    ) -> tuple[list[tuple[Sequence[int], Any]], list[tuple[int, RawCandle | None]]]:
        """:meth:`raw_at` as column blocks, for encoders that work a column at a time.

        Returns ``(blocks, singles)``. Each block is ``(slots, columns)`` for a run of closed
        candles at positions ``slots`` of ``opens``: ``columns`` holds the eleven integer fields of
        :data:`RawCandle` (all but ``closed``, True for all of them) as an (11, n) int64 numpy
        array, or as eleven lists when the batch was computed in pure Python. The other opens come
        one by one as ``(slot, RawCandle or None)``. Values are those of :meth:`raw_at`.
        """
        tiling = _tiling(interval)
        if tiling is None or len(opens) < _SERIES_MIN_CANDLES:
            return [], [(j, self._raw_one(interval, t, now_ms)) for j, t in enumerate(opens)]
        level, size = tiling
        runs, singles = self._plan(interval, opens, now_ms, size)
        blocks: list[tuple[Sequence[int], Any]] = []
        for run in runs:
            values = self._run_values(level, run)
            if isinstance(values, list):
                blocks.append((run.slots, [run.open_ms, run.close_ms, *values]))
            else:
                np = _numpy_module()
                times = np.array((run.open_ms, run.close_ms), dtype=np.int64)
                blocks.append((run.slots, np.concatenate((times, values))))
        return blocks, [(j, self._raw_one(interval, opens[j], now_ms)) for j in singles]

    def _run_rows(self, level: int, run: _Run) -> list[RawCandle]:
        values = self._run_values(level, run)
        columns = values if isinstance(values, list) else values.tolist()
        return list(zip(run.open_ms, run.close_ms, *columns, repeat(True)))

    def _run_values(self, level: int, run: _Run) -> Any:
        """The nine value columns of a run (RawCandle fields 2-10): an int64 array or lists."""
        fast = _accelerator() if self._backend != "python" else None
        if fast is not None:
            np = fast.np
            series = self._series_np(np, level, run.start, run.stop)
            g = series if len(run.groups) == series.shape[1] else _group_np(np, series, run.groups)
            return np.stack((g[0], g[1], g[2], g[3], g[4] + g[5], g[6] + g[7], g[8], g[4], g[6]))
        series_py = self._series_py(level, run.start, run.stop)
        o, h, low, c, buy, sell, buy_q, sell_q, trades = (
            series_py if len(run.groups) == len(series_py[0]) else _group_py(series_py, run.groups)
        )
        return [
            o, h, low, c, [b + s for b, s in zip(buy, sell, strict=True)],
            [b + s for b, s in zip(buy_q, sell_q, strict=True)], trades, buy, buy_q,
        ]

    def _series_np(self, np: ModuleType, level: int, i0: int, i1: int) -> Any:
        """Nodes ``[i0, i1)`` at ``level`` as a (9, count) int64 array."""
        if level == 0:
            return np.array(self._day_values(i0, i1), dtype=np.int64).T
        n = LEVELS[level - 1][1]
        p0 = i0 // n
        joined = _join_np(np, self._expansions(level - 1, p0, (i1 - 1) // n + 1), n)
        return joined[:, i0 - p0 * n : i1 - p0 * n]

    def _series_py(self, level: int, i0: int, i1: int) -> list[list[int]]:
        """Nodes ``[i0, i1)`` at ``level`` as nine columns."""
        if level == 0:
            return [list(column) for column in zip(*self._day_values(i0, i1), strict=True)]
        n = LEVELS[level - 1][1]
        p0 = i0 // n
        blocks = self._expansions(level - 1, p0, (i1 - 1) // n + 1)
        columns: list[list[int]] = [[] for _ in range(FIELDS)]
        for k, block in enumerate(blocks):
            a = max(i0 - (p0 + k) * n, 0)
            b = min(i1 - (p0 + k) * n, n)
            for f in range(FIELDS):
                columns[f].extend(block[f * n + a : f * n + b])
        return columns

    def candles_at(self, interval: Interval, opens: Sequence[int], now_ms: int) -> list[Candle | None]:
        """:meth:`candle_at` for each of ``opens`` (ascending), computed as one batch."""
        tick, lot, unit = self._tick, self._lot, self._quote_unit
        return [
            None if r is None else Candle(
                r[0], r[1], r[2] * tick, r[3] * tick, r[4] * tick, r[5] * tick, r[6] * lot,
                r[7] * unit, r[8], r[9] * lot, r[10] * unit, r[11],
            )
            for r in self.raw_at(interval, opens, now_ms)
        ]


class _Run:
    """Consecutive closed candles tiled by the contiguous nodes ``[start, stop)`` of one level."""

    __slots__ = ("close_ms", "groups", "open_ms", "slots", "start", "stop")

    def __init__(
        self,
        start: int,
        stop: int,
        groups: list[int],
        slots: range | list[int],
        open_ms: list[int],
        close_ms: list[int],
    ) -> None:
        self.start = start
        self.stop = stop
        self.groups = groups  # each candle's first node, relative to start
        self.slots = slots  # each candle's position in the request (a range: consecutive)
        self.open_ms = open_ms
        self.close_ms = close_ms

    def add(self, slot: int, first: int, stop: int, open_ms: int, close_ms: int) -> None:
        """Append the candle in position ``slot`` covering nodes ``[first, stop)``."""
        assert isinstance(self.slots, list)
        self.groups.append(first - self.start)
        self.slots.append(slot)
        self.open_ms.append(open_ms)
        self.close_ms.append(close_ms)
        self.stop = stop


def _regular(opens: Sequence[int], step: int) -> bool:
    """Whether ``opens`` are evenly spaced by ``step``, from the first."""
    if isinstance(opens, range):
        return opens.step == step
    first = opens[0]
    return list(opens) == list(range(first, first + len(opens) * step, step))


def _group_np(np: ModuleType, series: Any, groups: list[int]) -> Any:
    """Each group's aggregate of consecutive nodes: a (9, groups) array."""
    starts = np.array(groups)
    ends = np.append(starts[1:], series.shape[1]) - 1
    return np.concatenate(
        (
            series[0:1, starts],
            np.maximum.reduceat(series[1:2], starts, axis=1),
            np.minimum.reduceat(series[2:3], starts, axis=1),
            series[3:4, ends],
            np.add.reduceat(series[4:], starts, axis=1),
        )
    )


def _group_py(series: list[list[int]], groups: list[int]) -> list[list[int]]:
    """:func:`_group_np` without numpy."""
    spans = list(pairwise([*groups, len(series[0])]))
    o, h, low, c = series[:4]
    return [
        [o[a] for a, _ in spans],
        [max(h[a:b]) for a, b in spans],
        [min(low[a:b]) for a, b in spans],
        [c[b - 1] for _, b in spans],
        *([sum(column[a:b]) for a, b in spans] for column in series[4:]),
    ]


def _raw(value: Node, open_ms: int, close_ms: int, closed: bool) -> RawCandle:
    o, h, low, c, buy, sell, buy_q, sell_q, trades = value
    return (open_ms, close_ms, o, h, low, c, buy + sell, buy_q + sell_q, trades, buy, buy_q, closed)


def _pack(columns: list[int]) -> Sequence[int]:
    """Children columns in 8 bytes per integer (a list only if some integer exceeds int64)."""
    try:
        return array("q", columns)
    except OverflowError:
        return columns


def _pack_rows(columns: Any) -> list[Sequence[int]]:
    """Each row of a (nodes, 9n) int64 array as its own block (a copy: no view pins the batch)."""
    data = memoryview(columns).cast("B")
    size = columns.shape[1] * 8
    blocks: list[Sequence[int]] = []
    for k in range(columns.shape[0]):
        block = array("q")
        block.frombytes(data[k * size : (k + 1) * size])
        blocks.append(block)
    return blocks


def _numpy_module() -> ModuleType:
    fast = _accelerator()
    assert fast is not None
    np: ModuleType = fast.np
    return np


def _join_np(np: ModuleType, blocks: Sequence[Sequence[int]], n: int) -> Any:
    """Consecutive nodes' children, side by side: a (9, n × nodes) int64 array."""
    parts = [np.frombuffer(b, dtype=np.int64).reshape(FIELDS, n) for b in blocks]
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def _tiling(interval: Interval) -> tuple[int, int] | None:
    """(level, node seconds) of the coarsest nodes whose boundaries include all of ``interval``'s."""
    offset_s, rest = divmod(interval.offset_ms, 1000)
    if rest:
        return None
    length = interval.seconds or _DAY  # calendar months start at midnight (plus the offset)
    for level, size in enumerate(_SIZES):
        if length % size == 0 and offset_s % size == 0:
            return level, size
    return None  # pragma: no cover - the 1-second level divides every whole-second interval


def _tiles(start_s: int, end_s: int) -> list[tuple[int, int, int]]:
    """``[start_s, end_s)`` as runs (level, first, stop) of the largest aligned nodes, in order."""
    head: list[tuple[int, int, int]] = []
    tail: list[tuple[int, int, int]] = []
    t, e = start_s, end_s
    for level in (3, 2, 1):  # climb: seconds up to a minute boundary, and so on
        size, up = _SIZES[level], _SIZES[level - 1]
        stop = min(-(-t // up) * up, e // size * size)
        if stop > t:
            head.append((level, t // size, stop // size))
            t = stop
    for level in (3, 2, 1):  # the same from the end
        size, up = _SIZES[level], _SIZES[level - 1]
        start = max(e // up * up, -(-t // size) * size)
        if e > start >= t:
            tail.append((level, start // size, e // size))
            e = start
    if e > t:
        head.append((0, t // _DAY, e // _DAY))
    return [*head, *reversed(tail)]


class MarketModel:
    """Deterministic candles for a set of pairs under one seed.

    All times are epoch milliseconds. ``now_ms`` is passed in by the caller (the clock lives in the
    runtime), so the model stays a pure function of its arguments. ``cache_size`` bounds each
    pair's cache of expanded nodes (see :class:`PairModel` for the memory it implies);
    ``backend`` chooses how batches of nodes are computed (the candles are identical either way).
    ``scenario`` scripts market events (:mod:`mockfeed.market.scenario`) into the pairs it touches.
    """

    def __init__(
        self,
        pairs: Sequence[PairSpec],
        seed: int = 0,
        history_start_ms: int = DEFAULT_HISTORY_START_MS,
        cache_size: int = 1024,
        backend: Backend = "auto",
        scenario: Bound | None = None,
    ) -> None:
        self.seed = seed
        self.history_start_ms = history_start_ms
        self._cache_size = cache_size
        self._backend: Backend = backend
        #: The plain model of each pair (scenario models compute from it, and share its caches).
        self._plain = {p.name: PairModel(p, seed, history_start_ms, cache_size, backend) for p in pairs}
        self.pairs: dict[str, PairModel] = self._with(scenario)
        #: Counts scenario changes: whatever was computed from the candles of an older generation
        #: (encoded rows, pages) is stale.
        self.generation = 0

    def _with(self, scenario: Bound | None) -> dict[str, PairModel]:
        out: dict[str, PairModel] = {}
        for name, plain in self._plain.items():
            touched = scenario and scenario.pair_model(
                plain.spec, self.seed, self.history_start_ms, self._cache_size, self._backend, plain
            )
            out[name] = touched or plain
        return out

    def set_scenario(self, scenario: Bound | None) -> None:
        """Serve ``scenario`` (None: the plain market) from now on, for every pair at once.

        History is rewritten: candles already served may differ when asked again. Raises
        :class:`~mockfeed.market.scenario.ScenarioError` (changing nothing) if it does not fit.
        """
        self.pairs = self._with(scenario)
        self.generation += 1

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
        opens = self.open_times(pair, interval, now_ms=now_ms, limit=limit, start_ms=start_ms, end_ms=end_ms)
        return [c for c in self.pairs[pair].candles_at(interval, opens, now_ms) if c is not None]

    def raw_candles(
        self,
        pair: str,
        interval: Interval,
        *,
        now_ms: int,
        limit: int,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[RawCandle]:
        """:meth:`candles` as integers (:data:`RawCandle`), without building decimals."""
        opens = self.open_times(pair, interval, now_ms=now_ms, limit=limit, start_ms=start_ms, end_ms=end_ms)
        return [r for r in self.pairs[pair].raw_at(interval, opens, now_ms) if r is not None]

    def open_times(
        self,
        pair: str,
        interval: Interval,
        *,
        now_ms: int,
        limit: int,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> Sequence[int]:
        """The open times :meth:`candles` would return, without computing any candle: an ascending
        sequence that may be a ``range`` (nothing materialised)."""
        opens = self._grid_open_times(pair, interval, now_ms, limit, start_ms, end_ms)
        last = min(now_ms, end_ms) if end_ms is not None else now_ms
        return self.pairs[pair].existing_opens(interval, opens, limit, start_ms is not None, last)

    def _grid_open_times(
        self,
        pair: str,
        interval: Interval,
        now_ms: int,
        limit: int,
        start_ms: int | None,
        end_ms: int | None,
    ) -> Sequence[int]:
        model = self.pairs[pair]
        last = min(now_ms, end_ms) if end_ms is not None else now_ms
        first_open = model.first_open_ms(interval)
        if start_ms is not None and start_ms > last:
            return []
        if interval.seconds and not interval.offset_ms and interval.seconds % (7 * 86400):
            step = interval.seconds * 1000  # epoch-aligned fixed intervals: plain arithmetic
            if start_ms is not None:
                first = max(-(-start_ms // step) * step, first_open)
                return range(first, min(last + 1, first + limit * step), step)
            newest = last // step * step
            return range(max(first_open, newest - (limit - 1) * step), newest + 1, step)
        opens: list[int] = []
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
