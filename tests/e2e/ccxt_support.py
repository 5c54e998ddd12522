"""Pointing an unmodified ccxt client at a mockfeed server: only URLs change.

Besides the URL rewrite, the flows every ccxt end-to-end test shares: a client that is closed on
exit, latest-page and ``since``-pagination checks of ``fetch_ohlcv``, and ``watch_ohlcv`` updates
compared with the market model.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from mockfeed import Interval, ThreadedServer
from mockfeed.clients import ccxt_urls, point_ccxt

MINUTE = 60_000
DAY = 86_400_000
BASES = ("BTC", "ETH", "SOL")

Row = list[Any]
T = TypeVar("T")


def rewrite_urls(urls: dict[str, Any], rest_url: str, ws_url: str) -> dict[str, Any]:
    """Every URL under ccxt's ``urls['api']`` with its origin replaced by the mock's."""
    return ccxt_urls(urls, rest_url, ws_url)


def serve(*exchanges: str) -> ThreadedServer:
    """A (not yet started) mock serving ``exchanges`` on free REST and WebSocket ports."""
    return ThreadedServer(exchanges=list(exchanges), port=0, ws_port=0)


def run_on_mock(exchange: str, flow: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
    """``asyncio.run(flow(server, *args))``, ``server`` being a fresh mock of ``exchange``."""
    with serve(exchange) as server:
        return asyncio.run(flow(server, *args))


def make_client(cls: Any, server: ThreadedServer, **options: Any) -> Any:
    """``cls(options)`` (ccxt deep-merges them) with every ``urls['api']`` origin pointed at ``server``."""
    return point_ccxt(cls(options), server)


@asynccontextmanager
async def closing(client: Any) -> AsyncIterator[Any]:
    """``client``, closed (``await client.close()``) on exit."""
    try:
        yield client
    finally:
        await client.close()


def open_client(cls: Any, server: ThreadedServer, **options: Any) -> Any:
    """``make_client(cls, server, **options)`` as an async context manager that closes it."""
    return closing(make_client(cls, server, **options))


def listed(markets: dict[str, Any], field: str) -> set[Any]:
    """The set of ``field`` over every loaded market."""
    return {market[field] for market in markets.values()}


def symbol_family(symbol: str) -> set[str]:
    """``symbol`` (a BTC market) and its ETH and SOL twins."""
    return {symbol.replace("BTC", base) for base in BASES}


async def assert_fetch_time(client: Any, params: dict[str, Any] | None = None) -> int:
    """``fetch_time(params)``, asserted to be within 5 s of the client's clock."""
    server_time: int = await client.fetch_time(params or {})
    assert abs(server_time - client.milliseconds()) < 5_000
    return server_time


def step_ms(timeframe: str) -> int:
    """The length of a ccxt ``timeframe`` in milliseconds."""
    return Interval.parse(timeframe).ms


def forming_open(client: Any, step: int = MINUTE) -> int:
    """The open time of the ``step`` candle forming now on the client's clock."""
    return client.milliseconds() // step * step


def days_ago(client: Any, days: int, step: int = MINUTE) -> int:
    """The ``step`` boundary at or before ``days`` days ago on the client's clock."""
    return (client.milliseconds() - days * DAY) // step * step


def assert_contiguous(rows: list[Row], start_ms: int, step: int) -> None:
    """``rows`` are non-empty and open at ``start_ms``, ``start_ms + step``, … without a gap."""
    times = [row[0] for row in rows]
    assert times[:1] == [start_ms]
    assert times == list(range(start_ms, start_ms + len(times) * step, step))


def assert_ohlc_consistent(rows: list[Row]) -> None:
    """Every row's low <= open, close <= high."""
    assert all(row[3] <= min(row[1], row[4]) <= max(row[1], row[4]) <= row[2] for row in rows)


async def fetch_latest(client: Any, symbol: str, timeframe: str = "1m", limit: int = 100) -> list[Row]:
    """``fetch_ohlcv`` without ``since``, asserted to be ``limit`` contiguous, OHLC-consistent rows."""
    rows: list[Row] = await client.fetch_ohlcv(symbol, timeframe, limit=limit)
    assert len(rows) == limit
    assert_contiguous(rows, rows[0][0], step_ms(timeframe))
    assert_ohlc_consistent(rows)
    return rows


async def since_pages(
    client: Any,
    symbol: str,
    timeframe: str,
    start_ms: int,
    page_limit: int | None,
    *,
    step: int = 1,
    max_pages: int = 10,
    last_page: Callable[[list[Row]], bool] | None = None,
) -> list[list[Row]]:
    """``fetch_ohlcv`` pages from ``start_ms`` (then last row + ``step``) to an empty or ``last_page`` one."""
    # last_page defaults to "shorter than page_limit" (never, without a limit); max_pages bounds it all.
    if last_page is None:
        last_page = (lambda page: len(page) < page_limit) if page_limit else (lambda page: False)
    pages: list[list[Row]] = []
    since = start_ms
    for _ in range(max_pages):
        page = await client.fetch_ohlcv(symbol, timeframe, since=since, limit=page_limit)
        pages.append(page)
        if not page or last_page(page):
            break
        since = page[-1][0] + step
    return pages


async def paginate_since(
    client: Any, symbol: str, timeframe: str, start_ms: int, page_limit: int | None, **options: Any
) -> list[Row]:
    """The rows of ``since_pages`` (``options``: its ``step``, ``max_pages``, ``last_page``), in order."""
    pages = await since_pages(client, symbol, timeframe, start_ms, page_limit, **options)
    return [row for page in pages for row in page]


async def watch_updates(
    client: Any, symbol: str, timeframe: str, count: int, timeout_s: float, *, min_s: float = 0.0
) -> list[Row]:
    """The last candle of ``count`` (or more, until ``min_s`` have passed) ``watch_ohlcv`` results."""
    updates: list[Row] = []
    started = time.monotonic()
    async with asyncio.timeout(timeout_s):
        while len(updates) < count or time.monotonic() - started < min_s:
            candles = await client.watch_ohlcv(symbol, timeframe)
            updates.append(list(candles[-1]))
    return updates


def model_candle(
    server: ThreadedServer, open_ms: int, now_ms: int, timeframe: str = "1m", pair: str = "BTC-USDT"
) -> Any:
    """The model's ``pair`` candle opening at ``open_ms`` as it stands at ``now_ms``, asserted to exist."""
    candle = server.server.model.candle(pair, Interval.parse(timeframe), open_ms, now_ms)
    assert candle is not None
    return candle


def assert_forming_candles(server: ThreadedServer, updates: list[Row], timeframe: str = "1m") -> None:
    """Every update opens on a ``timeframe`` boundary; the last one has the model's open price."""
    step = step_ms(timeframe)
    assert all(row[0] % step == 0 for row in updates)
    last = updates[-1]
    assert float(model_candle(server, last[0], last[0] + step, timeframe).open) == last[1]
