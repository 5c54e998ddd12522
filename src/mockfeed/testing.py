"""pytest plugin (registered through the ``pytest11`` entry point): mockfeed fixtures.

* ``mockfeed_server``: an async fixture for trio tests (pytest-trio) serving inside the test's trio
  run, yielding a :class:`mockfeed.Server`.
* ``mockfeed_threaded``: a fixture for asyncio or synchronous tests, yielding a started
  :class:`mockfeed.ThreadedServer`.

Both listen on ephemeral ports of 127.0.0.1 and take :class:`mockfeed.ServerConfig` options from a
``@pytest.mark.mockfeed(exchanges=[...], seed=..., pairs=[...])`` marker; ``speed=``, ``start=`` and
``control_port=0`` set the market clock and open the control endpoint; ``latency_ms=``, ``jitter_ms=``,
``error_rate=`` and ``fault_seed=`` set the initial network conditions (docs/faults.md).

``mockfeed_server`` serves in the test's own trio run, so its market time follows trio's clock: a test
that also takes pytest-trio's ``autojump_clock`` fixture runs on virtual time, and an hour of candles
streams over real loopback sockets in a fraction of that. Move market time explicitly with
``mockfeed_server.advance(...)``/``set_time(...)``/``set_speed(...)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from mockfeed.config import ServerConfig
from mockfeed.runtime.server import Server, serve
from mockfeed.threaded import ThreadedServer


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``mockfeed`` marker."""
    config.addinivalue_line(
        "markers", "mockfeed(**options): ServerConfig options for the mockfeed fixtures"
    )


def _config(request: pytest.FixtureRequest) -> ServerConfig:
    options: dict[str, Any] = {"port": 0, "ws_port": 0}
    marker = request.node.get_closest_marker("mockfeed")
    if marker is not None:
        options.update(marker.kwargs)
    return ServerConfig(**options)


@pytest.fixture
async def mockfeed_server(request: pytest.FixtureRequest) -> AsyncIterator[Server]:
    """A mockfeed server running in the trio test's own nursery."""
    async with serve(_config(request)) as server:
        yield server


@pytest.fixture
def mockfeed_threaded(request: pytest.FixtureRequest) -> Iterator[ThreadedServer]:
    """A mockfeed server running in a background thread, for asyncio or sync tests."""
    with ThreadedServer(_config(request)) as server:
        yield server
