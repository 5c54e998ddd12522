"""Network conditions: validation, partial updates, and the seeded draws behind latency and errors."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockfeed import ServerConfig
from mockfeed.runtime.conditions import Conditions, ConditionsHolder, draw

DRAWS = 5_000


def test_defaults_are_a_perfect_network() -> None:
    """No latency, no jitter, no errors."""
    conditions = Conditions()
    assert conditions.to_json() == {
        "latency_ms": 0.0, "jitter_ms": 0.0, "error_rate": 0.0, "fault_seed": 0, "loss": 0.0,
        "loss_burst": 1, "timeout_rate": 0.0, "timeout_ms": 30000.0, "maintenance": False,
        "stall": False, "ws_lifetime_s": None, "rate_limits": False, "duplicate": 0.0, "late": 0.0,
        "late_ms": 1000.0,
    }
    assert conditions.delay_ms("binance_spot", 0) == 0
    assert not any(conditions.fails("binance_spot", n) for n in range(100))


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"latency_ms": -1}, "latency_ms"),
        ({"jitter_ms": float("inf")}, "jitter_ms"),
        ({"latency_ms": "50"}, "latency_ms must be a number"),
        ({"latency_ms": True}, "latency_ms must be a number"),
        ({"latency_ms": 10**9}, "latency_ms must be between"),
        ({"error_rate": 1.01}, "error_rate must be a probability"),
        ({"error_rate": -0.1}, "error_rate"),
        ({"error_rate": None}, "error_rate must be a number"),
        ({"fault_seed": 1.5}, "fault_seed must be a non-negative integer"),
        ({"fault_seed": -1}, "fault_seed"),
        ({"lost": 0.1}, "unknown key 'lost'"),
        ({"loss": 1.5}, "loss must be a probability"),
        ({"loss_burst": 0}, "loss_burst must be an integer"),
        ({"maintenance": 1}, "maintenance must be true or false"),
        ({"ws_lifetime_s": 0}, "ws_lifetime_s must be null or between"),
    ],
)
def test_bad_values_are_refused_naming_the_key(change: dict[str, Any], fragment: str) -> None:
    """Every refusal names the offending key; nothing changes."""
    before = Conditions(latency_ms=5)
    with pytest.raises(ValueError, match=fragment):
        before.updated(change)
    with pytest.raises(ValueError, match=fragment):
        Conditions.from_json(change)
    assert before == Conditions(latency_ms=5)


def test_partial_update_keeps_the_other_keys() -> None:
    """``updated`` changes only what it is given; ``from_json`` resets the rest to defaults."""
    base = Conditions(latency_ms=50, jitter_ms=5, error_rate=0.1, fault_seed=7)
    assert base.updated({"error_rate": 0.5}) == Conditions(50, 5, 0.5, 7)
    assert base.updated({}) == base
    assert Conditions.from_json({"error_rate": 0.5}) == Conditions(error_rate=0.5)


def test_server_config_validates_its_condition_fields() -> None:
    """ServerConfig refuses bad conditions at construction, naming the field."""
    assert ServerConfig(latency_ms=20, fault_seed=3).conditions() == Conditions(20, 0, 0, 3)
    with pytest.raises(ValueError, match="jitter_ms"):
        ServerConfig(jitter_ms=-5)
    with pytest.raises(ValueError, match="error_rate"):
        ServerConfig(error_rate=2)


@given(st.integers(0, 2**63 - 1), st.text(max_size=20), st.integers(0, 2**40), st.integers(0, 3))
def test_draws_are_uniform_numbers_in_the_unit_interval(
    seed: int, exchange: str, number: int, purpose: int
) -> None:
    """A draw is in [0, 1) and a pure function of its arguments."""
    value = draw(seed, exchange, number, purpose)
    assert 0 <= value < 1
    assert draw(seed, exchange, number, purpose) == value


def failed(conditions: Conditions, exchange: str = "okx_spot") -> set[int]:
    """Which of the first DRAWS requests fail."""
    return {n for n in range(DRAWS) if conditions.fails(exchange, n)}


def test_same_seed_fails_the_same_requests() -> None:
    """The failed set depends on the seed and the exchange only."""
    conditions = Conditions(error_rate=0.2, fault_seed=42)
    assert failed(conditions) == failed(Conditions(error_rate=0.2, fault_seed=42))
    assert failed(conditions) != failed(conditions.updated({"fault_seed": 43}))
    assert failed(conditions) != failed(conditions, "binance_spot")
    # a higher rate fails a superset: raising the rate only adds failures
    assert failed(conditions) <= failed(conditions.updated({"error_rate": 0.3}))


@pytest.mark.parametrize("rate", [0.005, 0.05, 0.5, 0.95])
@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_error_rate_within_three_standard_deviations(rate: float, seed: int) -> None:
    """Over 5,000 requests the observed error rate is within 3 sigma of the configured one."""
    observed = len(failed(Conditions(error_rate=rate, fault_seed=seed)))
    sigma = math.sqrt(DRAWS * rate * (1 - rate))
    assert abs(observed - DRAWS * rate) <= 3 * sigma


def test_rates_zero_and_one_are_exact() -> None:
    """0 never fails, 1 always fails."""
    assert failed(Conditions(error_rate=0)) == set()
    assert failed(Conditions(error_rate=1)) == set(range(DRAWS))


def test_jitter_is_uniform_on_top_of_the_latency() -> None:
    """Delays lie in [latency, latency + jitter), spread uniformly (mean and quartiles), seeded."""
    conditions = Conditions(latency_ms=50, jitter_ms=20, fault_seed=9)
    delays = sorted(conditions.delay_ms("binance_spot", n) for n in range(DRAWS))
    assert delays[0] >= 50 and delays[-1] < 70
    mean = sum(delays) / DRAWS
    sigma_of_mean = 20 / math.sqrt(12) / math.sqrt(DRAWS)
    assert abs(mean - 60) <= 4 * sigma_of_mean
    assert 54 < delays[DRAWS // 4] < 56 and 64 < delays[3 * DRAWS // 4] < 66
    assert delays == sorted(Conditions(50, 20, 0, 9).delay_ms("binance_spot", n) for n in range(DRAWS))
    assert Conditions(latency_ms=50).delay_ms("binance_spot", 3) == 50


def test_holder_numbers_requests_and_restarts_on_a_new_seed() -> None:
    """Requests are numbered from 0; PUT and assignment restart the count, PATCH only with a seed."""
    holder = ConditionsHolder("binance_spot")
    assert [holder.next_request()[1] for _ in range(3)] == [0, 1, 2]
    holder.update({"latency_ms": 5})
    assert holder.next_request() == (Conditions(latency_ms=5), 3)
    holder.update({"fault_seed": 8})
    assert holder.next_request()[1] == 0
    holder.replace({"error_rate": 0.5})
    assert holder.next_request() == (Conditions(error_rate=0.5), 0)
    holder.conditions = Conditions(jitter_ms=1)
    assert holder.next_request()[1] == 0
    with pytest.raises(ValueError, match="unknown key"):
        holder.update({"latency": 5})
    assert holder.conditions == Conditions(jitter_ms=1)
    with pytest.raises(TypeError):
        holder.conditions = {"latency_ms": 5}  # type: ignore[assignment]
