"""What the fuzzers know of each product: a valid candle request and valid WebSocket requests.

A product missing here is still fuzzed (every route with generic parameters, its WebSocket on the
first accepted path of :data:`WS_PATH_CANDIDATES` with generic messages); a seed only makes the
fuzzing reach deeper, by mutating a request that the product accepts.
"""

from __future__ import annotations

from typing import Any

import attrs

from tests.reliability.strategies import NOW_MS

_HOUR_AGO = NOW_MS - 3_600_000


@attrs.frozen
class RestSeed:
    """A valid request: ``params`` is the query of a GET, or the JSON body of a POST."""

    method: str
    path: str
    params: Any


@attrs.frozen
class WsSeed:
    """A stream path, whether it needs a KuCoin-style bullet token, and valid requests."""

    path: str
    messages: tuple[Any, ...]
    bullet: str | None = None  # REST path (POST) handing out the connection token


REST_SEEDS: dict[str, RestSeed] = {
    "binance_spot": RestSeed("GET", "/api/v3/klines", {
        "symbol": "BTCUSDT", "interval": "1m", "limit": "5", "startTime": str(_HOUR_AGO),
        "endTime": str(NOW_MS), "timeZone": "8"}),
    "binance_perpetual": RestSeed("GET", "/fapi/v1/klines", {
        "symbol": "BTCUSDT", "interval": "1m", "limit": "5", "startTime": str(_HOUR_AGO)}),
    "bybit_spot": RestSeed("GET", "/v5/market/kline", {
        "category": "spot", "symbol": "BTCUSDT", "interval": "1", "limit": "5",
        "start": str(_HOUR_AGO)}),
    "bybit_perpetual": RestSeed("GET", "/v5/market/kline", {
        "category": "linear", "symbol": "BTCUSDT", "interval": "1", "limit": "5",
        "end": str(NOW_MS)}),
    "coinbase_advanced_trade": RestSeed(
        "GET", "/api/v3/brokerage/market/products/BTC-USDT/candles", {
            "granularity": "ONE_MINUTE", "start": str(_HOUR_AGO // 1000),
            "end": str(NOW_MS // 1000), "limit": "5"}),
    "kraken_spot": RestSeed("GET", "/0/public/OHLC", {
        "pair": "XBTUSDT", "interval": "1", "since": str(_HOUR_AGO // 1000)}),
    "kucoin_spot": RestSeed("GET", "/api/v1/market/candles", {
        "symbol": "BTC-USDT", "type": "1min", "startAt": str(_HOUR_AGO // 1000),
        "endAt": str(NOW_MS // 1000)}),
    "kucoin_perpetual": RestSeed("GET", "/api/v1/kline/query", {
        "symbol": "XBTUSDTM", "granularity": "1", "from": str(_HOUR_AGO), "to": str(NOW_MS)}),
    "okx_spot": RestSeed("GET", "/api/v5/market/candles", {
        "instId": "BTC-USDT", "bar": "1m", "limit": "5", "after": str(NOW_MS)}),
    "okx_perpetual": RestSeed("GET", "/api/v5/market/history-candles", {
        "instId": "BTC-USDT-SWAP", "bar": "1H", "limit": "5", "before": str(_HOUR_AGO)}),
    "gate_io_spot": RestSeed("GET", "/api/v4/spot/candlesticks", {
        "currency_pair": "BTC_USDT", "interval": "1m", "limit": "5"}),
    "gate_io_perpetual": RestSeed("GET", "/api/v4/futures/usdt/candlesticks", {
        "contract": "BTC_USDT", "interval": "1m", "from": str(_HOUR_AGO // 1000),
        "to": str(NOW_MS // 1000)}),
    "mexc_spot": RestSeed("GET", "/api/v3/klines", {
        "symbol": "BTCUSDT", "interval": "1m", "limit": "5"}),
    "mexc_perpetual": RestSeed("GET", "/api/v1/contract/kline/BTC_USDT", {
        "interval": "Min1", "start": str(_HOUR_AGO // 1000)}),
    "hyperliquid_spot": RestSeed("POST", "/info", {
        "type": "candleSnapshot",
        "req": {"coin": "@0", "interval": "1m", "startTime": _HOUR_AGO, "endTime": NOW_MS}}),
    "hyperliquid_perpetual": RestSeed("POST", "/info", {
        "type": "candleSnapshot",
        "req": {"coin": "BTC", "interval": "1m", "startTime": _HOUR_AGO, "endTime": NOW_MS}}),
    "ascend_ex_spot": RestSeed("GET", "/api/pro/v1/barhist", {
        "symbol": "BTC/USDT", "interval": "1", "n": "5", "to": str(NOW_MS)}),
}

WS_SEEDS: dict[str, WsSeed] = {
    "binance_spot": WsSeed("/ws", (
        {"method": "SUBSCRIBE", "params": ["btcusdt@kline_1m"], "id": 1},
        {"method": "LIST_SUBSCRIPTIONS", "id": 2},
        {"method": "SET_PROPERTY", "params": ["combined", True], "id": 3},
    )),
    "binance_perpetual": WsSeed("/market/ws", (
        {"method": "SUBSCRIBE", "params": ["btcusdt@kline_1m"], "id": 1},
        {"method": "UNSUBSCRIBE", "params": ["btcusdt@kline_1m"], "id": 2},
    )),
    "bybit_spot": WsSeed("/v5/public/spot", (
        {"req_id": "1", "op": "subscribe", "args": ["kline.1.BTCUSDT"]},
        {"req_id": "2", "op": "ping"},
    )),
    "bybit_perpetual": WsSeed("/v5/public/linear", (
        {"req_id": "1", "op": "subscribe", "args": ["kline.1.BTCUSDT"]},
        {"op": "unsubscribe", "args": ["kline.1.BTCUSDT"]},
    )),
    "coinbase_advanced_trade": WsSeed("/", (
        {"type": "subscribe", "channel": "candles", "product_ids": ["BTC-USDT"]},
        {"type": "subscribe", "channel": "heartbeats"},
    )),
    "kraken_spot": WsSeed("/v2", (
        {"method": "subscribe", "params": {"channel": "ohlc", "symbol": ["BTC/USDT"], "interval": 1},
         "req_id": 7},
        {"method": "ping", "req_id": 101},
    )),
    "kucoin_spot": WsSeed("/", (
        {"id": "1", "type": "subscribe", "topic": "/market/candles:BTC-USDT_1min", "response": True},
        {"id": "2", "type": "ping"},
    ), bullet="/api/v1/bullet-public"),
    "kucoin_perpetual": WsSeed("/", (
        {"id": "1", "type": "subscribe", "topic": "/contractMarket/limitCandle:XBTUSDTM_1min",
         "response": True},
        {"id": "2", "type": "unsubscribe", "topic": "/contractMarket/limitCandle:XBTUSDTM_1min"},
    ), bullet="/api/v1/bullet-public"),
    "okx_spot": WsSeed("/ws/v5/business", (
        {"id": "1", "op": "subscribe", "args": [{"channel": "candle1m", "instId": "BTC-USDT"}]},
        {"op": "unsubscribe", "args": [{"channel": "candle1m", "instId": "BTC-USDT"}]},
    )),
    "okx_perpetual": WsSeed("/ws/v5/business", (
        {"id": "1", "op": "subscribe", "args": [{"channel": "candle1H", "instId": "BTC-USDT-SWAP"}]},
    )),
    "gate_io_spot": WsSeed("/ws/v4/", (
        {"time": NOW_MS // 1000, "id": 7, "channel": "spot.candlesticks", "event": "subscribe",
         "payload": ["1m", "BTC_USDT"]},
        {"time": NOW_MS // 1000, "channel": "spot.ping"},
    )),
    "gate_io_perpetual": WsSeed("/v4/ws/usdt", (
        {"time": NOW_MS // 1000, "id": 7, "channel": "futures.candlesticks", "event": "subscribe",
         "payload": ["1m", "BTC_USDT"]},
        {"time": NOW_MS // 1000, "channel": "futures.ping"},
    )),
    "mexc_spot": WsSeed("/ws", (
        {"method": "SUBSCRIPTION", "params": ["spot@public.kline.v3.api.pb@BTCUSDT@Min1"], "id": 1},
        {"method": "PING"},
    )),
    "mexc_perpetual": WsSeed("/edge", (
        {"method": "sub.kline", "param": {"symbol": "BTC_USDT", "interval": "Min1"}},
        {"method": "ping"},
    )),
    "hyperliquid_spot": WsSeed("/ws", (
        {"method": "subscribe", "subscription": {"type": "candle", "coin": "@0", "interval": "1m"}},
        {"method": "post", "id": 1, "request": {"type": "info", "payload": {"type": "spotMeta"}}},
    )),
    "hyperliquid_perpetual": WsSeed("/ws", (
        {"method": "subscribe", "subscription": {"type": "candle", "coin": "BTC", "interval": "1m"}},
        {"method": "ping"},
    )),
    "ascend_ex_spot": WsSeed("/api/pro/v1/stream", (
        {"op": "sub", "id": "abc123", "ch": "bar:1:BTC/USDT"},
        {"op": "ping"},
    )),
}

#: Paths tried, in order, for a product without a :data:`WS_SEEDS` entry.
WS_PATH_CANDIDATES = (
    "/ws", "/", "/stream", "/v2", "/ws/v5/public", "/ws/v5/business", "/ws/v4/", "/v4/ws/usdt",
    "/v5/public/spot", "/v5/public/linear", "/edge", "/realtime", "/api/pro/v1/stream",
)
