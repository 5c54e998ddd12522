"""Figure 2: the market model's cost for one 1000-candle 1m page, in process, and its memory.

Cases, interleaved run by run:

* a page ending at a random point of the last five years on a fresh model (nothing cached: a cold
  history request), as :class:`Candle` objects (``candles``) and as integers (``raw_candles``, what
  an encoder can use), and the integers again with numpy switched off (``backend="python"``);
* the newest page on a warm model (what a client polling the latest klines costs), both forms;
* memory: RSS of this process while a model of one pair serves pages at random points of the last
  five years (intervals 1s/1m/5m/1h, random lengths); the figure is the growth from the first
  tenth of the pages to the end (the caches fill within the first tenth), which bounded caches
  keep near zero;
* numpy's import, paid once by the first page (start-up never imports it): a fresh interpreter's
  first page minus its second;
* the same random fresh page encoded as Binance spot REST rows by the row cache (model, encoding,
  caching and joining: what a cold history request costs before HTTP), from the model's integers
  (``Layout``) and, for comparison, from ``Candle`` objects through ``Decimal`` formatting.

No ceiling; the target is 1 ms per page of the model's own output (``raw_candles``: the integers
every REST row encoder reads) and the ratio is to the target. The ``Candle`` rows report the
convenience API on top (eight ``Decimal`` objects per candle), which REST pages are not built from
(only the cold rows of the few encoders that need ``Decimal``: Kraken OHLC, KuCoin and MEXC futures).
"""

from __future__ import annotations

import functools
import gc
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import Row, Settings, median
from mockfeed.market import Interval, MarketModel, pair_spec

NAME = "model"
PAIR = "BTC-USDT"
LIMIT = 1000
TARGET_US = 1000.0
TARGET_GROWTH_MB = 2.0
YEARS_MS = 5 * 365 * 86_400_000
WANDER_CODES = ("1s", "1m", "5m", "1h")
_FIRST_PAGES = """
import time
t0 = time.perf_counter()
from mockfeed.market import Interval, MarketModel, pair_spec
t1 = time.perf_counter()
m = MarketModel([pair_spec("BTC-USDT")], seed=1)
iv = Interval.parse("1m")
now = int(time.time() * 1000)
times = []
for back in (400, 800):
    s = time.perf_counter()
    m.raw_candles("BTC-USDT", iv, now_ms=now, limit=1000, end_ms=now - back * 86_400_000)
    times.append(time.perf_counter() - s)
print(t1 - t0, times[0], times[1], "numpy" in __import__("sys").modules)
"""


def _time_us(model: MarketModel, interval: Interval, now_ms: int, end_ms: int | None, raw: bool) -> float:
    started = time.perf_counter_ns()
    if raw:
        page: list[Any] = model.raw_candles(PAIR, interval, now_ms=now_ms, limit=LIMIT, end_ms=end_ms)
    else:
        page = model.candles(PAIR, interval, now_ms=now_ms, limit=LIMIT, end_ms=end_ms)
    elapsed = (time.perf_counter_ns() - started) / 1000
    if len(page) != LIMIT:
        raise RuntimeError(f"expected {LIMIT} candles, got {len(page)}")
    return elapsed


def random_fresh(samples: int, seed: int, raw: bool, backend: str = "auto") -> list[float]:
    """Microseconds per page ending at a random time of the last five years, fresh model each."""
    interval = Interval.parse("1m")
    spec = pair_spec(PAIR)
    rng = random.Random(seed)
    now_ms = int(time.time() * 1000)
    out = []
    for _ in range(samples):
        model = MarketModel([spec], seed=rng.randrange(1 << 30), backend=backend)  # type: ignore[arg-type]
        end_ms = now_ms - rng.randrange(YEARS_MS)
        out.append(_time_us(model, interval, now_ms, end_ms, raw))
    return out


def random_rows(samples: int, seed: int, decimal: bool) -> list[float]:
    """Microseconds per Binance spot page of :func:`random_fresh` through the row cache."""
    from mockfeed.exchanges.binance import BinanceSpot

    interval = Interval.parse("1m")
    spec = pair_spec(PAIR)
    rng = random.Random(seed)
    now_ms = int(time.time() * 1000)
    out = []
    for _ in range(samples):
        model = MarketModel([spec], seed=rng.randrange(1 << 30))
        plugin = BinanceSpot(model, [spec])
        encoder: Any = plugin.row_encoder(spec)
        if decimal:
            encoder = functools.partial(_decimal_row, plugin, spec)
        end_ms = now_ms - rng.randrange(YEARS_MS)
        opens = model.open_times(PAIR, interval, now_ms=now_ms, limit=LIMIT, end_ms=end_ms)
        started = time.perf_counter_ns()
        page = plugin.rows.page(PAIR, interval, opens, now_ms, encoder)
        out.append((time.perf_counter_ns() - started) / 1000)
        if page.count(b"],[") != LIMIT - 1:
            raise RuntimeError(f"expected {LIMIT} rows")
    return out


def _decimal_row(plugin: Any, spec: Any, candle: Any) -> bytes:
    import orjson

    row: bytes = orjson.dumps(plugin.kline_row(spec, candle))
    return row


def newest_warm(samples: int, raw: bool) -> tuple[list[float], float]:
    """Microseconds per newest page on a warm model; and the first (cold) call's time."""
    interval = Interval.parse("1m")
    model = MarketModel([pair_spec(PAIR)], seed=0)
    cold = _time_us(model, interval, int(time.time() * 1000), None, raw)
    out = [_time_us(model, interval, int(time.time() * 1000), None, raw) for _ in range(samples)]
    return out, cold


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wander(pages: int, checkpoints: int = 10) -> tuple[float, list[float], float]:
    """RSS (MB) before the first page and at ``checkpoints`` even points of ``pages`` random pages.

    Also the seconds taken.
    """
    model = MarketModel([pair_spec(PAIR)], seed=7)
    intervals = [Interval.parse(code) for code in WANDER_CODES]
    rng = random.Random(11)
    now_ms = int(time.time() * 1000)
    every = max(1, pages // checkpoints)
    gc.collect()
    before = _rss_mb()
    readings = []
    started = time.perf_counter()
    for index in range(1, pages + 1):
        model.raw_candles(
            PAIR, rng.choice(intervals), now_ms=now_ms, limit=rng.randrange(1, LIMIT + 1),
            end_ms=now_ms - rng.randrange(YEARS_MS),
        )
        if index % every == 0:
            gc.collect()
            readings.append(_rss_mb())
    return before, readings, time.perf_counter() - started


def first_pages() -> tuple[float, float, float, bool]:
    """In a fresh interpreter: (model import s, first page s, second page s, numpy imported)."""
    out = subprocess.run(
        [sys.executable, "-c", _FIRST_PAGES], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split()
    return float(out[0]), float(out[1]), float(out[2]), out[3] == "True"


def run(settings: Settings) -> list[Row]:
    """Interleaved runs of every case; rows of their medians."""
    cases = ("fresh", "fresh_raw", "fresh_python", "warm", "warm_raw", "rows", "rows_decimal")
    medians: dict[str, list[float]] = {case: [] for case in cases}
    colds: list[float] = []
    gc.collect()
    samples, newest = settings.model_random_samples, settings.model_newest_samples
    for index in range(settings.runs):
        medians["fresh"].append(median(random_fresh(samples, seed=index, raw=False)))
        medians["fresh_raw"].append(median(random_fresh(samples, seed=index, raw=True)))
        medians["fresh_python"].append(
            median(random_fresh(max(3, samples // 3), seed=index, raw=True, backend="python"))
        )
        warm, cold = newest_warm(newest, raw=False)
        medians["warm"].append(median(warm))
        colds.append(cold)
        medians["warm_raw"].append(median(newest_warm(newest, raw=True)[0]))
        medians["rows"].append(median(random_rows(samples, seed=index, decimal=False)))
        medians["rows_decimal"].append(median(random_rows(max(3, samples // 3), seed=index, decimal=True)))
        print(
            f"   run {index + 1} random page (fresh): candles {medians['fresh'][-1]:6.0f} us, raw "
            f"{medians['fresh_raw'][-1]:6.0f} us, raw without numpy {medians['fresh_python'][-1]:6.0f} us; "
            f"newest page (warm): candles {medians['warm'][-1]:6.0f} us, raw {medians['warm_raw'][-1]:6.0f} us; "
            f"Binance rows (fresh): raw {medians['rows'][-1]:6.0f} us, Decimal {medians['rows_decimal'][-1]:6.0f} us",
            flush=True,
        )
    pages = 10_000 if settings.long else 3_000
    before, readings, seconds = wander(pages)
    growth = readings[-1] - readings[0]
    print(
        f"   wandered {pages} pages in {seconds:.1f}s; RSS MB before {before:.1f}, at each tenth: "
        + " ".join(f"{r:.1f}" for r in readings),
        flush=True,
    )
    import_s, first_s, second_s, numpy_loaded = first_pages()
    print(
        f"   fresh interpreter: import mockfeed.market {import_s * 1000:.0f} ms, first page "
        f"{first_s * 1000:.0f} ms (numpy imported: {numpy_loaded}), second {second_s * 1000:.1f} ms",
        flush=True,
    )
    pair = {"pair": PAIR}
    fresh_extra = {"samples_per_run": samples, **pair}
    return [
        _row("model.page_random_fresh", "model 1m×1000 random page, fresh (Candle)", medians["fresh"],
             fresh_extra, target=None),
        _row("model.page_random_fresh_raw", "model 1m×1000 random page, fresh (raw)", medians["fresh_raw"],
             fresh_extra),
        _row("model.page_random_fresh_python", "model 1m×1000 random page, fresh (raw, no numpy)",
             medians["fresh_python"], {**fresh_extra, "backend": "python"}, target=None),
        _row("model.rows_random_fresh", "Binance rows 1m×1000 random page, fresh (raw → bytes)",
             medians["rows"], fresh_extra, target=None),
        _row("model.rows_random_fresh_decimal", "Binance rows 1m×1000 random page, fresh (Decimal)",
             medians["rows_decimal"], {**fresh_extra, "samples_per_run": max(3, samples // 3)}, target=None),
        _row("model.page_newest_warm", "model 1m×1000 newest page, warm (Candle)", medians["warm"],
             {"samples_per_run": newest, "first_call_us_runs": colds, **pair}, target=None),
        _row("model.page_newest_warm_raw", "model 1m×1000 newest page, warm (raw)", medians["warm_raw"],
             {"samples_per_run": newest, **pair}),
        Row(
            name="model.rss_growth", figure=f"model RSS growth over {pages:,} random pages",
            value=growth, unit="MB", better="lower", ceiling_note="none", target=TARGET_GROWTH_MB,
            target_op="<=", runs=[growth],
            extra={"rss_mb_before": before, "rss_mb_checkpoints": readings, "seconds": seconds,
                   "pair": PAIR, "intervals": list(WANDER_CODES)},
        ),
        Row(
            name="model.numpy_first_use", figure="model first page's extra (numpy import, once)",
            value=(first_s - second_s) * 1000, unit="ms", better="lower", ceiling_note="none",
            extra={"import_mockfeed_market_ms": import_s * 1000, "first_page_ms": first_s * 1000,
                   "second_page_ms": second_s * 1000, "numpy_imported_by_page": numpy_loaded},
        ),
    ]


def _row(
    name: str, figure: str, runs: list[float], extra: dict[str, object], target: float | None = TARGET_US
) -> Row:
    return Row(
        name=name, figure=figure, value=median(runs), unit="us", better="lower",
        ceiling_note="none", target=target, target_op="<=" if target is not None else "", runs=runs,
        extra=dict(extra),
    )
