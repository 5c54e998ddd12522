"""A thread-backed runner for asyncio or synchronous callers (most exchange clients are asyncio)."""

from __future__ import annotations

import contextlib
import datetime as _dt
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

import trio

from mockfeed.config import ServerConfig
from mockfeed.exchanges import ExchangeType
from mockfeed.runtime.conditions import Conditions
from mockfeed.runtime.server import ExchangeServer, Server, serve

_T = TypeVar("_T")


class ThreadedServer:
    """Runs :func:`mockfeed.serve` in a background thread with its own trio loop.

    Use as a context manager, or call :meth:`start` and :meth:`stop`::

        with ThreadedServer(exchanges=["binance_spot"], port=0, ws_port=0) as server:
            requests.get(server.rest_url + "/api/v3/time")

    The market-time methods (:meth:`now_ms`, :meth:`advance`, :meth:`set_time`, :meth:`set_speed`)
    and the network conditions (:attr:`conditions`, :meth:`exchange_conditions`,
    :meth:`set_exchange_conditions`) run in the server's thread, so they are safe to call from any other thread.
    """

    def __init__(self, config: ServerConfig | None = None, **options: Any) -> None:
        self.config = config if config is not None else ServerConfig(**options)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._token: trio.lowlevel.TrioToken | None = None
        self._stop: trio.Event | None = None
        self._error: BaseException | None = None

    def start(self, timeout: float = 30.0) -> ThreadedServer:
        """Start serving; returns once every exchange listens (raises what start-up raised)."""
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._main, name="mockfeed", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("mockfeed did not start in time")
        if self._error is not None:
            raise self._error
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Close every connection (WebSockets with 1001) and join the thread."""
        if self._thread is None:
            return
        if self._token is not None and self._stop is not None:
            stop = self._stop
            with contextlib.suppress(trio.RunFinishedError):
                trio.from_thread.run_sync(stop.set, trio_token=self._token)
        self._thread.join(timeout)
        self._thread = None

    def _main(self) -> None:
        try:
            trio.run(self._serve)
        except BaseException as error:  # reported to the starting thread
            self._error = error
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        self._stop = trio.Event()
        async with serve(self.config) as server:
            self._server = server
            self._ready.set()
            await self._stop.wait()

    @property
    def server(self) -> Server:
        """The running :class:`Server`."""
        if self._server is None:
            raise RuntimeError("not started")
        return self._server

    def __getitem__(self, exchange: ExchangeType | str) -> ExchangeServer:
        return self.server[exchange]

    @property
    def rest_url(self) -> str:
        """REST base URL of the first configured exchange."""
        return self.server.rest_url

    @property
    def ws_url(self) -> str:
        """WebSocket base URL of the first configured exchange."""
        return self.server.ws_url

    @property
    def control_url(self) -> str:
        """Base URL of the HTTP control endpoint (needs ``control_port`` in the config)."""
        return self.server.control_url

    def now_ms(self) -> int:
        """The market time in epoch milliseconds."""
        return self._in_server(self.server.now_ms)

    @property
    def speed(self) -> float:
        """How many times faster than real time market time runs."""
        return self._in_server(lambda: self.server.speed)

    def advance(self, delta: int | _dt.timedelta) -> int:
        """Move market time forward by ``delta`` (ms or timedelta); see :meth:`Server.advance`."""
        return self._in_server(self.server.advance, delta)

    def set_time(self, when: int | str | _dt.datetime) -> int:
        """Make the market time ``when``; see :meth:`Server.set_time`."""
        return self._in_server(self.server.set_time, when)

    def set_speed(self, speed: float) -> int:
        """Run market time at ``speed``; see :meth:`Server.set_speed`."""
        return self._in_server(self.server.set_speed, speed)

    @property
    def conditions(self) -> Conditions:
        """The first exchange's network conditions; assigning sets every exchange's."""
        return self._in_server(lambda: self.server.conditions)

    @conditions.setter
    def conditions(self, value: Conditions) -> None:
        def assign() -> None:
            self.server.conditions = value

        self._in_server(assign)

    def exchange_conditions(self, exchange: ExchangeType | str) -> Conditions:
        """One exchange's network conditions."""
        return self._in_server(lambda: self.server[exchange].conditions)

    def set_exchange_conditions(self, exchange: ExchangeType | str, value: Conditions) -> None:
        """Replace one exchange's network conditions (from the next request on)."""

        def assign() -> None:
            self.server[exchange].conditions = value

        self._in_server(assign)

    def disconnect(self, exchange: ExchangeType | str | None = None, *, reset: bool = False,
                   code: int = 1001) -> int:
        """End every open WebSocket of ``exchange`` (None: of every exchange) now: a close with
        ``code``, or a TCP reset; returns how many were ended."""
        def end() -> int:
            servers = self.server.exchanges.values() if exchange is None else [self.server[exchange]]
            return sum(s.disconnect(reset=reset, code=code) for s in servers)

        return self._in_server(end)

    def _in_server(self, function: Callable[..., _T], *args: Any) -> _T:
        if self._token is None:
            raise RuntimeError("not started")
        return trio.from_thread.run_sync(function, *args, trio_token=self._token)

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
