"""Hostile REST requests to every route of every available product, over real sockets.

The property: whatever a client sends, the answer comes back in time with a status below 500, no
traceback text, a parseable body when it claims JSON, and nothing logged as an error server-side
(a plugin handler that raised would log one and answer its ``internal_error``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import attrs
import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockfeed.exchanges import ExchangeType, available
from mockfeed.runtime.rest import MAX_BODY_BYTES
from tests.reliability.conftest import Everything
from tests.reliability.products import REST_SEEDS
from tests.reliability.strategies import (
    json_values,
    keys,
    mutate_json,
    mutate_query,
    path_values,
    values,
)
from tests.reliability.support import assert_no_traceback

PRODUCTS = available()
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
TIMEOUT = httpx.Timeout(15.0)
FUZZ = settings(
    max_examples=20, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@attrs.frozen
class Probe:
    """One request: method, path (already filled in), query pairs, body."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


def _routes(everything: Everything, product: ExchangeType) -> list[tuple[str, str]]:
    return sorted(everything.server[product].plugin.routes())


def _fill(path: str) -> st.SearchStrategy[str]:
    """A route path with each ``{name}`` segment replaced by a drawn value."""
    parts = re.split(r"\{\w+\}", path)
    return st.lists(path_values, min_size=len(parts) - 1, max_size=len(parts) - 1).map(
        lambda fills: "".join(p + f for p, f in zip(parts, [*fills, ""], strict=True))
    )


def _bodies() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.just(b""), st.binary(max_size=64), json_values().map(lambda v: json.dumps(v).encode())
    )


def _generic(routes: list[tuple[str, str]]) -> st.SearchStrategy[Probe]:
    """Any route, usually with its own method, with arbitrary parameters and body."""

    @st.composite
    def build(draw: st.DrawFn) -> Probe:
        method, path = draw(st.sampled_from(routes))
        if draw(st.integers(0, 4)) == 0:
            method = draw(st.sampled_from(METHODS))
        query = tuple(draw(st.lists(st.tuples(keys, values), max_size=6)))
        body = draw(_bodies()) if method in ("POST", "PUT", "PATCH") else b""
        return Probe(method, draw(_fill(path)), query, body)

    return build()


def _elsewhere(routes: list[tuple[str, str]]) -> st.SearchStrategy[Probe]:
    """Paths the product does not serve, next to and below the ones it does."""
    prefixes = sorted({path.rsplit("/", 1)[0] for _, path in routes})
    return st.builds(
        lambda prefix, tail, method: Probe(method, f"{prefix}/{tail}"),
        st.sampled_from([*prefixes, ""]), path_values, st.sampled_from(METHODS),
    )


def _seeded(product: ExchangeType) -> st.SearchStrategy[Probe] | None:
    """The product's valid candle request, mutated (see :mod:`tests.reliability.strategies`)."""
    seed = REST_SEEDS.get(product.value)
    if seed is None:
        return None
    if seed.method == "GET":
        return mutate_query(seed.params).map(lambda q: Probe("GET", seed.path, tuple(q)))
    return mutate_json(seed.params).map(
        lambda body: Probe(seed.method, seed.path, body=json.dumps(body).encode())
    )


def probes(everything: Everything, product: ExchangeType) -> st.SearchStrategy[Probe]:
    """Hostile requests for one product, half of them mutations of its seed when it has one."""
    routes = _routes(everything, product)
    generic = st.one_of(_generic(routes), _elsewhere(routes))
    seeded = _seeded(product)
    return generic if seeded is None else st.one_of(seeded, generic)


def send(client: httpx.Client, probe: Probe) -> httpx.Response:
    """Send one probe (raises on a timeout: a hang is a failure)."""
    headers = {"content-type": "application/json"} if probe.body else {}
    return client.request(
        probe.method, probe.path, params=list(probe.query), content=probe.body or None,
        headers=headers,
    )


def assert_native(response: httpx.Response, everything: Everything) -> None:
    """Below 500, no traceback, JSON that parses when it says JSON, no server-side error."""
    assert response.status_code < 500, (response.status_code, response.content[:300])
    assert_no_traceback(response.content)
    if response.content and "json" in response.headers.get("content-type", ""):
        orjson.loads(response.content)
    assert everything.errors.take() == []


@pytest.fixture(scope="module")
def clients(everything: Everything) -> Iterator[dict[ExchangeType, httpx.Client]]:
    """One keep-alive client per product (making a client per example would dominate the time)."""
    made = {
        product: httpx.Client(base_url=everything.server[product].rest_url, timeout=TIMEOUT)
        for product in PRODUCTS
    }
    yield made
    for client in made.values():
        client.close()


@pytest.mark.parametrize("product", PRODUCTS, ids=str)
@FUZZ
@given(data=st.data())
def test_rest_routes_answer_hostile_requests_natively(
    everything: Everything,
    clients: dict[ExchangeType, httpx.Client],
    product: ExchangeType,
    data: st.DataObject,
) -> None:
    """Wrong types, missing, empty, huge, negative, NaN, unicode, duplicated keys, unknown symbols."""
    probe = data.draw(probes(everything, product), label="probe")
    assert_native(send(clients[product], probe), everything)


@pytest.mark.parametrize("product", PRODUCTS, ids=str)
def test_every_route_with_every_method(
    everything: Everything, clients: dict[ExchangeType, httpx.Client], product: ExchangeType
) -> None:
    """Each route asked with each HTTP method, without parameters: a native answer, never a 5xx."""
    for _, path in _routes(everything, product):
        concrete = re.sub(r"\{\w+\}", "x", path)
        for method in METHODS:
            assert_native(send(clients[product], Probe(method, concrete)), everything)


@pytest.mark.parametrize("product", PRODUCTS, ids=str)
def test_oversized_bodies_are_refused_with_413(everything: Everything, product: ExchangeType) -> None:
    """A body above the limit (sent or only announced) is refused with 413; at the limit it is read."""
    routes = [r for r in _routes(everything, product) if r[0] == "POST"] or [("POST", "/")]
    with httpx.Client(base_url=everything.server[product].rest_url, timeout=TIMEOUT) as client:
        for _, path in routes:
            concrete = re.sub(r"\{\w+\}", "x", path)
            big = client.post(concrete, content=b"{" * (MAX_BODY_BYTES + 1))
            assert big.status_code == 413
            at_limit = client.post(concrete, content=b"[" * MAX_BODY_BYTES)
            assert_native(at_limit, everything)
            assert at_limit.status_code != 413


@pytest.mark.parametrize("product", PRODUCTS, ids=str)
def test_a_query_near_the_header_limit(everything: Everything, product: ExchangeType) -> None:
    """A 48 KB query string on the kline route (or the first route) gets a native answer in time."""
    seed = REST_SEEDS.get(product.value)
    path = seed.path if seed is not None and seed.method == "GET" else _routes(everything, product)[0][1]
    query = [("symbol", "B" * 16_000), ("interval", "1" * 16_000), ("limit", "9" * 16_000)]
    with httpx.Client(base_url=everything.server[product].rest_url, timeout=TIMEOUT) as client:
        response = send(client, Probe("GET", re.sub(r"\{\w+\}", "x", path), tuple(query)))
    assert_native(response, everything)
