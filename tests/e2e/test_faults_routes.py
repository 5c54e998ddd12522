"""Per-route REST conditions: one endpoint fails or lags while the others answer normally."""

from __future__ import annotations

import httpx
import pytest
import trio
import trio.testing

from mockfeed import Server

pytestmark = pytest.mark.mockfeed(exchanges=["binance_spot"], control_port=0)
KLINES = "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=2"


async def test_route_overrides_apply_to_their_paths_only(mockfeed_server: Server) -> None:
    """PUT one route's error_rate, PATCH a glob's maintenance: the first matching route wins."""
    async with httpx.AsyncClient(base_url=mockfeed_server.control_url) as control, \
            httpx.AsyncClient(base_url=mockfeed_server.rest_url) as rest:
        answer = await control.put("/conditions/binance_spot/routes", json={"/api/v3/klines": {"error_rate": 1}})
        assert answer.json() == {"/api/v3/klines": {"error_rate": 1}}
        failed = await rest.get(KLINES)
        assert failed.status_code == 500 and failed.json()["code"] == -1001
        assert (await rest.get("/api/v3/time")).status_code == 200
        await control.patch("/conditions/binance_spot/routes", json={"/api/v3/*": {"maintenance": True}})
        assert (await rest.get("/api/v3/time")).status_code == 503
        assert (await rest.get(KLINES)).status_code == 500  # its own route comes first
        assert mockfeed_server["binance_spot"].conditions.maintenance is False  # the exchange's
        await control.patch("/conditions/binance_spot/routes", json={"/api/v3/klines": {}})  # {} removes
        assert (await control.get("/conditions/binance_spot/routes")).json() == {"/api/v3/*": {"maintenance": True}}
        mockfeed_server["binance_spot"].route_conditions = {}
        assert (await rest.get(KLINES)).status_code == 200


async def test_route_latency(autojump_clock: trio.testing.MockClock, mockfeed_server: Server) -> None:
    """latency_ms on klines only: klines answers 250 ms later, time at once."""
    mockfeed_server["binance_spot"].route_conditions = {"/api/v3/klines": {"latency_ms": 250}}
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as rest:
        took = []
        for path in (KLINES, "/api/v3/time"):
            started = trio.current_time()
            assert (await rest.get(path)).status_code == 200
            took.append(round((trio.current_time() - started) * 1000))
    assert took == [250, 0]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"/api/v3/klines": {"loss": 0.5}}', "cannot be set per route"),
        (b'{"api/v3/klines": {"error_rate": 1}}', "a route is a path starting with '/'"),
        (b'{"/api/v3/klines": {"error_rate": 3}}', "/api/v3/klines: error_rate must be a probability"),
        (b'{"/api/v3/klines": 1}', "expected an object"),
        (b"[]", "JSON object"),
    ],
)
async def test_bad_routes_are_refused(mockfeed_server: Server, body: bytes, fragment: str) -> None:
    """400 naming the route and key; the routes in force are unchanged."""
    mockfeed_server["binance_spot"].route_conditions = {"/api/v3/time": {"latency_ms": 1}}
    async with httpx.AsyncClient(base_url=mockfeed_server.control_url) as control:
        answer = await control.put("/conditions/binance_spot/routes", content=body)
        assert answer.status_code == 400 and fragment in answer.json()["error"]
    assert mockfeed_server["binance_spot"].route_conditions == {"/api/v3/time": {"latency_ms": 1}}


@pytest.mark.mockfeed(route_conditions={"binance_spot": {"/api/v3/k*": {"error_rate": 1}}})
async def test_routes_from_the_config(mockfeed_server: Server) -> None:
    """ServerConfig.route_conditions (and the config file's [conditions.X.routes."/path"]) at start."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as rest:
        assert (await rest.get(KLINES)).status_code == 500
        assert (await rest.get("/api/v3/time")).status_code == 200
