"""Hostile WebSocket messages and handshakes for every available product, over real sockets.

The property: malformed JSON, JSON of the wrong type, unknown methods, unknown symbols or
intervals, binary frames where text is expected, each gets the exchange's own reply or close; never
close code 1011 (a session that raised), an abnormal drop, traceback text, or a server-side error.
"""

from __future__ import annotations

import json
import string

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trio_websocket import ConnectionClosed, HandshakeError

from mockfeed.exchanges import ExchangeType, available
from tests.reliability.conftest import Everything
from tests.reliability.products import WS_SEEDS
from tests.reliability.strategies import mutate_json, ws_text
from tests.reliability.support import assert_no_traceback
from tests.reliability.wsclient import Message, alive, connect, converse, resource

PRODUCTS = available()
FUZZ = settings(
    max_examples=15, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: Codes that mean something went wrong server-side: abnormal drop, internal error.
BROKEN = {1006, 1011}


def messages(product: ExchangeType) -> st.SearchStrategy[Message]:
    """Text and binary frames: mutated valid requests when the product has seeds, and garbage."""
    garbage: st.SearchStrategy[Message] = st.one_of(ws_text, st.binary(max_size=64))
    seed = WS_SEEDS.get(product.value)
    if seed is None:
        return garbage
    mutated = st.sampled_from(seed.messages).flatmap(mutate_json).map(json.dumps)
    as_binary = mutated.map(str.encode)
    return st.one_of(mutated, mutated, as_binary, garbage)


def assert_clean(product: ExchangeType, talk_replies: list[Message], code: int | None,
                 everything: Everything) -> None:
    """No broken close, no traceback in any reply, nothing logged as an error server-side."""
    assert code not in BROKEN, f"{product}: closed with {code}"
    for reply in talk_replies:
        assert_no_traceback(reply if isinstance(reply, bytes) else reply.encode())
    assert everything.errors.take() == []


@pytest.mark.parametrize("product", PRODUCTS, ids=str)
@FUZZ
@given(data=st.data())
def test_ws_hostile_messages_get_native_answers(
    everything: Everything, product: ExchangeType, data: st.DataObject
) -> None:
    """A few hostile messages on one connection: native replies or close, never a failure."""
    sent = data.draw(st.lists(messages(product), min_size=1, max_size=4), label="messages")
    port = everything.server[product].ws_port
    talk = trio.run(converse, port, resource(everything.server, product), sent)
    assert_clean(product, talk.replies, talk.close_code, everything)


_resource_chars = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@/?%"


@pytest.mark.parametrize("product", PRODUCTS, ids=str)
@settings(max_examples=10, deadline=None, database=None)
@given(path=st.text(_resource_chars, max_size=40), query=st.text(_resource_chars, max_size=40))
def test_ws_handshake_on_any_path_is_accepted_or_refused(
    everything: Everything, product: ExchangeType, path: str, query: str
) -> None:
    """Any resource: a 101 or an HTTP refusal, and the listener keeps accepting afterwards."""
    port = everything.server[product].ws_port

    async def attempt() -> None:
        with trio.fail_after(15):
            try:
                async with connect(port, f"/{path}?{query}") as ws:
                    await ws.aclose()
            except (HandshakeError, ConnectionClosed):
                pass
            async with connect(port, resource(everything.server, product)) as ws:
                assert await alive(ws)

    trio.run(attempt)
    assert everything.errors.take() == []
