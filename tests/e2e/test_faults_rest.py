"""REST network conditions through real sockets: latency, injected native errors, live changes.

httpx against 127.0.0.1 for latency and errors, the control endpoint and the CLI (in a subprocess);
ccxt to check it raises its own exception classes for the injected errors. Latency is checked with
medians against a zero-latency baseline measured in the same test, with generous bounds (the machine
is shared); the accuracy figure itself belongs to the benchmarks.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from typing import Any

import ccxt
import ccxt.pro as ccxtpro
import httpx
import pytest
import trio

from mockfeed import Server, ThreadedServer, cli
from mockfeed.exchanges import available
from mockfeed.exchanges.base import RestRequest
from mockfeed.runtime.conditions import Conditions
from tests.e2e import ccxt_support as cx

BINANCE_FAULT = {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."}
OKX_FAULT = {"code": "50013", "data": [], "msg": "Systems are busy. Please try again later."}
SAMPLES = 50
LATENCY_MS = 40.0


async def median_ms(client: httpx.AsyncClient, path: str, count: int = SAMPLES) -> float:
    """The median round trip of ``count`` sequential GETs of ``path``, in milliseconds."""
    times = []
    for _ in range(count):
        before = time.perf_counter()
        response = await client.get(path)
        times.append((time.perf_counter() - before) * 1000)
        assert response.status_code == 200
    return statistics.median(times)


# -- latency ------------------------------------------------------------------------------------------


@pytest.mark.mockfeed(exchanges=["binance_spot"])
async def test_latency_median_close_to_configured(mockfeed_server: Server) -> None:
    """Configured latency L: the median round trip exceeds the zero-latency median by about L."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        with trio.fail_after(60):
            await median_ms(client, "/api/v3/time", 5)  # warm the connection
            baseline = await median_ms(client, "/api/v3/time")
            mockfeed_server.conditions = Conditions(latency_ms=LATENCY_MS)
            delayed = await median_ms(client, "/api/v3/time")
    added = delayed - baseline
    assert LATENCY_MS - 3 <= added <= LATENCY_MS + 10, (baseline, delayed)  # ±3 ms nominal, loaded box


@pytest.mark.mockfeed(exchanges=["binance_spot"], latency_ms=10, jitter_ms=30, fault_seed=4)
async def test_jitter_spreads_round_trips(mockfeed_server: Server) -> None:
    """With jitter J every round trip takes at least the latency, and they spread over about J."""
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        times = []
        with trio.fail_after(60):
            for _ in range(SAMPLES):
                before = time.perf_counter()
                assert (await client.get("/api/v3/time")).status_code == 200
                times.append((time.perf_counter() - before) * 1000)
    times.sort()
    assert times[0] >= 10
    assert times[-1] - times[0] >= 10  # a uniform spread over 30 ms, not a constant


# -- injected errors ----------------------------------------------------------------------------------


@pytest.mark.mockfeed(exchanges=["binance_spot"], error_rate=0.3, fault_seed=5)
async def test_error_rate_fails_exactly_the_seeded_requests(mockfeed_server: Server) -> None:
    """The failed requests are the ones the seed predicts, each with Binance's native -1001 body."""
    count = 300
    predicted = {n for n in range(count) if mockfeed_server.conditions.fails("binance_spot", n)}
    failed = set()
    async with httpx.AsyncClient(base_url=mockfeed_server.rest_url) as client:
        with trio.fail_after(60):
            for n in range(count):
                response = await client.get("/api/v3/time")
                if response.status_code != 200:
                    assert response.status_code == 500 and response.json() == BINANCE_FAULT
                    failed.add(n)
    assert failed == predicted
    sigma = (count * 0.3 * 0.7) ** 0.5
    assert abs(len(failed) - 0.3 * count) <= 3 * sigma


@pytest.mark.mockfeed(exchanges=["okx_spot", "binance_spot"], error_rate=1, latency_ms=1)
async def test_marker_conditions_and_native_bodies_per_exchange(mockfeed_server: Server) -> None:
    """Marker fields reach every exchange; each fails with its own body; one exchange can be healed."""
    assert mockfeed_server.conditions == Conditions(latency_ms=1, error_rate=1)
    async with httpx.AsyncClient() as client:
        okx = await client.get(mockfeed_server["okx_spot"].rest_url + "/api/v5/public/time")
        assert (okx.status_code, okx.json()) == (200, OKX_FAULT)
        binance = await client.get(mockfeed_server["binance_spot"].rest_url + "/api/v3/time")
        assert (binance.status_code, binance.json()) == (500, BINANCE_FAULT)
        mockfeed_server["okx_spot"].conditions = Conditions()
        healed = await client.get(mockfeed_server["okx_spot"].rest_url + "/api/v5/public/time")
        assert healed.json()["code"] == "0"
        still = await client.get(mockfeed_server["binance_spot"].rest_url + "/api/v3/time")
        assert still.status_code == 500


@pytest.mark.mockfeed(exchanges=available(), error_rate=1)
async def test_every_exchange_answers_injected_errors_natively(mockfeed_server: Server) -> None:
    """Every served exchange answers an injected error with its internal-error shape, no traceback."""
    async with httpx.AsyncClient() as client:
        for name, exchange in mockfeed_server.exchanges.items():
            response = await client.get(exchange.rest_url + "/")
            expected = exchange.plugin.fault_response("server_error", _probe())
            assert response.status_code == expected.status, name
            assert _shape(response.content) == _shape(expected.body), name  # times may differ
            assert b"Traceback" not in response.content


def _shape(body: bytes) -> object:
    """A JSON body's top-level keys (or the body itself when it is not a JSON object)."""
    try:
        value = json.loads(body)
    except ValueError:
        return body
    return sorted(value) if isinstance(value, dict) else value


def _probe() -> RestRequest:
    return RestRequest("GET", "/", (), b"", 0)


# -- the control endpoint -----------------------------------------------------------------------------


@pytest.mark.mockfeed(exchanges=["binance_spot", "okx_spot"], control_port=0, latency_ms=2)
async def test_control_endpoint_reads_and_changes_conditions(mockfeed_server: Server) -> None:
    """GET all / one, PUT replaces, PATCH changes given keys; the next REST request obeys."""
    default = {**Conditions().to_json(), "latency_ms": 2.0}
    async with httpx.AsyncClient(base_url=mockfeed_server.control_url) as control, \
            httpx.AsyncClient(base_url=mockfeed_server.rest_url) as rest:
        everything = (await control.get("/conditions")).json()
        assert everything == {"binance_spot": default, "okx_spot": default}
        assert (await control.get("/conditions/okx_spot")).json() == default
        assert "/conditions/binance_spot" in (await control.get("/")).json()["endpoints"]

        patched = await control.patch("/conditions/binance_spot", json={"error_rate": 1})
        assert patched.status_code == 200
        assert patched.json() == {**default, "error_rate": 1.0}
        assert (await rest.get("/api/v3/time")).json() == BINANCE_FAULT
        assert mockfeed_server["binance_spot"].conditions.error_rate == 1
        assert mockfeed_server["okx_spot"].conditions.error_rate == 0

        put = await control.put("/conditions/binance_spot", json={"jitter_ms": 3, "fault_seed": 9})
        assert put.json() == {**Conditions().to_json(), "jitter_ms": 3.0, "fault_seed": 9}
        assert (await rest.get("/api/v3/time")).status_code == 200

        both = await control.patch("/conditions", json={"error_rate": 0.5})
        assert both.json() == {
            "binance_spot": {**Conditions().to_json(), "jitter_ms": 3.0, "error_rate": 0.5, "fault_seed": 9},
            "okx_spot": {**default, "error_rate": 0.5},
        }
        reset = await control.put("/conditions", json={})
        assert reset.json() == {"binance_spot": Conditions().to_json(), "okx_spot": Conditions().to_json()}
        assert mockfeed_server.conditions == Conditions()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "fragment"),
    [
        ("PATCH", "/conditions/binance_spot", b'{"error_rate": 2}', 400, "error_rate"),
        ("PATCH", "/conditions/binance_spot", b'{"latency_ms": -5}', 400, "latency_ms"),
        ("PUT", "/conditions/binance_spot", b'{"jitter_ms": "lots"}', 400, "jitter_ms"),
        ("PATCH", "/conditions/binance_spot", b'{"fault_seed": 1.5}', 400, "fault_seed"),
        ("PATCH", "/conditions/binance_spot", b'{"lost": 0.1}', 400, "unknown key 'lost'"),
        ("PATCH", "/conditions/binance_spot", b'{"maintenance": "yes"}', 400, "maintenance"),
        ("PUT", "/conditions/binance_spot", b"not json", 400, "not valid JSON"),
        ("PUT", "/conditions/binance_spot", b"[1, 2]", 400, "JSON object"),
        ("GET", "/conditions/kraken_spot", b"", 404, "no control endpoint"),
        ("POST", "/conditions/binance_spot", b"{}", 405, "not allowed"),
        ("PATCH", "/conditions", b'{"error_rate": "x"}', 400, "error_rate"),
        ("DELETE", "/conditions", b"", 405, "not allowed"),
    ],
)
@pytest.mark.mockfeed(exchanges=["binance_spot"], control_port=0, latency_ms=1)
async def test_control_endpoint_refuses_bad_input(
    mockfeed_server: Server, method: str, path: str, body: bytes, status: int, fragment: str
) -> None:
    """Bad values: a JSON error naming the problem, no traceback, the conditions unchanged."""
    async with httpx.AsyncClient(base_url=mockfeed_server.control_url) as control:
        response = await control.request(method, path, content=body)
    assert response.status_code == status
    assert fragment in response.json()["error"]
    assert "Traceback" not in response.text
    assert mockfeed_server.conditions == Conditions(latency_ms=1)


# -- the command line ---------------------------------------------------------------------------------


async def test_cli_flags_set_the_conditions() -> None:
    """The condition flags (--latency, --loss, --stall, ...) reach the server and its control endpoint."""
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "mockfeed", "--port", "0", "--ws-port", "0", "--control-port", "0",
         "--latency", "5", "--jitter", "2.5", "--error-rate", "1", "--fault-seed", "11",
         "--loss", "0.25", "--loss-burst", "3", "--timeout-ms", "100", "--ws-lifetime", "60", "--stall"],
        stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        buffer = b""
        with trio.fail_after(30):
            while buffer.count(b"\n") < 2:
                chunk = await process.stdout.receive_some()
                assert chunk, f"mockfeed exited early: {buffer!r}"
                buffer += chunk
        text = buffer.decode()
        rest_match = re.search(r"rest=(\S+)", text)
        control_match = re.search(r"control=(\S+)", text)
        assert rest_match and control_match
        async with httpx.AsyncClient() as client:
            shown = (await client.get(control_match.group(1) + "/conditions/binance_spot")).json()
            assert shown == {
                **Conditions().to_json(), "latency_ms": 5.0, "jitter_ms": 2.5, "error_rate": 1.0,
                "fault_seed": 11, "loss": 0.25, "loss_burst": 3, "timeout_ms": 100.0,
                "ws_lifetime_s": 60.0, "stall": True,
            }
            answer = await client.get(rest_match.group(1) + "/api/v3/time")
            assert (answer.status_code, answer.json()) == (500, BINANCE_FAULT)
    finally:
        process.send_signal(signal.SIGINT)
        with trio.move_on_after(15):
            await process.wait()
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--latency", "-1"], "--latency"),
        (["--latency", "nan"], "--latency"),
        (["--jitter", "1e9"], "--jitter"),
        (["--error-rate", "1.5"], "--error-rate"),
        (["--fault-seed", "-3"], "--fault-seed"),
    ],
)
def test_bad_condition_flags_exit_2(
    args: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad condition flag: a message naming it, exit status 2, no traceback."""
    assert cli.main(["--port", "0", "--ws-port", "0", *args]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_unparsable_condition_flag_exits_2() -> None:
    """argparse refuses a non-number with status 2."""
    with pytest.raises(SystemExit) as exited:
        cli.main(["--error-rate", "often"])
    assert exited.value.code == 2


# -- ccxt ----------------------------------------------------------------------------------------------


async def _ccxt_sees(server: ThreadedServer, cls: Any, exchange: str, symbol: str) -> BaseException:
    async with cx.open_client(cls, server) as client:
        await client.load_markets()
        server.set_exchange_conditions(exchange, Conditions(error_rate=1))
        assert server.exchange_conditions(exchange).error_rate == 1
        try:
            await client.fetch_ohlcv(symbol, "1m", limit=5)
        except ccxt.BaseError as raised:
            return raised
    raise AssertionError("no exception")


@pytest.mark.parametrize(
    ("exchange", "cls", "symbol", "expected"),
    [
        # ccxt 4.5's spot table maps -1001 to OperationFailed (the base of NetworkError)
        pytest.param("binance_spot", ccxtpro.binance, "BTC/USDT", ccxt.OperationFailed, id="binance"),
        pytest.param("okx_spot", ccxtpro.okx, "BTC/USDT", ccxt.ExchangeNotAvailable, id="okx"),
    ],
)
def test_ccxt_raises_its_own_exception(
    exchange: str, cls: Any, symbol: str, expected: type[Exception]
) -> None:
    """ccxt maps the injected native errors to its own classes (Binance -1001, OKX 50013)."""
    with ThreadedServer(exchanges=[exchange], port=0, ws_port=0) as server:
        raised = asyncio.run(_ccxt_sees(server, cls, exchange, symbol))
        assert server.conditions == Conditions(error_rate=1)
    assert isinstance(raised, expected), repr(raised)
    assert ("-1001" if exchange == "binance_spot" else "50013") in str(raised)
