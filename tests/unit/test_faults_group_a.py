"""Sans-IO tests of the native fault answers of Bybit, Kraken, Coinbase and KuCoin (plain values)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockfeed.exchanges.base import Close, FaultKind, RestResponse, Send
from mockfeed.exchanges.exchange_type import ExchangeType as E
from tests.support.faults import NOW, make_plugin, rest_request

BYBIT = (E.BYBIT_SPOT, E.BYBIT_PERPETUAL)
KUCOIN = (E.KUCOIN_SPOT, E.KUCOIN_PERPETUAL)
GROUP = (*BYBIT, E.KRAKEN_SPOT, E.COINBASE_ADVANCED_TRADE, *KUCOIN)


def bybit_body(code: int, msg: str) -> dict[str, Any]:
    """Bybit's v5 error envelope at ``NOW``."""
    return {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": NOW}


#: (product, kind) -> (HTTP status, content type, body: parsed JSON or raw bytes)
EXPECTED: dict[tuple[E, FaultKind], tuple[int, str, object]] = {
    **{
        (product, kind): answer
        for product in BYBIT
        for kind, answer in {
            FaultKind.SERVER_ERROR: (200, "application/json",
                                     bybit_body(10016, "System error. Please try again later.")),
            FaultKind.MAINTENANCE: (503, "text/plain", b"Service Unavailable"),
            FaultKind.TIMEOUT: (200, "application/json",
                                bybit_body(10016, "Request timeout, please try again later")),
        }.items()
    },
    (E.KRAKEN_SPOT, FaultKind.SERVER_ERROR): (500, "application/json", {"error": ["EGeneral:Internal error"]}),
    (E.KRAKEN_SPOT, FaultKind.MAINTENANCE): (200, "application/json", {"error": ["EService:Unavailable"]}),
    (E.KRAKEN_SPOT, FaultKind.TIMEOUT): (200, "application/json", {"error": ["EService:Busy"]}),
    (E.COINBASE_ADVANCED_TRADE, FaultKind.SERVER_ERROR): (
        500, "application/json",
        {"error": "INTERNAL", "error_details": "internal error", "message": "internal error"},
    ),
    (E.COINBASE_ADVANCED_TRADE, FaultKind.MAINTENANCE): (503, "text/plain", b"Service Unavailable"),
    (E.COINBASE_ADVANCED_TRADE, FaultKind.TIMEOUT): (504, "text/plain", b"upstream request timeout"),
    **{
        (product, kind): answer
        for product in KUCOIN
        for kind, answer in {
            FaultKind.SERVER_ERROR: (500, "application/json",
                                     {"code": "500000", "msg": "Internal Server Error."}),
            FaultKind.MAINTENANCE: (503, "text/plain", b"Service Unavailable"),
            FaultKind.TIMEOUT: (504, "text/plain", b"Gateway Timeout"),
        }.items()
    },
}  # fmt: skip


def body_of(response: RestResponse) -> object:
    """The JSON value of a JSON response, else the raw bytes."""
    return json.loads(response.body) if response.content_type == "application/json" else response.body


def test_every_product_and_kind_has_an_expectation() -> None:
    assert set(EXPECTED) == {(product, kind) for product in GROUP for kind in FaultKind}


@pytest.mark.parametrize(("product", "kind"), sorted(EXPECTED), ids=lambda v: str(v))
def test_fault_response_is_the_native_answer(product: E, kind: FaultKind) -> None:
    """Status, content type and body of each product's answer for each fault kind."""
    response = make_plugin(product).fault_response(kind, rest_request())
    status, content_type, body = EXPECTED[(product, kind)]
    assert (response.status, response.content_type, body_of(response)) == (status, content_type, body)


@pytest.mark.parametrize("product", GROUP, ids=str)
def test_fault_kind_given_as_its_string_value_gets_the_same_answer(product: E) -> None:
    """Callers that pass ``"maintenance"`` rather than the enum member get the same answer."""
    plugin, request = make_plugin(product), rest_request()
    for kind in FaultKind:
        assert plugin.fault_response(kind.value, request) == plugin.fault_response(kind, request)  # type: ignore[arg-type]


@pytest.mark.parametrize("product", GROUP, ids=str)
def test_server_error_is_the_plugins_internal_error(product: E) -> None:
    """An injected server error looks exactly like a real handler failure of the same product."""
    plugin, request = make_plugin(product), rest_request()
    assert plugin.fault_response(FaultKind.SERVER_ERROR, request) == plugin.internal_error(request)


@pytest.mark.parametrize("product", BYBIT, ids=str)
def test_bybit_envelope_carries_the_request_time(product: E) -> None:
    answer = make_plugin(product).fault_response(FaultKind.TIMEOUT, rest_request(now_ms=NOW + 5_000))
    assert json.loads(answer.body)["time"] == NOW + 5_000


def test_unknown_kind_falls_back_to_the_internal_error() -> None:
    for product in GROUP:
        plugin, request = make_plugin(product), rest_request()
        assert plugin.fault_response("meteor", request) == plugin.internal_error(request)  # type: ignore[arg-type]


# -- Coinbase: channels without updates close -----------------------------------------------------------


def coinbase_session(*channels: str) -> Any:
    """A Coinbase feed session opened at wall time NOW, subscribed to ``channels`` (BTC-USDT candles)."""
    session: Any = make_plugin(E.COINBASE_ADVANCED_TRADE).open_session("/", "")
    session.wall_ms = NOW
    session.on_open(NOW)
    for channel in channels:
        products = ["BTC-USDT"] if channel == "candles" else []
        session.on_text(json.dumps({"type": "subscribe", "channel": channel, "product_ids": products}), NOW)
    return session


def tick_at(session: Any, wall_ms: int) -> list[Any]:
    session.wall_ms = wall_ms
    actions: list[Any] = session.on_tick(NOW)
    return actions


def test_coinbase_closes_a_channel_sent_nothing_for_60_s() -> None:
    """Measured from the last message the connection got (here the ack and snapshot), once."""
    session = coinbase_session("candles")
    assert tick_at(session, NOW + 59_999) == []
    assert tick_at(session, NOW + 60_000) == [Close(1000, "no updates")]
    assert tick_at(session, NOW + 61_000) == []


def test_coinbase_pushes_keep_a_channel_open() -> None:
    """A push (its personalized copy) counts as an update from the next tick on."""
    session = coinbase_session("candles")
    session.personalize('{"channel":"candles","client_id":"",' + '"sequence_num":0,' + '"events":[]}')
    assert tick_at(session, NOW + 30_000) == []
    assert tick_at(session, NOW + 89_999) == []
    assert tick_at(session, NOW + 90_000) == [Close(1000, "no updates")]


def test_coinbase_heartbeats_keep_a_quiet_channel_open() -> None:
    """Subscribed to heartbeats, a connection gets one a second and is never cut for silence."""
    session = coinbase_session("candles", "heartbeats")
    for second in range(1, 301):
        [beat] = tick_at(session, NOW + second * 1000)
        assert isinstance(beat, Send) and json.loads(beat.message)["channel"] == "heartbeats"


def test_coinbase_idle_limit_is_a_plugin_attribute() -> None:
    session = coinbase_session("candles")
    session.plugin.channel_idle_s = 2.0
    assert tick_at(session, NOW + 1_000) == []
    assert tick_at(session, NOW + 2_000) == [Close(1000, "no updates")]
