"""The steps of :mod:`mockfeed.market.nodes` over many nodes at once, with numpy.

Imported lazily, on the first batch of nodes, so that start-up does not pay for numpy. Every step
mirrors its pure-Python reference operation for operation (the same IEEE-754 operations in the same
order, sequential sums through ``cumsum``), so both give identical integers; the tests hold them to
it. Callers hold numpy's floating-point warnings off (divisions by zero land in
branches that are discarded). Rows that need the reference's rare branch (moving whole lots in :func:`nodes.fit_quote`) are
handed to it one by one. The model sends here only pairs whose integers stay far below 2**63.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from mockfeed.market import draws, nodes
from mockfeed.market.nodes import EXTENSION, LEVELS, MIN_SCALE, QUOTE_SHADE, PathParams

Array = np.ndarray[Any, Any]

_U = np.uint64
_MIX1, _MIX2 = _U(draws.MIX1), _U(draws.MIX2)
_S16, _S27, _S30, _S31, _S32 = _U(16), _U(27), _U(30), _U(31), _U(32)
_PAIRS, _LOW32 = _U(0x0000FFFF0000FFFF), _U(0xFFFFFFFF)
_F = np.float64
_I = np.int64
_STEPS: dict[int, Array] = {}
_TINY = 1e-300


def _words(keys: Sequence[int], count: int) -> Array:
    """Words 1..count of each key's stream: a (keys, count) uint64 array."""
    steps = _STEPS.get(count)
    if steps is None:
        steps = _STEPS[count] = np.arange(1, count + 1, dtype=np.uint64) * _U(draws.GOLDEN)
    z = np.asarray(keys, dtype=np.uint64)[:, None] + steps
    z ^= z >> _S30
    z *= _MIX1
    z ^= z >> _S27
    z *= _MIX2
    z ^= z >> _S31
    return z


def _draws(keys: Sequence[int], n: int, extra: int) -> tuple[Array, Array]:
    """:func:`nodes.node_draws` for each key: (keys, n) normals and (4, keys, n+extra) uniforms."""
    z = _words(keys, 2 * n + extra)
    bridge_words = z[:, :n]
    pairs = (bridge_words & _PAIRS) + ((bridge_words >> _S16) & _PAIRS)  # lanes 0+1 and 2+3
    total = ((pairs & _LOW32) + (pairs >> _S32)).astype(_I)
    normals = (total - draws.NORMAL_CENTRE).astype(_F) * draws.NORMAL_SCALE
    lanes = z[:, n:].view(np.uint16).reshape(len(keys), n + extra, 4)
    if sys.byteorder != "little":  # pragma: no cover
        lanes = lanes[:, :, ::-1]
    return normals, lanes.transpose(2, 0, 1).astype(_F, order="C") * draws.LANE_SCALE


def bridge(o: Array, c: Array, n: int, step: float, z: Array, fit: tuple[Array, Array] | None) -> Array:
    """:func:`nodes.bridge` for each row: a (rows, n+1) array of tick prices."""
    of, cf = o.astype(_F)[:, None], c.astype(_F)[:, None]
    ref = (of + cf) * 0.5
    walk = np.cumsum(step * z, axis=1)
    frac = np.arange(1, n) / n
    chords = of + (cf - of) * frac
    devs = ref * (walk[:, : n - 1] - frac * walk[:, n - 1 :])
    if fit is None:
        inner = np.maximum(np.rint(chords + devs), 1.0)
    else:
        hf, lf = fit[0].astype(_F)[:, None], fit[1].astype(_F)[:, None]
        limits = (np.where(devs > 0.0, hf, lf) - chords) / devs
        limits[devs == 0.0] = np.inf
        shrink = np.maximum(np.minimum(limits.min(axis=1), 1.0), 0.0)[:, None]
        inner = np.clip(np.rint(chords + devs * shrink), lf, hf)
    return np.concatenate((o[:, None], inner.astype(_I), c[:, None]), axis=1)


def day_heads(p: PathParams, keys: Sequence[int], o: Array, c: Array) -> tuple[Array, Array, Array]:
    """:func:`nodes.day_head` for each day: ((days, 9) values, (days, 25) points, uniforms)."""
    n = LEVELS[0][1]
    z, u = _draws(keys, n, 1)
    points = bridge(o, c, n, p.steps[0], z, None)
    top, bottom = points.max(axis=1), points.min(axis=1)
    head = u[:, :, n]
    ext = p.steps[0] * 0.8
    h = top + np.rint(head[0] * top.astype(_F) * ext).astype(_I)
    low = np.maximum(1, bottom - np.rint(head[1] * bottom.astype(_F) * ext).astype(_I))
    move = np.abs(c - o).astype(_F) / ((o + c).astype(_F) * 0.5) / p.day_sigma
    factor = (0.7 + 0.5 * np.minimum(move, 4.0)) * (0.6 + 0.8 * head[2])
    mid = (h + low) // 2
    price = mid.astype(_F) * p.tick
    volume = np.rint(p.daily_quote * factor / price / p.lot).astype(_I)
    direction = np.sign(c - o).astype(_F)
    share = 0.45 + 0.1 * head[3] + 0.05 * direction
    buy = np.rint(volume.astype(_F) * share).astype(_I)
    sell = volume - buy
    trades = np.rint(volume.astype(_F) * p.lot * price / p.mean_trade).astype(_I)
    trades = np.where(volume > 0, np.maximum(trades, 1), 0)
    values = np.stack((o, h, low, c, buy, sell, buy * mid, sell * mid, trades), axis=1)
    return values, points, u[:, :, :n]


def children(p: PathParams, level: int, values: Array, points: Array, u: Array) -> Array:
    """:func:`nodes.children` for each row: a (rows, 9n) array of columns."""
    rows = np.arange(len(values))
    h, low = values[:, 1:2], values[:, 2:3]
    scale = np.maximum((h + low).astype(_F) * (0.5 * p.steps[level]), MIN_SCALE)
    opens, closes = points[:, :-1], points[:, 1:]
    tops, bottoms = np.maximum(opens, closes), np.minimum(opens, closes)
    top, bottom = tops.argmax(axis=1), bottoms.argmin(axis=1)
    reach = np.rint(u[:2] * (scale * EXTENSION)).astype(_I)
    highs = np.minimum(h, tops + reach[0])
    lows = np.maximum(low, bottoms - reach[1])
    highs[rows, top] = h[:, 0]
    lows[rows, bottom] = low[:, 0]
    weight = (0.5 + (highs - lows).astype(_F) / scale) * (0.4 + 1.2 * u[2])
    buy_w = weight * (0.4 + 0.2 * u[3] + 0.1 * np.sign(closes - opens).astype(_F))
    mids = (highs + lows).astype(_F)  # twice the mid prices, against twice the targets
    # Buy and sell sides go through the same steps stacked: rows [0, k) buy, [k, 2k) sell
    # (stacking measured faster than broadcasting a (2, k, n) array).
    volume = np.concatenate((values[:, 4], values[:, 5]))
    quote = np.concatenate((values[:, 6], values[:, 7]))
    weights = balance(
        np.concatenate((buy_w, weight - buy_w)), np.concatenate((mids, mids)),
        quote.astype(_F) / volume.astype(_F) * 2.0,
    )
    vols, quotes = fit_quote(
        quote, split(volume, weights), np.concatenate((lows, lows)), np.concatenate((highs, highs)),
        np.concatenate((top, top)), np.concatenate((bottom, bottom)),
    )
    k = len(values)
    buys, sells = vols[:k], vols[k:]
    counts = split(values[:, 8], (buys + sells).astype(_F))
    return np.concatenate((opens, highs, lows, closes, buys, sells, quotes[:k], quotes[k:], counts), axis=1)


def balance(w: Array, mids: Array, target: Array) -> Array:
    """:func:`nodes.balance` for each row (``target`` NaN where there is no volume: unchanged)."""
    d = mids - target[:, None]
    above = np.maximum(d, 0.0)
    up = np.cumsum(w * above, axis=1)[:, -1:]
    down = np.cumsum(w * (above - d), axis=1)[:, -1:]
    raise_low = np.where((up > down) & (down > 0.0), up / down, 1.0)
    raise_high = np.where((down > up) & (up > 0.0), down / up, 1.0)
    return w * np.where(d < 0.0, raise_low, raise_high)


def split(total: Array, w: Array) -> Array:
    """:func:`nodes.split` for each row."""
    cumulative = np.cumsum(w, axis=1)
    whole = np.maximum(cumulative[:, -1:], _TINY)  # all-zero weights: every mark at 0
    marks = np.floor(total.astype(_F)[:, None] * (cumulative[:, :-1] / whole)).astype(_I)
    np.minimum(marks, total[:, None], out=marks)
    bounds = np.concatenate((np.zeros((len(total), 1), dtype=_I), marks, total[:, None]), axis=1)
    shares: Array = bounds[:, 1:] - bounds[:, :-1]
    return shares


def fit_quote(
    total: Array, volumes: Array, lows: Array, highs: Array, top: Array, bottom: Array
) -> tuple[Array, Array]:
    """:func:`nodes.fit_quote` for each row; rows beyond the common case go to the reference."""
    rows = np.arange(len(total))
    lv, hv = lows * volumes, highs * volumes
    floor, ceiling = lv.sum(axis=1), hv.sum(axis=1)
    rest, whole = total - floor, ceiling - floor
    ratio = np.where(whole > 0, rest.astype(_F) / whole.astype(_F) * QUOTE_SHADE, 0.0)
    rooms = hv - lv
    shares = np.minimum(rooms, np.floor(rooms.astype(_F) * ratio[:, None]).astype(_I))
    quotes = lv + shares
    left = rest - shares.sum(axis=1)
    spare = rooms - shares
    roomiest = spare.argmax(axis=1)
    quotes[rows, roomiest] += left
    odd = np.flatnonzero((total > ceiling) | (total < floor) | (spare[rows, roomiest] < left))
    if len(odd):
        volumes = volumes.copy()
        for r in odd.tolist():
            v, q = nodes.fit_quote(
                int(total[r]), volumes[r].tolist(), lows[r].tolist(), highs[r].tolist(),
                int(top[r]), int(bottom[r]),
            )
            volumes[r] = v
            quotes[r] = q
    return volumes, quotes


def expand(p: PathParams, level: int, keys: Sequence[int], values: Array) -> Array:
    """:func:`nodes.expand` for each node (hours or minutes): (nodes, 9n) columns."""
    n = LEVELS[level][1]
    with np.errstate(divide="ignore", invalid="ignore"):
        z, u = _draws(keys, n, 0)
        points = bridge(values[:, 0], values[:, 3], n, p.steps[level], z, (values[:, 1], values[:, 2]))
        return children(p, level, values, points, u)


def expand_days(p: PathParams, keys: Sequence[int], o: Array, c: Array) -> tuple[Array, Array]:
    """:func:`nodes.expand_day` for each day: ((days, 9) values, (days, 9×24) columns)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        values, points, u = day_heads(p, keys, o, c)
        return values, children(p, 0, values, points, u)


def heads(p: PathParams, keys: Sequence[int], o: Array, c: Array) -> Array:
    """Only the days' values (what intervals of a day and longer need)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return day_heads(p, keys, o, c)[0]
