"""The sans-IO limiters and the exchanges' limit tables, with plain values (no sockets, no trio)."""

from __future__ import annotations

import collections
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockfeed.exchanges.base import RestRequest, RestResponse
from mockfeed.exchanges.binance import BinancePerpetual, BinanceSpot
from mockfeed.exchanges.binance.limits import BAN_DURATIONS_MS, BAN_STRIKES
from mockfeed.exchanges.hyperliquid.limits import weight as hyperliquid_weight
from mockfeed.exchanges.kraken.limits import KrakenLimits
from mockfeed.exchanges.mexc.limits import mexc_limits
from mockfeed.exchanges.ratelimit import Bans, FixedWindow, GroupLimits, Rule, SlidingWindow, retry_after_s
from mockfeed.market import MarketModel, pair_spec

Step = tuple[int, int, int]  # (key, ms since the previous request, cost)

steps = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 700), st.integers(1, 4)), max_size=200
)
limits = st.integers(1, 12)
windows = st.integers(1, 2_000)


def run(limiter: FixedWindow | SlidingWindow, plan: list[Step]) -> list[tuple[int, int, int, bool]]:
    """(key, time, cost, admitted) for each step of ``plan``, times starting at 10**6."""
    now = 10**6
    out = []
    for key, gap, cost in plan:
        now += gap
        out.append((key, now, cost, limiter.hit(key, now, cost).admitted))
    return out


# -- fixed windows -----------------------------------------------------------------------------------


@settings(max_examples=300)
@given(limits, windows, steps)
def test_fixed_never_admits_more_than_the_limit_per_window(limit: int, window: int, plan: list[Step]) -> None:
    """Per key and aligned window, admitted cost never exceeds the limit."""
    admitted: collections.Counter[tuple[int, int]] = collections.Counter()
    for key, now, cost, ok in run(FixedWindow(limit, window), plan):
        if ok:
            admitted[key, now // window] += cost
    assert all(total <= limit for total in admitted.values())


@settings(max_examples=300)
@given(limits, windows, steps)
def test_fixed_refuses_only_when_full_and_counts_only_admissions(
    limit: int, window: int, plan: list[Step]
) -> None:
    """A request is refused exactly when its cost no longer fits; a refusal counts nothing."""
    limiter = FixedWindow(limit, window)
    used: collections.Counter[tuple[int, int]] = collections.Counter()
    now = 0
    for key, gap, cost in plan:
        now += gap
        decision = limiter.hit(key, now, cost)
        fits = used[key, now // window] + cost <= limit
        assert decision.admitted == fits
        if fits:
            used[key, now // window] += cost
        assert decision.used == limiter.used(key, now) == used[key, now // window]
        assert 0 < decision.reset_ms <= window
        assert decision.retry_after_ms == (0 if fits else decision.reset_ms)


@given(limits, windows, steps)
def test_fixed_admits_again_after_the_window(limit: int, window: int, plan: list[Step]) -> None:
    """Whatever happened before, the next window admits any cost up to the limit."""
    limiter = FixedWindow(limit, window)
    run(limiter, plan)
    later = 10**6 + sum(gap for _, gap, _ in plan) + window
    assert all(limiter.hit(key, later, limit).admitted for key in range(4))


def test_fixed_window_exact_threshold() -> None:
    """6000 per minute: the 6000th unit fits, the 6001st waits for the next minute."""
    limiter = FixedWindow(6000, 60_000)
    for i in range(3000):
        assert limiter.hit("ip", 5_000 + i, 2).admitted
    refused = limiter.hit("ip", 9_000, 1)
    assert (refused.admitted, refused.used, refused.retry_after_ms) == (False, 6000, 51_000)
    assert limiter.hit("other", 9_000, 6000).admitted
    assert limiter.hit("ip", 60_000, 1).used == 1


def test_fixed_charge_counts_over_the_limit() -> None:
    """charge() counts whatever the limit (usage is reported even when not enforced)."""
    limiter = FixedWindow(3, 1000)
    assert [limiter.charge("ip", 0, 2) for _ in range(3)] == [2, 4, 6]
    assert not limiter.peek("ip", 999).admitted
    assert limiter.used("ip", 1000) == 0


def test_fixed_memory_is_bounded() -> None:
    """Keys of past windows are forgotten; live keys never exceed max_keys."""
    limiter = FixedWindow(5, 1000, max_keys=100)
    for i in range(1000):
        limiter.hit(f"10.0.{i // 256}.{i % 256}", 0)
        assert len(limiter) <= 100
    limiter.hit("late", 1000)
    assert len(limiter) == 1


# -- sliding windows ---------------------------------------------------------------------------------


@settings(max_examples=300)
@given(limits, windows, steps)
def test_sliding_never_admits_more_than_the_limit_in_any_window(
    limit: int, window: int, plan: list[Step]
) -> None:
    """For every admitted request, the admitted cost of its key in the window ending then fits."""
    history = run(SlidingWindow(limit, window), plan)
    for key, now, _, ok in history:
        if ok:
            recent = sum(c for k, t, c, a in history if a and k == key and now - window < t <= now)
            assert recent <= limit


@settings(max_examples=300)
@given(limits, windows, steps)
def test_sliding_admits_whenever_it_fits(limit: int, window: int, plan: list[Step]) -> None:
    """No needless refusal: a request is refused only if its cost does not fit the last window."""
    history = run(SlidingWindow(limit, window), plan)
    for i, (key, now, cost, ok) in enumerate(history):
        recent = sum(c for k, t, c, a in history[:i] if a and k == key and now - window < t <= now)
        assert ok == (recent + cost <= limit)


@settings(max_examples=300)
@given(limits, windows, steps, st.integers(1, 4))
def test_sliding_retry_after_is_exact(limit: int, window: int, plan: list[Step], cost: int) -> None:
    """A refused request fits exactly ``retry_after_ms`` later, not a millisecond earlier."""
    limiter = SlidingWindow(limit, window)
    run(limiter, plan)
    now = 10**6 + sum(gap for _, gap, _ in plan)
    decision = limiter.peek(0, now, cost)
    if decision.admitted or cost > limit:
        return
    wait = decision.retry_after_ms
    assert 0 < wait <= window
    assert not limiter.peek(0, now + wait - 1, cost).admitted
    assert limiter.peek(0, now + wait, cost).admitted


@given(limits, windows, steps)
def test_sliding_admits_again_after_the_window(limit: int, window: int, plan: list[Step]) -> None:
    """A full window later, any cost up to the limit is admitted again."""
    limiter = SlidingWindow(limit, window)
    run(limiter, plan)
    later = 10**6 + sum(gap for _, gap, _ in plan) + window
    assert all(limiter.hit(key, later, limit).admitted for key in range(4))


def test_sliding_window_exact_threshold() -> None:
    """40 requests per 2 s: the 41st within 2 s is refused until the first one is 2 s old."""
    limiter = SlidingWindow(40, 2000)
    assert all(limiter.hit("ip", 100 + i).admitted for i in range(40))
    refused = limiter.hit("ip", 1500)
    assert (refused.admitted, refused.used, refused.retry_after_ms) == (False, 40, 600)
    assert not limiter.hit("ip", 2099).admitted
    assert limiter.hit("ip", 2100).admitted


def test_sliding_memory_is_bounded() -> None:
    """Idle keys are forgotten once their log is a window old; live keys never exceed max_keys."""
    limiter = SlidingWindow(5, 1000, max_keys=50)
    for i in range(500):
        limiter.hit(i, i)
        assert len(limiter) <= 50
    limiter.hit("late", 10_000)
    assert len(limiter) == 1


# -- bans --------------------------------------------------------------------------------------------


def test_bans_escalate_and_are_forgotten() -> None:
    """The 3rd strike in a row bans; each repeat bans longer, up to the last duration; offences fade."""
    bans = Bans(3, (100, 200, 400), forget_ms=1000)
    assert bans.strike("ip", 0) is None
    bans.admitted("ip")  # an admitted request starts the strikes over
    assert bans.strike("ip", 1) is None and bans.strike("ip", 2) is None
    first = bans.strike("ip", 3)
    assert first is not None and (first.until_ms, first.offence) == (103, 0)
    assert bans.banned("ip", 102) == first and bans.banned("ip", 103) is None
    until = []
    now = 200
    for _ in range(4):
        ban = [bans.strike("ip", now) for _ in range(3)][-1]
        assert ban is not None
        until.append(ban.until_ms - now)
        now = ban.until_ms + 10
    assert until == [200, 400, 400, 400]
    ban = [bans.strike("ip", now + 1000) for _ in range(3)][-1]
    assert ban is not None and ban.offence == 0


def test_bans_memory_is_bounded() -> None:
    """Strikes and bans of many clients stay within max_keys each."""
    bans = Bans(1, (10,), forget_ms=10, max_keys=20)
    for i in range(200):
        bans.strike(i, i)
        assert len(bans) <= 40


def test_retry_after_rounds_up_to_whole_seconds() -> None:
    """Retry-After is whole seconds, rounded up, never 0."""
    assert [retry_after_s(ms) for ms in (0, 1, 1000, 1001, 59_999)] == ["1", "1", "1", "2", "60"]


def test_binance_ban_schedule_doubles_from_two_minutes_to_three_days() -> None:
    """2, 4, 8 … minutes, capped at 3 days."""
    minutes = [ms // 60_000 for ms in BAN_DURATIONS_MS]
    assert minutes[:4] == [2, 4, 8, 16] and minutes[-1] == 3 * 24 * 60
    assert minutes == sorted(minutes)


# -- Binance tables through the plugin ---------------------------------------------------------------

PAIRS = (pair_spec("BTC-USDT"),)
MODEL = MarketModel(PAIRS, seed=1)
NOW = 1_767_225_600_000


def request(path: str, *query: tuple[str, str], wall: int = 0, client: str = "10.0.0.1") -> RestRequest:
    """A GET as the runtime hands it over (market time NOW, wall time ``wall``)."""
    return RestRequest("GET", path, query, b"", NOW + wall, client, wall_ms=wall)


def answer(plugin: BinanceSpot | BinancePerpetual, req: RestRequest) -> RestResponse:
    """What the runtime answers with limits on: the refusal, else the handler's answer."""
    refusal = plugin.limit_request(req)
    return refusal if refusal is not None else plugin.routes()["GET", req.path](req)


def headers(response: RestResponse) -> dict[str, str]:
    """The response headers as a dict."""
    return dict(response.headers)


def body(response: RestResponse) -> Any:
    """The decoded JSON body."""
    return json.loads(response.body)


def test_binance_spot_refuses_exactly_above_6000_weight() -> None:
    """300 exchangeInfo (weight 20) fit the minute; the next request, even weight 1, gets 429."""
    spot = BinanceSpot(MODEL, PAIRS)
    for i in range(300):
        response = answer(spot, request("/api/v3/exchangeInfo", wall=i))
        assert response.status == 200
        assert headers(response)["X-MBX-USED-WEIGHT-1M"] == str(20 * (i + 1))
    refused = answer(spot, request("/api/v3/ping", wall=30_000))
    assert refused.status == 429
    assert body(refused) == {
        "code": -1003,
        "msg": "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
    }
    assert headers(refused) == {"X-MBX-USED-WEIGHT-1M": "6000", "Retry-After": "30"}
    assert answer(spot, request("/api/v3/ping", wall=30_000, client="10.0.0.2")).status == 200
    assert headers(answer(spot, request("/api/v3/ping", wall=60_000)))["X-MBX-USED-WEIGHT-1M"] == "1"


def test_binance_keeps_sending_after_429_gets_banned_with_418() -> None:
    """The 10th refusal in a row is a 2-minute ban (418, Retry-After 120), then 4 minutes."""
    spot = BinanceSpot(MODEL, PAIRS)
    for i in range(6000):
        answer(spot, request("/api/v3/time", wall=i))
    statuses = [answer(spot, request("/api/v3/time", wall=10_000)).status for _ in range(BAN_STRIKES)]
    assert statuses == [429] * (BAN_STRIKES - 1) + [418]
    banned = answer(spot, request("/api/v3/time", wall=70_000))  # a new minute, still banned
    assert banned.status == 418
    assert headers(banned)["Retry-After"] == "60"
    assert body(banned)["code"] == -1003
    assert body(banned)["msg"].startswith(f"Way too much request weight used; IP banned until {NOW + 130_000}.")
    assert answer(spot, request("/api/v3/time", wall=130_000)).status == 200
    for i in range(5999):
        answer(spot, request("/api/v3/time", wall=130_000 + i))
    again = [answer(spot, request("/api/v3/time", wall=150_000)) for _ in range(BAN_STRIKES)][-1]
    assert (again.status, headers(again)["Retry-After"]) == (418, "240")


@pytest.mark.parametrize(("limit", "weight"), [("99", 1), ("100", 2), (None, 5), ("1000", 5), ("1001", 10)])
def test_binance_futures_klines_weight_decides_the_threshold(limit: str | None, weight: int) -> None:
    """USDⓈ-M: 2400 per minute; a klines request is refused iff its limit-based weight no longer fits."""
    perp = BinancePerpetual(MODEL, PAIRS)
    for i in range(2400 - weight):
        assert answer(perp, request("/fapi/v1/time", wall=i)).status == 200
    query = [("symbol", "BTCUSDT"), ("interval", "1m")] + ([("limit", limit)] if limit else [])
    assert perp.limit_request(request("/fapi/v1/klines", *query, wall=5000)) is None
    answer(perp, request("/fapi/v1/time", wall=5000))
    refused = perp.limit_request(request("/fapi/v1/klines", *query, wall=5000))
    assert refused is not None and refused.status == 429
    assert "current limit is 2400 request weight" in body(refused)["msg"]


def test_group_limits_count_each_group_and_client_on_its_own() -> None:
    """Two endpoint groups never share a count; nor do two clients of one group."""
    groups = GroupLimits({"candles": Rule(2, 1000), "time": Rule(1, 1000, sliding=False)})
    assert [groups.hit("a", "candles", 0).admitted for _ in range(3)] == [True, True, False]
    assert groups.hit("a", "time", 0).admitted and not groups.hit("a", "time", 999).admitted
    assert groups.hit("b", "candles", 0).admitted
    assert groups.hit("a", "time", 1000).admitted  # fixed: a new window at 1000
    assert not groups.hit("a", "candles", 999).admitted and groups.hit("a", "candles", 1000).admitted


# -- other exchanges' tables -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "weight"),
    [
        (b'{"type":"meta"}', 20),
        (b'{"type":"l2Book","coin":"BTC"}', 2),
        (b'{"type":"userRole","user":"0x0"}', 60),
        (b"not json", 20),
        (b'{"type":"candleSnapshot","req":{"coin":"BTC","interval":"1m","startTime":0,"endTime":3540000}}', 21),
        (b'{"type":"candleSnapshot","req":{"coin":"BTC","interval":"1m","startTime":0,"endTime":3480000}}', 20),
        (b'{"type":"candleSnapshot","req":{"coin":"BTC","interval":"1m","startTime":0}}', 20 + 5000 // 60),
        (b'{"type":"candleSnapshot","req":{"coin":"BTC","interval":"0m","startTime":0}}', 20),
    ],
)
def test_hyperliquid_weights(body: bytes, weight: int) -> None:
    """Documented weights; candleSnapshot adds one per 60 candles of its window (at most 5000)."""
    assert hyperliquid_weight(body, 10**12) == weight


def test_kraken_counts_ohlc_per_pair() -> None:
    """OHLC is throttled per pair: a sixth XBTUSD request is refused, ETHUSD still passes."""
    limits = KrakenLimits()

    def ohlc(pair: str) -> RestResponse | None:
        return limits.check(RestRequest("GET", "/0/public/OHLC", (("pair", pair),), b"", NOW, "1.1.1.1"))

    assert [ohlc("XBTUSD") for _ in range(5)] == [None] * 5
    assert ohlc("XBTUSD") is not None and ohlc("ETHUSD") is None


def test_mexc_contract_klines_of_every_symbol_share_one_endpoint() -> None:
    """/kline/{symbol} is one endpoint: 20 requests over two symbols fill it."""
    limits = mexc_limits()
    for i in range(20):
        path = f"/api/v1/contract/kline/{'BTC' if i % 2 else 'ETH'}_USDT"
        assert limits.check(RestRequest("GET", path, (), b"", NOW)) is None
    refused = limits.check(RestRequest("GET", "/api/v1/contract/kline/SOL_USDT", (), b"", NOW))
    assert refused is not None and body(refused)["code"] == 510
    assert limits.check(RestRequest("GET", "/api/v1/contract/ping", (), b"", NOW)) is None
