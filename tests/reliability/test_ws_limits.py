"""WebSocket limits: oversized messages (close 1009), floods, protocol violations; others untouched."""

from __future__ import annotations

import json
import os
import struct

import pytest
import trio
from trio_websocket import ConnectionClosed

from mockfeed.exchanges import ExchangeType, available
from tests.reliability.conftest import Everything
from tests.reliability.products import WS_SEEDS
from tests.reliability.support import raw_ws_exchange
from tests.reliability.wsclient import alive, connect, resource

PRODUCTS = available()
#: trio-websocket's default ``max_message_size`` (1 MiB), which the server runs with.
MAX_MESSAGE = 2**20
FLOOD = 1000  # messages sent without reading a single reply


@pytest.mark.parametrize("product", PRODUCTS, ids=str)
def test_oversized_message_closes_1009_and_spares_the_others(
    everything: Everything, product: ExchangeType
) -> None:
    """A message above 1 MiB closes that connection with 1009; a bystander still answers pings."""
    port = everything.server[product].ws_port
    path = resource(everything.server, product)

    async def scenario() -> int:
        with trio.fail_after(30):
            async with connect(port, path) as bystander, connect(port, path) as offender:
                await offender.send_message("x" * (MAX_MESSAGE + 1))
                with pytest.raises(ConnectionClosed) as closed:
                    while True:
                        await offender.get_message()
                assert await alive(bystander)
                return closed.value.reason.code

    assert trio.run(scenario) == 1009
    assert everything.errors.take() == []


@pytest.mark.parametrize("product", PRODUCTS, ids=str)
def test_a_flood_without_reading_leaves_the_others_served(
    everything: Everything, product: ExchangeType
) -> None:
    """1,000 requests sent as fast as possible, no reply read: a bystander still answers in time."""
    port = everything.server[product].ws_port
    path = resource(everything.server, product)
    seed = WS_SEEDS.get(product.value)
    request = json.dumps(seed.messages[0]) if seed is not None else "{}"

    async def scenario() -> None:
        with trio.fail_after(60):
            async with connect(port, path) as bystander:
                async with connect(port, path, queue=1) as flooder:
                    with trio.move_on_after(20):
                        for _ in range(FLOOD):
                            await flooder.send_message(request)
                    assert await alive(bystander)
                    with trio.move_on_after(5):
                        await flooder.aclose()
                assert await alive(bystander)

    trio.run(scenario)
    assert everything.errors.take() == []


def _frame(opcode: int, payload: bytes, *, masked: bool = True, fin: bool = True, rsv: int = 0) -> bytes:
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    size = len(payload)
    mask_bit = 0x80 if masked else 0
    if size < 126:
        head += bytes([mask_bit | size])
    else:
        head += bytes([mask_bit | 126]) + struct.pack(">H", size)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


VIOLATIONS = {
    "unmasked client frame": _frame(1, b'{"method":"LIST_SUBSCRIPTIONS","id":1}', masked=False),
    "invalid UTF-8 in a text frame": _frame(1, b"\xff\xfe\xfd"),
    "reserved bits set": _frame(1, b"{}", rsv=0x40),
    "control frame above 125 bytes": _frame(9, b"x" * 200),
    "fragmented control frame": _frame(9, b"x", fin=False),
    "unknown opcode": _frame(3, b"x"),
    "continuation without a start": _frame(0, b"x"),
    "close with an invalid code": _frame(8, struct.pack(">H", 999)),
    "close with a one-byte payload": _frame(8, b"\x03"),
}


@pytest.mark.parametrize("violation", VIOLATIONS, ids=str)
def test_protocol_violations_end_only_that_connection(everything: Everything, violation: str) -> None:
    """Frames that break RFC 6455 end the offending connection at once; a bystander is untouched."""
    product = PRODUCTS[0]
    port = everything.server[product].ws_port
    path = resource(everything.server, product)

    async def scenario() -> None:
        with trio.fail_after(30):
            async with connect(port, path) as bystander:
                outcome = await raw_ws_exchange(port, path, VIOLATIONS[violation], wait=10)
                assert outcome.data.startswith(b"HTTP/1.1 101")
                assert outcome.closed and outcome.seconds < 5
                assert await alive(bystander)

    trio.run(scenario)
    assert everything.errors.take() == []
