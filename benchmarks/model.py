"""Figure 2: the market model's cost for one 1000-candle 1m page, in process.

Two cases: a page ending at a random point of the last five years on a fresh model (nothing
cached: the cost of a cold history request), and the newest page on a warm model (what a client
polling the latest klines costs). No ceiling; the target is 1 ms and the ratio is to the target.
"""

from __future__ import annotations

import gc
import random
import time

from benchmarks.common import Row, Settings, median
from mockfeed.market import Interval, MarketModel, pair_spec

NAME = "model"
PAIR = "BTC-USDT"
LIMIT = 1000
TARGET_US = 1000.0
YEARS_MS = 5 * 365 * 86_400_000


def _time_us(model: MarketModel, interval: Interval, now_ms: int, end_ms: int | None) -> float:
    started = time.perf_counter_ns()
    candles = model.candles(PAIR, interval, now_ms=now_ms, limit=LIMIT, end_ms=end_ms)
    elapsed = (time.perf_counter_ns() - started) / 1000
    if len(candles) != LIMIT:
        raise RuntimeError(f"expected {LIMIT} candles, got {len(candles)}")
    return elapsed


def random_fresh(samples: int, seed: int) -> list[float]:
    """Microseconds per page ending at a random time of the last five years, fresh model each."""
    interval = Interval.parse("1m")
    spec = pair_spec(PAIR)
    rng = random.Random(seed)
    now_ms = int(time.time() * 1000)
    out = []
    for _ in range(samples):
        model = MarketModel([spec], seed=rng.randrange(1 << 30))
        end_ms = now_ms - rng.randrange(YEARS_MS)
        out.append(_time_us(model, interval, now_ms, end_ms))
    return out


def newest_warm(samples: int) -> tuple[list[float], float]:
    """Microseconds per newest page on a warm model; and the first (cold) call's time."""
    interval = Interval.parse("1m")
    model = MarketModel([pair_spec(PAIR)], seed=0)
    cold = _time_us(model, interval, int(time.time() * 1000), None)
    out = [_time_us(model, interval, int(time.time() * 1000), None) for _ in range(samples)]
    return out, cold


def run(settings: Settings) -> list[Row]:
    """Interleaved runs of both cases; rows of their medians."""
    fresh_runs: list[float] = []
    warm_runs: list[float] = []
    colds: list[float] = []
    gc.collect()
    for index in range(settings.runs):
        fresh = random_fresh(settings.model_random_samples, seed=index)
        warm, cold = newest_warm(settings.model_newest_samples)
        fresh_runs.append(median(fresh))
        warm_runs.append(median(warm))
        colds.append(cold)
        print(
            f"   run {index + 1} random page (fresh) {fresh_runs[-1]:8.0f} us   "
            f"newest page (warm) {warm_runs[-1]:8.0f} us   newest page (cold) {cold:8.0f} us",
            flush=True,
        )
    return [
        _row(
            "model.page_random_fresh", "model 1m×1000 random page, fresh", fresh_runs,
            {"samples_per_run": settings.model_random_samples, "pair": PAIR},
        ),
        _row(
            "model.page_newest_warm", "model 1m×1000 newest page, warm", warm_runs,
            {
                "samples_per_run": settings.model_newest_samples, "pair": PAIR,
                "first_call_us_runs": colds,
            },
        ),
    ]


def _row(name: str, figure: str, runs: list[float], extra: dict[str, object]) -> Row:
    return Row(
        name=name, figure=figure, value=median(runs), unit="us", better="lower",
        ceiling_note="none", target=TARGET_US, target_op="<=", runs=runs, extra=dict(extra),
    )
