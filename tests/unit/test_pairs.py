"""Unit and property tests of :mod:`mockfeed.market.pairs`: pair names, parsing and market specs."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockfeed.market import DEFAULT_PAIRS, PairError, PairSpec, pair_spec, parse_pairs
from mockfeed.market.pairs import log_start_price

symbols = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=2, max_size=12)


def test_default_pairs() -> None:
    """The default pairs are BTC, ETH and SOL against USDT."""
    assert DEFAULT_PAIRS == ("BTC-USDT", "ETH-USDT", "SOL-USDT")


def test_parse_three_pairs() -> None:
    """A comma-separated list parses to specs in the given order."""
    specs = parse_pairs("BTC-USDT,ETH-USDT,SOL-USDT")
    assert all(isinstance(spec, PairSpec) for spec in specs)
    assert [spec.name for spec in specs] == ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    assert [(spec.base, spec.quote) for spec in specs] == [
        ("BTC", "USDT"),
        ("ETH", "USDT"),
        ("SOL", "USDT"),
    ]


def test_parse_normalises_case_and_spaces() -> None:
    """Names are upper-cased and stripped; empty list items are skipped."""
    specs = parse_pairs(" btc-usdt , Eth-Usdt,,SOL-USDT, ")
    assert [spec.name for spec in specs] == ["BTC-USDT", "ETH-USDT", "SOL-USDT"]


def test_default_start_prices() -> None:
    """BTC, ETH and SOL start at 50000, 3000 and 100 at the anchor date."""
    prices = {spec.base: spec.start_price for spec in parse_pairs(",".join(DEFAULT_PAIRS))}
    assert prices == {"BTC": Decimal(50000), "ETH": Decimal(3000), "SOL": Decimal(100)}


@pytest.mark.parametrize(
    ("name", "tick", "lot", "price_decimals", "volume_decimals"),
    [
        ("BTC-USDT", "0.01", "0.00001", 2, 5),
        ("ETH-USDT", "0.01", "0.0001", 2, 4),
        ("SOL-USDT", "0.01", "0.001", 2, 3),
        ("XRP-USDT", "0.0001", "1", 4, 0),
        ("DOGE-USDT", "0.00001", "1", 5, 0),
    ],
)
def test_known_steps_and_decimals(
    name: str, tick: str, lot: str, price_decimals: int, volume_decimals: int
) -> None:
    """Known bases have their tick and lot sizes, and the decimals follow from them."""
    spec = pair_spec(name)
    assert spec.tick_size == Decimal(tick)
    assert spec.lot_size == Decimal(lot)
    assert spec.price_decimals == price_decimals
    assert spec.volume_decimals == volume_decimals
    assert spec.quote_decimals == price_decimals + volume_decimals


def test_quote_decimals_make_products_exact() -> None:
    """A price times a volume is exact at quote_decimals digits."""
    spec = pair_spec("BTC-USDT")
    product = (Decimal(123_456_789) * spec.tick_size) * (Decimal(98_765) * spec.lot_size)
    exponent = product.as_tuple().exponent
    assert isinstance(exponent, int)
    assert -exponent <= spec.quote_decimals


def test_unknown_base_gets_sane_defaults() -> None:
    """An unknown base gets a positive price, volatility, steps and volume."""
    spec = pair_spec("FOO-BAR")
    assert (spec.base, spec.quote, spec.name) == ("FOO", "BAR", "FOO-BAR")
    assert spec.start_price > 0
    assert spec.volatility > 0
    assert spec.tick_size > 0
    assert spec.lot_size > 0
    assert spec.daily_quote_volume > 0
    assert spec.mean_trade_quote > 0
    assert spec.start_price % spec.tick_size == 0


@pytest.mark.parametrize("name", [*DEFAULT_PAIRS, "BNB-USDT", "XRP-USDT", "DOGE-USDT", "FOO-BAR"])
def test_start_price_is_on_the_tick_grid(name: str) -> None:
    """Every start price is a positive multiple of its tick size, and its log is finite."""
    spec = pair_spec(name)
    assert spec.start_price > 0
    assert spec.start_price % spec.tick_size == 0
    assert math.isclose(log_start_price(spec), math.log(float(spec.start_price)))


@pytest.mark.parametrize(
    "name",
    [
        "BTCUSDT",
        "BTC/USDT",
        "BTC_USDT",
        "BTC USDT",
        "B-USDT",
        "BTC-U",
        "BTC-",
        "-USDT",
        "BTC--USDT",
        "BTC-USDT-ETH",
        "btc-usdt",  # pair_spec wants canonical (upper-case) names; parse_pairs normalises
        " BTC-USDT",
        "ÄBC-USDT",
        "ABCDEFGHIJKLM-USDT",  # 13 characters
        "",
    ],
)
def test_bad_names_raise(name: str) -> None:
    """Names that are not canonical BASE-QUOTE raise PairError, a ValueError."""
    with pytest.raises(PairError):
        pair_spec(name)
    assert issubclass(PairError, ValueError)


@pytest.mark.parametrize(
    "text", ["BTCUSDT", "BTC-USDT,ETHUSDT", "BTC-USDT,ETH/USDT", "BTC-USDT,B-X", "BTC-USDT;ETH-USDT"]
)
def test_parse_pairs_rejects_bad_names(text: str) -> None:
    """parse_pairs refuses a list with any bad name in it."""
    with pytest.raises(PairError):
        parse_pairs(text)


@pytest.mark.parametrize("text", ["", " ", ",", " , ,"])
def test_parse_pairs_rejects_empty(text: str) -> None:
    """An empty list of pairs is refused."""
    with pytest.raises(PairError):
        parse_pairs(text)


@pytest.mark.parametrize(
    "text",
    [
        "BTC-USDT,BTC-USDT",
        "BTC-USDT,ETH-USDT,BTC-USDT",
        "BTC-USDT,btc-usdt",
        "BTC-USDT, BTC-USDT ",
    ],
)
def test_duplicates_refused(text: str) -> None:
    """A pair listed twice (after normalisation) is refused."""
    with pytest.raises(PairError, match="twice"):
        parse_pairs(text)


def test_trailing_newline_is_not_canonical() -> None:
    """A name with a trailing newline is not a canonical pair name."""
    with pytest.raises(PairError):
        pair_spec("BTC-USDT\n")


@settings(max_examples=50, deadline=None)
@given(base=symbols, quote=symbols)
def test_any_canonical_name_round_trips(base: str, quote: str) -> None:
    """Any BASE-QUOTE of 2-12 upper-case letters or digits parses, and its name is itself."""
    name = f"{base}-{quote}"
    spec = pair_spec(name)
    assert (spec.base, spec.quote, spec.name) == (base, quote, name)
    assert parse_pairs(name.lower()) == (spec,)


@settings(max_examples=50, deadline=None)
@given(names=st.lists(st.tuples(symbols, symbols), min_size=1, max_size=6, unique=True))
def test_parse_pairs_keeps_order(names: list[tuple[str, str]]) -> None:
    """parse_pairs returns one spec per distinct name, in order."""
    text = ",".join(f"{base}-{quote}" for base, quote in names)
    specs = parse_pairs(text)
    assert [(spec.base, spec.quote) for spec in specs] == names
