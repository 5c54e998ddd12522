"""How a node of the price tree is built and split into its children: the pure-Python reference.

A day's value comes from its open and close (the day path) and its own draws; a node (day, hour,
minute) splits into children (24 hours, 60 minutes, 60 seconds) along an arithmetic Brownian bridge
from its open to its close, shrunk toward its chord until it fits the node's range. The child
holding the highest point takes the node's high exactly and the one holding the lowest its low;
base volume, quote volume and trades are split exactly in integers, so every node is the exact
aggregate of its children.

Each child's average price (quote / base volume) lies within its own range: the volume weights of
the children on one side of the node's average price are raised until the children's mid prices
average to it (:func:`balance`), then :func:`fit_quote` places each child's quote volume in
``[low×volume, high×volume]``, at the same fraction of every child's range.

A node's draws (:mod:`mockfeed.market.draws`) are words 1..n of its stream for the bridge's steps,
words n+1..2n for its children (uniforms: high, low, weight, buy share) and, for a day, word 2n+1
for the day itself. Only IEEE-754 ``+ - × ÷``, comparisons and integer arithmetic are used, each in a
fixed order, so :mod:`mockfeed.market.nodes_np` (the same steps over many nodes at once with numpy)
gives identical integers, and so does any machine.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import TypeAlias

from mockfeed.market import draws
from mockfeed.market.pairs import PairSpec

#: Node values: (open, high, low, close, taker-buy base, taker-sell base, taker-buy quote,
#: taker-sell quote, trades), prices in ticks, base in lots, quote in tick×lot.
Node: TypeAlias = tuple[int, int, int, int, int, int, int, int, int]
#: A node's children, column by column: the ``n`` opens, then the ``n`` highs, and so on.
Columns: TypeAlias = list[int]
Uniforms: TypeAlias = tuple[float, float, float, float]

FIELDS = 9
#: (seconds per node, children per node) for day, hour, minute; seconds have no children.
LEVELS = ((86_400, 24), (3_600, 60), (60, 60), (1, 0))
SECOND_LEVEL = 3
SECONDS_PER_YEAR = 365 * 86_400
#: Quote shares are computed slightly low so that their floors never exceed the total.
QUOTE_SHADE = 1.0 - 2.0**-40
MIN_SCALE = 1e-9  # keeps a zero-volatility pair from dividing by zero
EXTENSION = 0.64  # a child's high/low reach beyond its body: up to 0.64 σ (0.32 σ on average)


class PathParams:
    """A pair's constants for building nodes, as plain floats."""

    __slots__ = ("daily_quote", "day_sigma", "lot", "mean_trade", "steps", "tick")

    def __init__(self, spec: PairSpec) -> None:
        sigma_s = spec.volatility / math.sqrt(SECONDS_PER_YEAR)
        self.tick = float(spec.tick_size)
        self.lot = float(spec.lot_size)
        self.daily_quote = float(spec.daily_quote_volume)
        self.mean_trade = float(spec.mean_trade_quote)
        self.day_sigma = sigma_s * math.sqrt(86_400)
        #: Relative standard deviation of one child's move, per level.
        self.steps = tuple(sigma_s * math.sqrt(size // n) for size, n in LEVELS[:SECOND_LEVEL])


def node_draws(key: int, n: int, extra: int) -> tuple[list[float], list[Uniforms]]:
    """A node's ``n`` bridge normals and ``n + extra`` words of uniforms."""
    stream = draws.words(key, 2 * n + extra)
    return [draws.normal_of(w) for w in stream[:n]], [draws.uniforms_of(w) for w in stream[n:]]


# -- one node -------------------------------------------------------------------------------------


def day_head(p: PathParams, key: int, o: int, c: int) -> tuple[Node, list[int], list[Uniforms]]:
    """A day's value from its open and close; with its hour points and children's uniforms."""
    n = LEVELS[0][1]
    z, u = node_draws(key, n, 1)
    points = bridge(o, c, n, p.steps[0], z, None)
    top, bottom = max(points), min(points)
    u_high, u_low, u_volume, u_share = u[n]
    ext = p.steps[0] * 0.8
    h = top + round(u_high * float(top) * ext)
    low = max(1, bottom - round(u_low * float(bottom) * ext))
    move = float(abs(c - o)) / (float(o + c) * 0.5) / p.day_sigma
    factor = (0.7 + 0.5 * min(move, 4.0)) * (0.6 + 0.8 * u_volume)
    mid = (h + low) // 2  # the day trades on average at its range's midpoint
    price = float(mid) * p.tick
    volume = round(p.daily_quote * factor / price / p.lot)
    direction = 1.0 if c > o else -1.0 if c < o else 0.0
    share = 0.45 + 0.1 * u_share + 0.05 * direction
    buy = round(float(volume) * share)
    sell = volume - buy
    trades = round(float(volume) * p.lot * price / p.mean_trade)
    trades = max(trades, 1) if volume else 0
    return (o, h, low, c, buy, sell, buy * mid, sell * mid, trades), points, u[:n]


def bridge(o: int, c: int, n: int, step: float, z: Sequence[float], fit: tuple[int, int] | None) -> list[int]:
    """n+1 tick prices from o to c: an arithmetic Brownian bridge scaled by the mean price.

    With ``fit`` = (high, low), the bridge's deviations from its chord are shrunk by one factor
    until every point lies in [low, high].
    """
    of, cf = float(o), float(c)
    ref = (of + cf) * 0.5
    walk = []
    acc = 0.0
    for i in range(n):
        acc += step * z[i]
        walk.append(acc)
    end = walk[n - 1]
    chords, devs = [], []
    for i in range(1, n):
        frac = i / n
        chords.append(of + (cf - of) * frac)
        devs.append(ref * (walk[i - 1] - frac * end))
    if fit is None:
        inner = [max(1, round(ch + d)) for ch, d in zip(chords, devs, strict=True)]
        return [o, *inner, c]
    high, low = fit
    hf, lf = float(high), float(low)
    shrink = 1.0
    for ch, d in zip(chords, devs, strict=True):
        if d != 0.0:
            shrink = min(shrink, ((hf if d > 0.0 else lf) - ch) / d)
    shrink = max(shrink, 0.0)
    inner = [min(high, max(low, round(ch + d * shrink))) for ch, d in zip(chords, devs, strict=True)]
    return [o, *inner, c]


def children(p: PathParams, level: int, value: Node, points: list[int], u: Sequence[Uniforms]) -> Columns:
    """The children of a node at ``level`` whose bridge ``points`` lie in its range."""
    n = LEVELS[level][1]
    _, h, low, _, buy, sell, buy_q, sell_q, trades = value
    scale = max(float(h + low) * (0.5 * p.steps[level]), MIN_SCALE)
    ext = scale * EXTENSION
    opens, closes = points[:-1], points[1:]
    tops = [max(a, b) for a, b in zip(opens, closes, strict=True)]
    bottoms = [min(a, b) for a, b in zip(opens, closes, strict=True)]
    top, bottom = tops.index(max(tops)), bottoms.index(min(bottoms))
    highs = [min(h, t + round(d[0] * ext)) for t, d in zip(tops, u, strict=True)]
    lows = [max(low, b - round(d[1] * ext)) for b, d in zip(bottoms, u, strict=True)]
    highs[top] = h
    lows[bottom] = low
    buy_w: list[float] = []
    sell_w: list[float] = []
    mids: list[float] = []  # twice the mid prices, against twice the targets
    for i in range(n):
        weight = (0.5 + float(highs[i] - lows[i]) / scale) * (0.4 + 1.2 * u[i][2])
        direction = 1.0 if closes[i] > opens[i] else -1.0 if closes[i] < opens[i] else 0.0
        bw = weight * (0.4 + 0.2 * u[i][3] + 0.1 * direction)
        buy_w.append(bw)
        sell_w.append(weight - bw)
        mids.append(float(highs[i] + lows[i]))
    if buy:
        buy_w = balance(buy_w, mids, float(buy_q) / float(buy) * 2.0)
    if sell:
        sell_w = balance(sell_w, mids, float(sell_q) / float(sell) * 2.0)
    buys, buy_qs = fit_quote(buy_q, split(buy, buy_w), lows, highs, top, bottom)
    sells, sell_qs = fit_quote(sell_q, split(sell, sell_w), lows, highs, top, bottom)
    counts = split(trades, [float(b + s) for b, s in zip(buys, sells, strict=True)])
    return [*opens, *highs, *lows, *closes, *buys, *sells, *buy_qs, *sell_qs, *counts]


def expand(p: PathParams, level: int, key: int, value: Node) -> Columns:
    """The children of an hour or a minute."""
    n = LEVELS[level][1]
    o, h, low, c = value[:4]
    z, u = node_draws(key, n, 0)
    points = bridge(o, c, n, p.steps[level], z, (h, low))
    return children(p, level, value, points, u)


def expand_day(p: PathParams, key: int, o: int, c: int) -> tuple[Node, Columns]:
    """A day's value and its 24 hours."""
    value, points, u = day_head(p, key, o, c)
    return value, children(p, 0, value, points, u)


def column_node(columns: Sequence[int], n: int, position: int) -> Node:
    """Child ``position`` of a node whose ``n`` children are stored as :data:`Columns`."""
    b = columns
    i = position
    return (
        b[i], b[n + i], b[2 * n + i], b[3 * n + i], b[4 * n + i],
        b[5 * n + i], b[6 * n + i], b[7 * n + i], b[8 * n + i],
    )


# -- exact splits ---------------------------------------------------------------------------------


def balance(weights: list[float], mids: list[float], target: float) -> list[float]:
    """Weights whose weighted mean of ``mids`` is ``target``, raising one side only.

    If the children below ``target`` lack weight, their weights are multiplied by one factor; else
    the others' are. Unchanged if all mids are on one side.
    """
    up = down = 0.0
    for w, m in zip(weights, mids, strict=True):
        d = m - target
        above = max(d, 0.0)
        up += w * above
        down += w * (above - d)
    raise_low = up / down if up > down and down > 0.0 else 1.0
    raise_high = down / up if down > up and up > 0.0 else 1.0
    return [w * (raise_low if m - target < 0.0 else raise_high) for w, m in zip(weights, mids, strict=True)]


def split(total: int, weights: Sequence[float]) -> list[int]:
    """Split a non-negative integer exactly, in proportion to non-negative weights."""
    n = len(weights)
    cumulative = []
    acc = 0.0
    for w in weights:
        acc += w
        cumulative.append(acc)
    whole = cumulative[-1]
    if not whole > 0.0:
        return [0] * (n - 1) + [total]
    ft = float(total)
    out = []
    previous = 0
    for i in range(n - 1):
        mark = min(total, math.floor(ft * (cumulative[i] / whole)))
        out.append(mark - previous)
        previous = mark
    out.append(total - previous)
    return out


def fit_quote(
    total: int, volumes: list[int], lows: list[int], highs: list[int], top: int, bottom: int
) -> tuple[list[int], list[int]]:
    """Split a quote volume so that each child's average price lies within its own range.

    Returns (volumes, quotes) with ``sum(quotes) == total`` and ``low*v <= q <= high*v`` per child.
    When the parent's average price is beyond what the children's ranges can hold, whole lots move
    into the child holding the parent's high (or low); should that not do (a few lots only), they
    all go to one child whose range holds the average price. Each child
    then gets its floor ``low*v`` plus the same fraction of its room ``(high-low)*v``, rounded down;
    what rounding left over goes to the child with the most spare room.
    """
    volumes = list(volumes)
    n = len(volumes)
    floor = sum(map(operator.mul, lows, volumes))
    ceiling = sum(map(operator.mul, highs, volumes))
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
    if not floor <= total <= ceiling:
        # A few lots that no move above can place: all of them go to a child whose range holds the
        # average price. One exists: consecutive children share a price, so their ranges cover the
        # parent's, which holds its own average price.
        whole_volume = sum(volumes)
        holder = next((j for j in range(n) if lows[j] * whole_volume <= total <= highs[j] * whole_volume), None)
        if holder is None:  # an inconsistent parent; keep the sums exact regardless
            return volumes, split(total, [float(v) for v in volumes])
        volumes = [0] * n
        volumes[holder] = whole_volume
        floor, ceiling = lows[holder] * whole_volume, highs[holder] * whole_volume
    rest, whole = total - floor, ceiling - floor
    ratio = float(rest) / float(whole) * QUOTE_SHADE if whole > 0 else 0.0
    rooms = [(hi - lo) * v for lo, hi, v in zip(lows, highs, volumes, strict=True)]
    shares = [min(room, math.floor(float(room) * ratio)) for room in rooms]
    quotes = [lo * v + share for lo, v, share in zip(lows, volumes, shares, strict=True)]
    left = rest - sum(shares)
    spares = [room - share for room, share in zip(rooms, shares, strict=True)]
    roomiest = spares.index(max(spares))
    if spares[roomiest] >= left:
        quotes[roomiest] += left
        return volumes, quotes
    before = 0  # not reached in practice: the leftover is tiny beside any child's room
    for i in range(n):
        quotes[i] += min(spares[i], max(0, left - before))
        before += spares[i]
    return volumes, quotes


def combine(parts: Sequence[Node]) -> Node:
    """The aggregate of consecutive nodes."""
    o, h, low, c, buy, sell, buy_q, sell_q, trades = parts[0]
    for part in parts[1:]:
        if part[1] > h:
            h = part[1]
        if part[2] < low:
            low = part[2]
        c = part[3]
        buy += part[4]
        sell += part[5]
        buy_q += part[6]
        sell_q += part[7]
        trades += part[8]
    return (o, h, low, c, buy, sell, buy_q, sell_q, trades)
