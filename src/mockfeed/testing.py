"""pytest plugin (registered through the ``pytest11`` entry point): mockfeed fixtures.

* ``mockfeed_server``: an async fixture for trio tests (pytest-trio) serving inside the test's trio
  run, yielding a :class:`mockfeed.Server`.
* ``mockfeed_threaded``: a fixture for asyncio or synchronous tests, yielding a started
  :class:`mockfeed.ThreadedServer`.
* ``mock_exchange``: a factory for asyncio or synchronous tests: ``mock_exchange("okx_spot", **options)``
  starts a :class:`mockfeed.ThreadedServer` and returns it; every server it started stops at teardown.
* ``mockfeed_exchange``: the name of the exchange under test (see ``mockfeed_exchanges`` below).

All listen on ephemeral ports of 127.0.0.1 and take :class:`mockfeed.ServerConfig` options from a
``@pytest.mark.mockfeed(exchanges=[...], seed=..., pairs=[...])`` marker (for ``mock_exchange`` they
are defaults that its keyword arguments override); ``speed=``, ``start=`` and ``control_port=0`` set
the market clock and open the control endpoint; ``latency_ms=``, ``jitter_ms=``, ``error_rate=`` and
``fault_seed=`` set the initial network conditions (docs/faults.md).

``@pytest.mark.mockfeed_exchanges("binance_spot", "okx_spot")`` (or ``"all"``) runs the test once per
exchange, ids being the names; the three server fixtures then serve that one exchange, and
``mockfeed_exchange`` names it. Parametrizing ``mockfeed_exchange`` directly works the same way.

``mockfeed_server`` serves in the test's own trio run, so its market time follows trio's clock: a test
that also takes pytest-trio's ``autojump_clock`` fixture runs on virtual time, and an hour of candles
streams over real loopback sockets in a fraction of that. Move market time explicitly with
``mockfeed_server.advance(...)``/``set_time(...)``/``set_speed(...)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, Protocol

import pytest

from mockfeed.config import ServerConfig
from mockfeed.exchanges import ExchangeType
from mockfeed.runtime.server import Server, serve
from mockfeed.threaded import ThreadedServer

__all__ = ["MockExchange", "exchanges_to_test"]

_PARAM = "mockfeed_exchange"


class MockExchange(Protocol):
    """The ``mock_exchange`` fixture's type: ``mock_exchange(*exchanges, **options) -> ThreadedServer``."""

    def __call__(self, *exchanges: ExchangeType | str, **options: Any) -> ThreadedServer:
        """Start and return a server for ``exchanges`` (default: the test's) with ``options``."""
        ...


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``mockfeed`` and ``mockfeed_exchanges`` markers."""
    config.addinivalue_line("markers", "mockfeed(**options): ServerConfig options for the mockfeed fixtures")
    config.addinivalue_line(
        "markers",
        "mockfeed_exchanges(*names): run the test once per exchange ('all': every served product), "
        "through the mockfeed_exchange fixture",
    )


def exchanges_to_test(names: Sequence[str]) -> list[str]:
    """The exchange names a ``mockfeed_exchanges`` marker asks for; ValueError for bad ones."""
    if not names:
        raise ValueError("mockfeed_exchanges needs at least one exchange name (or 'all')")
    if list(names) == ["all"]:
        return [e.value for e in ExchangeType]
    valid = {e.value for e in ExchangeType}
    unknown = [n for n in names if not isinstance(n, str) or n not in valid]
    if unknown:
        raise ValueError(
            f"mockfeed_exchanges: unknown exchange {unknown[0]!r}; valid: 'all', {', '.join(sorted(valid))}"
        )
    if len(set(names)) != len(names):
        raise ValueError("mockfeed_exchanges: an exchange is listed twice")
    return [str(n) for n in names]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``mockfeed_exchange`` from a ``mockfeed_exchanges`` marker."""
    marker = metafunc.definition.get_closest_marker("mockfeed_exchanges")
    if marker is None:
        return
    where = metafunc.definition.nodeid
    try:
        names = exchanges_to_test(marker.args)
    except ValueError as refused:
        pytest.fail(f"{where}: {refused}", pytrace=False)
    if _PARAM not in metafunc.fixturenames:
        pytest.fail(
            f"{where}: @pytest.mark.mockfeed_exchanges needs the test to use mockfeed_exchange, "
            "mockfeed_server, mockfeed_threaded or mock_exchange",
            pytrace=False,
        )
    metafunc.parametrize(_PARAM, names, ids=names)


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("mockfeed")
    return dict(marker.kwargs) if marker is not None else {}


def _parametrized(request: pytest.FixtureRequest) -> str | None:
    callspec = getattr(request.node, "callspec", None)
    value = callspec.params.get(_PARAM) if callspec is not None else None
    return None if value is None else str(value)


def _config(request: pytest.FixtureRequest, **options: Any) -> ServerConfig:
    merged: dict[str, Any] = {"port": 0, "ws_port": 0, **_marker_options(request)}
    exchange = _parametrized(request)
    if exchange is not None:
        merged["exchanges"] = [exchange]
    merged.update(options)
    return ServerConfig(**merged)


@pytest.fixture
def mockfeed_exchange(request: pytest.FixtureRequest) -> str:
    """The exchange under test: the ``mockfeed_exchanges`` case, else the first one the marker serves."""
    return _config(request).exchanges[0].value


@pytest.fixture
async def mockfeed_server(request: pytest.FixtureRequest, mockfeed_exchange: str) -> AsyncIterator[Server]:
    """A mockfeed server running in the trio test's own nursery."""
    async with serve(_config(request)) as server:
        yield server


@pytest.fixture
def mockfeed_threaded(request: pytest.FixtureRequest, mockfeed_exchange: str) -> Iterator[ThreadedServer]:
    """A mockfeed server running in a background thread, for asyncio or sync tests."""
    with ThreadedServer(_config(request)) as server:
        yield server


@pytest.fixture
def mock_exchange(request: pytest.FixtureRequest, mockfeed_exchange: str) -> Iterator[MockExchange]:
    """A factory of started :class:`ThreadedServer` s, each stopped at teardown."""
    started: list[ThreadedServer] = []

    def start(*exchanges: ExchangeType | str, **options: Any) -> ThreadedServer:
        if exchanges:
            if "exchanges" in options:
                raise TypeError("mock_exchange: give exchanges positionally or as exchanges=, not both")
            options["exchanges"] = list(exchanges)
        server = ThreadedServer(_config(request, **options))
        server.start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in reversed(started):
            server.stop()
