"""Hypothesis strategies for hostile input: query parameters, JSON bodies and WebSocket messages.

The values are a mix of near-valid (every exchange's symbol and interval spellings, plausible times
and limits) and hostile (empty, huge, negative, NaN, unicode, control characters, non-numbers), so a
fuzzed request gets past a handler's first checks often enough to reach its deeper ones.
"""

from __future__ import annotations

import json
import string
from typing import Any

from hypothesis import strategies as st

NOW_MS = 1_795_638_339_901

#: Symbol spellings of every served exchange, a few unknown ones and case variants.
SYMBOLS = (
    "BTCUSDT", "ETHUSDT", "btcusdt", "BTC-USDT", "ETH-USDT", "BTC_USDT", "BTC/USDT", "XBTUSDT",
    "XBT/USDT", "XBTUSDTM", "ETHUSDTM", "BTC-USDT-SWAP", "BTC", "ETH", "SOL", "@0", "@1", "@999",
    "DOGEUSDT", "DOGE-USDT", "NOPE", "BTCUSD", "BTC-USDT-250328",
)
#: Interval spellings of every served exchange, and near misses.
INTERVALS = (
    "1s", "1m", "3m", "5m", "15m", "1h", "1H", "4h", "1d", "1D", "1w", "1W", "1M", "1", "5", "60",
    "240", "D", "W", "M", "1min", "5min", "1hour", "1day", "1week", "ONE_MINUTE", "FIVE_MINUTE",
    "ONE_DAY", "Min1", "Min60", "Hour4", "Day1", "Week1", "Month1", "10s", "2m", "7m", "1Hutc",
    "1Dutc", "30",
)
NUMBERS = (
    "0", "-1", "-5", "1", "5", "100", "1000", "1001", "1500", "10000", "1e3", "1.5", "NaN", "nan",
    "inf", "-inf", "Infinity", "0x10", "+1", " 1", "1 ", "１２", "٣", "1_000", "-0", "00001",
    str(NOW_MS), str(NOW_MS // 1000), str(NOW_MS * 1000), str(-NOW_MS), str(2**63), str(2**64),
    "9" * 40, str(NOW_MS + 10**12),
)
HOSTILE = (
    "", " ", "\x00", "%", "%00", "€", "😀", "\u202e", "null", "[]", "{}", "true", "'", '"', "\\",
    "../../etc/passwd", "\r\n", "a" * 5000, "<script>", "${jndi:x}",
)
#: Parameter names used by any served exchange's candle or listing routes.
KEYS = (
    "symbol", "symbols", "interval", "startTime", "endTime", "limit", "timeZone", "category",
    "start", "end", "instId", "instType", "instFamily", "uly", "bar", "after", "before",
    "granularity", "product_id", "product_type", "pair", "since", "type", "startAt", "endAt",
    "from", "to", "n", "currency_pair", "contract", "settle", "coin", "currency", "req", "ts",
    "status", "id", "page", "size", "count", "asset", "info", "aclass",
)

#: Member names of every served exchange's WebSocket requests.
WS_KEYS = (
    "method", "params", "id", "op", "args", "event", "channel", "channels", "topic", "type",
    "subscription", "name", "interval", "payload", "req_id", "privateChannel", "response", "ch",
    "product_ids", "pair", "symbol", "instId", "coin", "time", "ping", "pong", "action", "data",
    "sub", "unsub", "reqId", "token",
)

values: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(SYMBOLS + INTERVALS + NUMBERS + HOSTILE),
    st.text(max_size=24),
    st.integers().map(str),
    st.floats().map(str),
)
keys: st.SearchStrategy[str] = st.one_of(st.sampled_from(KEYS), st.text(max_size=10))
path_values: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(SYMBOLS + INTERVALS + ("usdt", "USDT", "btc", "BTC", "usd", "btc_usdt", "x")),
    st.text(alphabet=string.ascii_letters + string.digits + "-_.~%@:", min_size=1, max_size=12),
)


def json_values() -> st.SearchStrategy[Any]:
    """Arbitrary JSON documents whose object keys and strings lean toward exchange vocabulary."""
    base = st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), values,
        st.integers(min_value=NOW_MS - 10**9, max_value=NOW_MS + 10**9),
    )
    object_keys = st.one_of(st.sampled_from(KEYS + WS_KEYS), st.text(max_size=6))
    return st.recursive(
        base,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(object_keys, inner, max_size=5),
        max_leaves=12,
    )


def mutate_query(seed: dict[str, str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """A valid query (``seed``) with some parameters dropped, replaced, duplicated or added."""

    @st.composite
    def build(draw: st.DrawFn) -> list[tuple[str, str]]:
        out = [(k, v) for k, v in seed.items() if draw(st.integers(0, 4)) != 0]  # drop one in five
        for index in draw(st.lists(st.integers(0, max(0, len(out) - 1)), max_size=3)):
            if out:
                out[index] = (out[index][0], draw(values))
        for _ in range(draw(st.integers(0, 2))):
            if out and draw(st.booleans()):
                out.append((draw(st.sampled_from(out))[0], draw(values)))  # a duplicated key
            else:
                out.append((draw(keys), draw(values)))
        return draw(st.permutations(out))

    return build()


def mutate_json(seed: Any) -> st.SearchStrategy[Any]:
    """A JSON document like ``seed`` with members replaced by arbitrary JSON, or removed."""

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        return _mutate(draw, seed)

    return build()


def _mutate(draw: st.DrawFn, node: Any) -> Any:
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(json_values())
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if draw(st.integers(0, 6)) == 0:
                continue
            out[key] = _mutate(draw, value)
        if draw(st.integers(0, 4)) == 0:
            out[draw(st.sampled_from(KEYS + WS_KEYS))] = draw(json_values())
        return out
    if isinstance(node, list):
        return [_mutate(draw, item) for item in node if draw(st.integers(0, 6)) != 0]
    if choice <= 3:
        return draw(json_values())
    return node


ws_text: st.SearchStrategy[str] = st.one_of(
    json_values().map(json.dumps),
    st.text(max_size=64),
    st.sampled_from(("", "ping", "PING", "pong", "{", "[", "null", "1e999", '{"a":', "\x00", "{}",
                     "[]", '"x"', "0", "-1", "true")),
)
