"""The pytest plugin: the ``mock_exchange`` factory, the ``mockfeed_exchanges`` marker and its fixture."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockfeed import ExchangeType, Server, ThreadedServer
from mockfeed.testing import MockExchange, exchanges_to_test


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def stopped_at_teardown() -> Iterator[list[int]]:
    """Ports that must be closed once the fixtures requested after this one are torn down."""
    ports: list[int] = []
    yield ports
    assert ports, "nothing was recorded"
    assert all(_refused(port) for port in ports), ports


def _ports(server: ThreadedServer) -> list[int]:
    return [
        port
        for exchange in server.config.exchanges
        for port in (server[exchange].rest_port, server[exchange].ws_port)
    ]


@pytest.mark.mockfeed(seed=11, pairs=["BTC-USDT", "ETH-USDT"])
def test_mock_exchange_starts_several_and_stops_them(
    stopped_at_teardown: list[int], mock_exchange: MockExchange
) -> None:
    """Several servers per test; marker options are defaults, keywords override; all stop at teardown."""
    okx = mock_exchange("okx_spot")
    binance = mock_exchange("binance_spot", pairs=["SOL-USDT"])
    assert okx.config.exchanges == (ExchangeType.OKX_SPOT,)
    assert okx.config.seed == binance.config.seed == 11
    assert [p.name for p in okx.config.pairs] == ["BTC-USDT", "ETH-USDT"]
    info = httpx.get(binance.rest_url + "/api/v3/exchangeInfo").json()
    assert [s["symbol"] for s in info["symbols"]] == ["SOLUSDT"]
    candles = httpx.get(
        okx.rest_url + "/api/v5/market/candles", params={"instId": "ETH-USDT", "bar": "1m"}
    ).json()
    assert candles["code"] == "0" and len(candles["data"]) == 100
    stopped_at_teardown.extend(_ports(okx) + _ports(binance))


def test_mock_exchange_serves_several_exchanges_in_one_server(mock_exchange: MockExchange) -> None:
    """Several names start one server for all of them; ``exchanges=`` is the keyword form."""
    server = mock_exchange("binance_spot", "binance_perpetual")
    assert server.config.exchanges == (ExchangeType.BINANCE_SPOT, ExchangeType.BINANCE_PERPETUAL)
    assert httpx.get(server["binance_perpetual"].rest_url + "/fapi/v1/ping").json() == {}
    assert mock_exchange(exchanges=["kraken_spot"]).config.exchanges == (ExchangeType.KRAKEN_SPOT,)
    with pytest.raises(TypeError, match="not both"):
        mock_exchange("okx_spot", exchanges=["okx_spot"])


def test_mock_exchange_reports_bad_options(mock_exchange: MockExchange) -> None:
    """A bad name or option fails at the call, naming it, and leaves nothing running."""
    with pytest.raises(ValueError, match="nope"):
        mock_exchange("nope")
    with pytest.raises(ValueError, match="error_rate"):
        mock_exchange("okx_spot", error_rate=2.0)


def test_mockfeed_exchange_defaults_to_binance_spot(mockfeed_exchange: str) -> None:
    """Without markers the exchange under test is the config's default."""
    assert mockfeed_exchange == "binance_spot"


@pytest.mark.mockfeed(exchanges=["okx_spot", "kraken_spot"])
def test_mockfeed_exchange_follows_the_mockfeed_marker(
    mockfeed_exchange: str, mockfeed_threaded: ThreadedServer, mock_exchange: MockExchange
) -> None:
    """Without ``mockfeed_exchanges`` the fixtures keep serving the whole marker list."""
    assert mockfeed_exchange == "okx_spot"
    both = (ExchangeType.OKX_SPOT, ExchangeType.KRAKEN_SPOT)
    assert mockfeed_threaded.config.exchanges == both
    assert mock_exchange().config.exchanges == both


@pytest.mark.mockfeed_exchanges("binance_perpetual", "okx_spot")
@pytest.mark.mockfeed(exchanges=["kraken_spot"], seed=5)
def test_mockfeed_exchanges_parametrizes_the_threaded_fixtures(
    request: pytest.FixtureRequest,
    mockfeed_exchange: str,
    mockfeed_threaded: ThreadedServer,
    mock_exchange: MockExchange,
) -> None:
    """One case per name (id = name); the fixtures serve that exchange only, other options kept."""
    assert request.node.callspec.id == mockfeed_exchange
    assert mockfeed_threaded.config.exchanges == (ExchangeType(mockfeed_exchange),)
    assert mockfeed_threaded.config.seed == 5
    other = mock_exchange()
    assert other.config.exchanges == (ExchangeType(mockfeed_exchange),)
    assert other.rest_url != mockfeed_threaded.rest_url
    path = "/fapi/v1/ping" if mockfeed_exchange == "binance_perpetual" else "/api/v5/public/time"
    assert httpx.get(other.rest_url + path).status_code == 200


@pytest.mark.mockfeed_exchanges("kucoin_spot", "gate_io_perpetual")
async def test_mockfeed_exchanges_parametrizes_the_trio_fixture(
    mockfeed_exchange: str, mockfeed_server: Server
) -> None:
    """The trio fixture serves the case's exchange."""
    assert mockfeed_server.config.exchanges == (ExchangeType(mockfeed_exchange),)
    assert mockfeed_server[mockfeed_exchange].rest_url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("mockfeed_exchange", ["bybit_spot"])
def test_parametrizing_mockfeed_exchange_directly(mockfeed_threaded: ThreadedServer) -> None:
    """``mockfeed_exchange`` may also be parametrized by hand."""
    assert mockfeed_threaded.config.exchanges == (ExchangeType.BYBIT_SPOT,)


def test_exchanges_to_test() -> None:
    """Names are checked; 'all' is every served product, in declaration order."""
    assert exchanges_to_test(["okx_spot", "binance_spot"]) == ["okx_spot", "binance_spot"]
    assert exchanges_to_test(["all"]) == [e.value for e in ExchangeType]
    assert len(exchanges_to_test(["all"])) == 17
    with pytest.raises(ValueError, match=r"unknown exchange 'okx'; valid: 'all', ascend_ex_spot"):
        exchanges_to_test(["okx"])
    with pytest.raises(ValueError, match="at least one"):
        exchanges_to_test([])
    with pytest.raises(ValueError, match="twice"):
        exchanges_to_test(["okx_spot", "okx_spot"])


_COLLECTED = """
import pytest

@pytest.mark.mockfeed_exchanges("all")
def test_every(mockfeed_exchange):
    pass

@pytest.mark.mockfeed_exchanges("okx_spot", "binance_spot")
class TestClass:
    def test_in_class(self, mock_exchange):
        pass
"""

_TYPO = """
import pytest

@pytest.mark.mockfeed_exchanges("binance_spot", "okx")
def test_typo(mockfeed_threaded):
    pass
"""

_NO_FIXTURE = """
import pytest

@pytest.mark.mockfeed_exchanges("okx_spot")
def test_without_fixture():
    pass
"""


def _pytest(tmp_path: Path, *sources: str) -> subprocess.CompletedProcess[str]:
    """``pytest --collect-only`` over one module per source."""
    tmp_path.mkdir()
    for number, source in enumerate(sources):
        (tmp_path / f"test_inner{number}.py").write_text(textwrap.dedent(source))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--collect-only",
            "--strict-markers",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_marker_ids_and_collection_errors(tmp_path: Path) -> None:
    """Ids are the names ('all' gives all 17); unknown names and a missing fixture fail collection."""
    collected = _pytest(tmp_path / "good", _COLLECTED)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    ids = [line for line in collected.stdout.splitlines() if "::" in line]
    assert ids == [f"test_inner0.py::test_every[{e.value}]" for e in ExchangeType] + [
        "test_inner0.py::TestClass::test_in_class[okx_spot]",
        "test_inner0.py::TestClass::test_in_class[binance_spot]",
    ]
    broken = _pytest(tmp_path / "bad", _TYPO, _NO_FIXTURE)
    assert broken.returncode != 0
    assert (
        "test_typo: mockfeed_exchanges: unknown exchange 'okx'; valid: 'all', ascend_ex_spot" in broken.stdout
    )
    assert "test_without_fixture: @pytest.mark.mockfeed_exchanges needs the test to use" in broken.stdout
    assert "Traceback" not in broken.stdout and "2 errors" in broken.stdout
