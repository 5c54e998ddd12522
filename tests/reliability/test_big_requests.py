"""The biggest requests a client may send (~1 MiB, the message limit) get bounded answers.

Sans-IO, on each product's own session: every seed request of :mod:`tests.reliability.products`
grown to just under 1 MiB (see :mod:`tests.reliability.bigmessages`) must not raise, and the
replies it produces must stay within a few times its own size, so one message cannot make the
server build megabytes of output (or spend the CPU that takes). How long the worst of them stalls
a live server is measured by ``python -m benchmarks.stress --only big``.
"""

from __future__ import annotations

import json

import pytest

from mockfeed.exchanges import ExchangeType, available, create_plugin
from mockfeed.exchanges.base import RestRequest, Send, WsReject, WsSession
from mockfeed.market import DEFAULT_PAIRS, MarketModel, pair_spec
from tests.reliability.bigmessages import MODES, big_text
from tests.reliability.products import WS_SEEDS
from tests.reliability.strategies import NOW_MS

AMPLIFICATION = 4  # reply bytes allowed per request byte ...
ALLOWANCE = 64 * 1024  # ... plus this, for small requests with legitimately larger answers (listings)
SEEDED = [e for e in available() if e.value in WS_SEEDS]


def _session(product: ExchangeType) -> WsSession:
    pairs = [pair_spec(p) for p in DEFAULT_PAIRS]
    plugin = create_plugin(product, MarketModel(pairs, seed=0), pairs)
    plugin.set_endpoints("http://127.0.0.1:1", "ws://127.0.0.1:2")
    seed = WS_SEEDS[product.value]
    query = ""
    if seed.bullet is not None:
        answer = plugin.routes()[("POST", seed.bullet)](RestRequest("POST", seed.bullet, (), b"", NOW_MS))
        query = "token=" + json.loads(answer.body)["data"]["token"]
    session = plugin.open_session(seed.path, query)
    assert not isinstance(session, WsReject)
    session.on_open(NOW_MS)
    return session


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("product", SEEDED, ids=str)
def test_a_1mib_request_gets_a_bounded_answer(product: ExchangeType, mode: str) -> None:
    """Each seed grown to ~1 MiB: no exception, replies at most 4x the request's size (+64 KiB)."""
    for message in WS_SEEDS[product.value].messages:
        text = big_text(message, mode)
        actions = _session(product).on_text(text, NOW_MS)
        replied = sum(len(a.message) for a in actions if isinstance(a, Send))
        assert replied <= AMPLIFICATION * len(text) + ALLOWANCE, (message, replied, len(text))
