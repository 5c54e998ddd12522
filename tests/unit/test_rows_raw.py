"""Rows encoded from the model's integers (:class:`Layout`) are the bytes of the Decimal encoders.

Every exchange whose REST rows go through :class:`RowCache` is checked on random pairs (odd ticks
and lots included), intervals, time zones and times, with numpy batches and in pure Python; then
the cache's own behaviour: whole pages, newest first, the clock set back, bounds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockfeed.exchanges.binance import BinancePerpetual, BinanceSpot
from mockfeed.exchanges.gate_io import candles as gate
from mockfeed.exchanges.mexc import wire as mexc
from mockfeed.exchanges.okx import OkxPerpetual, OkxSpot
from mockfeed.exchanges.rows import Field, Kind, Layout, RowCache, fixed, flag, integer, json_array, plain
from mockfeed.market import Candle, Interval, MarketModel, PairSpec, pair_spec
from tests.support.pairs import odd_pairs

NOW = 1_767_225_617_123  # 2026-01-01T00:00:17.123Z
YEARS_MS = 8 * 365 * 86_400_000
MINUTE = 60_000

#: (raw encoder, Decimal encoder) of one product for one pair.
Encoders = tuple[Any, Callable[[Candle], bytes]]


def _binance(cls: type[BinanceSpot] | type[BinancePerpetual]) -> Callable[[MarketModel, PairSpec], Encoders]:
    def make(model: MarketModel, pair: PairSpec) -> Encoders:
        plugin = cls(model, [pair])
        return plugin.row_encoder(pair), lambda c: orjson.dumps(plugin.kline_row(pair, c))

    return make


def _okx(cls: type[OkxSpot] | type[OkxPerpetual]) -> Callable[[MarketModel, PairSpec], Encoders]:
    def make(model: MarketModel, pair: PairSpec) -> Encoders:
        plugin = cls(model, [pair])
        return plugin.row_layout(pair), lambda c: orjson.dumps(plugin.candle_row(pair, c))

    return make


PRODUCTS: dict[str, Callable[[MarketModel, PairSpec], Encoders]] = {
    "binance_spot": _binance(BinanceSpot),
    "binance_perpetual": _binance(BinancePerpetual),
    "okx_spot": _okx(OkxSpot),
    "okx_perpetual": _okx(OkxPerpetual),
    "gate_io_spot": lambda m, p: (gate.spot_layout(p), lambda c: orjson.dumps(gate.spot_row(p, c))),
    "gate_io_perpetual": lambda m, p: (
        gate.futures_layout(p), lambda c: _dumps(gate.futures_row(p, c))
    ),
    "mexc_spot": lambda m, p: (mexc.spot_layout(p), lambda c: orjson.dumps(mexc.spot_row(c))),
}

def _dumps(row: dict[str, object]) -> bytes:
    """orjson's bytes, or the same compact JSON for contract counts beyond 64 bits (extreme pairs)."""
    try:
        return orjson.dumps(row)
    except TypeError:
        return json.dumps(row, separators=(",", ":")).encode()


CODES = ("1s", "1m", "3m", "5m", "15m", "1h", "2h", "4h", "12h", "1d", "3d", "1w", "1M")
ZONES = (0, 8 * 3_600_000, -3_600_000, 20_700_000)  # UTC, +08:00, -01:00, +05:45

pairs = odd_pairs()


def decimal_rows(model: MarketModel, pair: str, interval: Interval, opens: list[int], now: int,
                 encode: Callable[[Candle], bytes]) -> list[bytes]:
    """The rows as the plugins encoded them before: Candle objects through Decimal formatting."""
    candles = model.pair(pair).candles_at(interval, opens, now)
    return [encode(c) for c in candles if c is not None]


@pytest.mark.parametrize("product", PRODUCTS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=pairs,
    seed=st.integers(0, 2**31),
    code=st.sampled_from(CODES),
    zone=st.sampled_from(ZONES),
    back=st.integers(0, YEARS_MS),
    limit=st.integers(1, 120),
    backend=st.sampled_from(["auto", "python"]),
)
def test_raw_rows_equal_decimal_rows(
    product: str, spec: PairSpec, seed: int, code: str, zone: int, back: int, limit: int, backend: str
) -> None:
    model = MarketModel([spec], seed=seed, backend=backend)  # type: ignore[arg-type]
    raw, encode = PRODUCTS[product](model, spec)
    interval = Interval.parse(code).in_zone(zone)
    limit = limit if interval.seconds and interval.seconds < 86_400 else limit // 10 + 1  # fast
    now = NOW - back // 7  # the forming candle is anywhere, and so are the pages
    opens = model.open_times(spec.name, interval, now_ms=now, limit=limit, end_ms=now - back)
    want = decimal_rows(model, spec.name, interval, opens, now, encode)
    assert RowCache(model).rows(spec.name, interval, opens, now, raw) == want
    assert RowCache(model).page(spec.name, interval, opens, now, raw) == json_array(want)


@pytest.mark.parametrize("name", ["BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "DOGE-USDT", "FOO-USDT"])
def test_latest_1000_rows_of_every_default_pair(name: str) -> None:
    """A whole newest page (999 closed rows in one numpy batch, the forming one alone)."""
    spec = pair_spec(name)
    model = MarketModel([spec], seed=3)
    interval = Interval.parse("1m")
    opens = model.open_times(name, interval, now_ms=NOW, limit=1000)
    for product, make in PRODUCTS.items():
        raw, encode = make(model, spec)
        got = RowCache(model).rows(name, interval, opens, NOW, raw)
        assert got == decimal_rows(model, name, interval, opens, NOW, encode), product


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.integers(0, 2**63 - 1), min_size=1, max_size=40),
    step=st.sampled_from([Decimal(x) for x in ("1", "0.01", "0.05", "0.00000001", "10", "2.5")]),
)
def test_numpy_and_python_paths_agree_on_any_int64(values: list[int], step: Decimal) -> None:
    """Zeros, one-digit and 19-digit values, and products that overflow int64 (Python takes over)."""
    np = pytest.importorskip("numpy")
    layout = Layout(
        "[", integer(0), ',"', fixed(2, step, 8), '","', plain(3, step), '",', integer(1, 1000, 1),
        ',"', plain(7, step * step), '",', flag("false", "true"), "]",
    )
    columns = [list(values) for _ in range(11)]
    columns[3].reverse()
    python = layout.columns(columns)
    assert layout.columns(np.array(columns, dtype=np.int64)) == python
    assert python == [layout.row((*row, True)) for row in zip(*columns, strict=True)]


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        (fixed(2, Decimal("0.01"), 8), 5_000_001, "50000.01000000"),
        (fixed(2, Decimal("0.01"), 8), 0, "0.00000000"),
        (fixed(2, Decimal("0.05"), 2), 3, "0.15"),
        (fixed(2, Decimal("10"), 0), 7, "70"),
        (plain(2, Decimal("0.01")), 5_000_000, "50000"),
        (plain(2, Decimal("0.01")), 5_000_010, "50000.1"),
        (plain(2, Decimal("0.001")), 0, "0"),
        (plain(2, Decimal("0.001")), 7, "0.007"),
        (plain(2, Decimal("100")), 3, "300"),
        (integer(0, 1000), 1_700_000_000_999, "1700000000"),
        (integer(1, offset=1), 1_700_000_059_999, "1700000060000"),
        (flag("0", "1"), True, "1"),
    ],
)
def test_field_texts(field: Field, value: int, text: str) -> None:
    assert field.text(value) == text
    if field.kind is not Kind.FLAG:
        step = field.scale * Decimal(10) ** -field.places
        assert Decimal(text) == value * step or field.kind is Kind.INT


def test_fixed_refuses_to_round() -> None:
    """Binance spot's 8 places cannot hold a 1e-9 tick: the plugin keeps Decimal for that pair."""
    with pytest.raises(ValueError, match="places"):
        fixed(2, Decimal("0.000000001"), 8)
    spec = PairSpec("TINY", "USDT", Decimal("0.001"), 0.9, Decimal("0.000000001"), Decimal("1"), 1e6)
    raw, _ = PRODUCTS["binance_spot"](MarketModel([spec]), spec)
    assert not isinstance(raw, Layout)


# -- the cache ------------------------------------------------------------------------------------

BTC = pair_spec("BTC-USDT")
M1 = Interval.parse("1m")


def okx_cache() -> tuple[MarketModel, RowCache, Layout]:
    model = MarketModel([BTC], seed=1)
    plugin = OkxSpot(model, [BTC])
    return model, plugin.rows, plugin.row_layout(BTC)


@pytest.mark.parametrize("newest_first", [False, True])
def test_page_is_the_rows_as_a_json_array_every_time(newest_first: bool) -> None:
    model, cache, layout = okx_cache()
    opens = model.open_times(BTC.name, M1, now_ms=NOW, limit=300)
    rows = RowCache(model).rows(BTC.name, M1, opens, NOW, layout)
    want = json_array(rows[::-1] if newest_first else rows)
    first = cache.page(BTC.name, M1, opens, NOW, layout, newest_first=newest_first)
    again = cache.page(BTC.name, M1, opens, NOW, layout, newest_first=newest_first)
    assert first == again == want
    later = NOW + 20_000  # same minute: only the forming row moves
    moved = orjson.loads(cache.page(BTC.name, M1, opens, later, layout, newest_first=newest_first))
    fresh = RowCache(model).rows(BTC.name, M1, opens, later, layout)
    assert moved == orjson.loads(json_array(fresh[::-1] if newest_first else fresh))


def test_clock_set_back_forms_the_candle_again() -> None:
    """A row cached as closed is not served for the same candle while it is forming again."""
    model, cache, layout = okx_cache()
    later = NOW + 5 * MINUTE
    cache.page(BTC.name, M1, model.open_times(BTC.name, M1, now_ms=later, limit=10), later, layout)
    opens = model.open_times(BTC.name, M1, now_ms=NOW, limit=10)
    page = orjson.loads(cache.page(BTC.name, M1, opens, NOW, layout))
    assert page == orjson.loads(RowCache(model).page(BTC.name, M1, opens, NOW, layout))
    assert page[-1][-1] == "0"  # OKX's confirm flag: still forming


def test_cache_stays_within_its_bounds() -> None:
    model = MarketModel([BTC], seed=1)
    cache = RowCache(model, max_rows=500, max_page_bytes=100_000)
    layout = OkxSpot(model, [BTC]).row_layout(BTC)
    for k in range(12):
        end = NOW - k * 7 * 86_400_000
        opens = model.open_times(BTC.name, M1, now_ms=NOW, limit=300, end_ms=end)
        page = cache.page(BTC.name, M1, opens, NOW, layout, variant=k % 3)
        assert page == RowCache(model).page(BTC.name, M1, opens, NOW, layout)
        info = cache.info()
        assert info["rows"] <= 500
        assert info["page_bytes"] <= 100_000
