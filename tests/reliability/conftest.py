"""One server of every available product, shared by the fuzzing modules, with its error records."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest

from mockfeed import ThreadedServer
from mockfeed.exchanges import available
from tests.reliability.support import ErrorLog, recording_errors


@attrs.frozen
class Everything:
    """A started :class:`ThreadedServer` of every available product and its ERROR records."""

    server: ThreadedServer
    errors: ErrorLog


@pytest.fixture(scope="session")
def everything() -> Iterator[Everything]:
    """Every available product on ephemeral ports of 127.0.0.1, in a background thread."""
    with recording_errors() as errors, ThreadedServer(
        exchanges=available(), port=0, ws_port=0
    ) as server:
        yield Everything(server, errors)
