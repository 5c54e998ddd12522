"""Counter-based random draws: SplitMix64 streams keyed by (seed, pair, level, node).

A node's draws are a pure function of its key and their position in its stream, so any node can be
drawn alone, in any order, in any process. Everything here is integer arithmetic plus exact
conversions to float, so the numpy twin in :mod:`mockfeed.market.nodes_np` produces the same bits,
on any machine.

Each 64-bit word of a stream is read as four 16-bit lanes (lowest first). A *normal* is the
Irwin-Hall sum of a word's four lanes, centred and scaled (bounded at ±3.46σ: close enough to a
normal for a synthetic market once summed along a path, and exactly reproducible without
``log``/``cos``, whose vectorised implementations differ between CPUs). A word also gives four
*uniforms* in [0, 1), one per lane.
"""

from __future__ import annotations

import hashlib
import math

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15  # SplitMix64's increment: word k of stream ``key`` mixes key + k*GOLDEN
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
LANE = 0xFFFF
LANE_SCALE = 2.0**-16  # a lane as a uniform in [0, 1)
NORMAL_CENTRE = 2 * LANE  # mean of the sum of four lanes
NORMAL_SCALE = math.sqrt(3.0) / 65536.0  # 1 / its standard deviation (to 1 part in 2**32)
#: Level number of the day path's points in :func:`node_key` (the tree uses 0..3).
PATH_LEVEL = 7


def mix(x: int) -> int:
    """SplitMix64's finaliser: a bijective scramble of a 64-bit integer."""
    z = x & MASK
    z = ((z ^ (z >> 30)) * MIX1) & MASK
    z = ((z ^ (z >> 27)) * MIX2) & MASK
    return z ^ (z >> 31)


def pair_key(seed: int, name: str) -> int:
    """The 64-bit key of one pair's market under one seed."""
    digest = hashlib.blake2b(f"{seed}|{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def node_key(pair: int, level: int, index: int) -> int:
    """The key of node ``index`` at ``level`` (negative indices are fine)."""
    return pair ^ mix((level << 58) + (index & ((1 << 58) - 1)))  # words mix it again


def word(key: int, k: int) -> int:
    """Word ``k`` (from 1) of stream ``key``."""
    return mix(key + k * GOLDEN)


def words(key: int, count: int) -> list[int]:
    """Words 1..count of stream ``key`` (:func:`word` for each, without the calls)."""
    out = []
    z = key & MASK
    for _ in range(count):
        z = (z + GOLDEN) & MASK
        x = ((z ^ (z >> 30)) * MIX1) & MASK
        x = ((x ^ (x >> 27)) * MIX2) & MASK
        out.append(x ^ (x >> 31))
    return out


def normal_of(w: int) -> float:
    """The normal a word gives."""
    total = (w & LANE) + ((w >> 16) & LANE) + ((w >> 32) & LANE) + (w >> 48)
    return float(total - NORMAL_CENTRE) * NORMAL_SCALE


def uniforms_of(w: int) -> tuple[float, float, float, float]:
    """The four uniforms a word gives, lowest lane first."""
    return (
        float(w & LANE) * LANE_SCALE,
        float((w >> 16) & LANE) * LANE_SCALE,
        float((w >> 32) & LANE) * LANE_SCALE,
        float(w >> 48) * LANE_SCALE,
    )


def normal(key: int) -> float:
    """The normal of word 1 of stream ``key``."""
    return normal_of(word(key, 1))
