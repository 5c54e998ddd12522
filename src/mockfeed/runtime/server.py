"""The runtime: one trio task group per exchange, each owning its REST and WS listeners and ticker."""

from __future__ import annotations

import datetime as _dt
import itertools
import logging
import socket
import warnings
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, cast

import attrs
import trio
from hypercorn.trio import serve as hypercorn_serve
from trio_websocket import ConnectionClosed, WebSocketRequest, WebSocketServer

from mockfeed.config import ServerConfig
from mockfeed.exchanges import ExchangeType, create_plugin
from mockfeed.exchanges.base import ExchangePlugin, FaultKind, RestRequest, WsReject, WsSession
from mockfeed.exchanges.ratelimit import SlidingWindow
from mockfeed.market import MarketModel
from mockfeed.market.clock import Clock, ScaledClock, parse_time, wall_ms
from mockfeed.market.scenario import Bound, bind
from mockfeed.runtime import internals
from mockfeed.runtime.conditions import Conditions, ConditionsHolder
from mockfeed.runtime.control import (
    ControlApp,
    ControlServer,
    conditions_routes,
    connection_routes,
    disconnect_routes,
    time_routes,
)
from mockfeed.runtime.http_config import BoundedConfig
from mockfeed.runtime.hub import Hub
from mockfeed.runtime.receiver import PlainListener
from mockfeed.runtime.rest import RestApp
from mockfeed.runtime.scenario_control import Scenarios, scenario_routes
from mockfeed.runtime.tls import TlsFiles
from mockfeed.runtime.windows import Schedule
from mockfeed.runtime.ws import Connection

log = logging.getLogger("mockfeed")

# hypercorn binds with SO_REUSEPORT when told of several workers, then warns that serve() runs one.
warnings.filterwarnings("ignore", message="The config `workers` has no affect when using serve")

SHUTDOWN_GRACE = 2.0  # seconds given to in-flight REST requests and WS closes at shutdown
LISTEN_BACKLOG = 1024


class ExchangeServer:
    """One exchange product served on its own REST and WS ports."""

    def __init__(
        self,
        exchange: ExchangeType,
        plugin: ExchangePlugin,
        model: MarketModel,
        clock: Clock,
        host: str,
        ports: tuple[int, int],
        conditions: Conditions | None = None,
        tls: TlsFiles | None = None,
        reuse_port: bool = False,
        max_connections: int = 10_000,
    ) -> None:
        self.exchange = exchange
        self.plugin = plugin
        self.model = model
        self.clock = clock
        self.host = host
        self._ports = ports
        self.tls = tls
        self.reuse_port = reuse_port  # several processes serve the same ports (--workers)
        self.max_connections = max_connections
        self.faults = ConditionsHolder(exchange.value, conditions)
        self.hub = Hub(plugin, model, clock, self.faults)
        self.faults.watch(self._conditions_changed)
        if isinstance(clock, ScaledClock):
            clock.watch(self.hub.wake)
        self.connections: set[Connection] = set()
        self._ids = itertools.count(1)
        self._attempts: SlidingWindow | None = None  # connection attempts per IP, under rate limits
        self.rest_port = 0
        self.ws_port = 0
        self.rest_app: RestApp | None = None  # once serving
        self._stop_rest = trio.Event()
        self._scope = trio.CancelScope()
        self._done = trio.Event()
        self._rest_done = trio.Event()

    @property
    def rest_url(self) -> str:
        """Base URL of the REST API, e.g. ``http://127.0.0.1:9100``."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{_url_host(self.host)}:{self.rest_port}"

    @property
    def conditions(self) -> Conditions:
        """This exchange's network conditions; assign new ones to change them from the next request."""
        return self.faults.conditions

    @conditions.setter
    def conditions(self, value: Conditions) -> None:
        self.faults.conditions = value

    @property
    def route_conditions(self) -> dict[str, dict[str, object]]:
        """Per-route REST overrides, e.g. ``{"/api/v3/klines": {"error_rate": 0.5}}`` (``*`` globs)."""
        return self.faults.routes

    @route_conditions.setter
    def route_conditions(self, routes: Mapping[str, Mapping[str, object]]) -> None:
        self.faults.set_routes(routes)

    @property
    def ws_url(self) -> str:
        """Base URL of the WebSocket listener, e.g. ``ws://127.0.0.1:9101``."""
        scheme = "wss" if self.tls else "ws"
        return f"{scheme}://{_url_host(self.host)}:{self.ws_port}"

    @property
    def ready_line(self) -> str:
        """The line the CLI prints when this exchange is ready."""
        return f"{self.exchange} rest={self.rest_url} ws={self.ws_url}"

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until :meth:`aclose` (or cancellation); reports started once both ports listen."""
        try:
            with self._scope:
                async with trio.open_nursery() as nursery:
                    config = BoundedConfig()
                    config.bind = [f"{_url_host(self.host)}:{self._ports[0]}"]
                    config.accesslog = None
                    config.errorlog = log
                    config.loglevel = "WARNING"
                    config.graceful_timeout = SHUTDOWN_GRACE
                    if self.tls is not None:
                        config.certfile, config.keyfile = self.tls.cert, self.tls.key
                    if self.reuse_port:
                        config.workers = 2  # hypercorn then binds with SO_REUSEPORT
                    app = self.rest_app = RestApp(self.plugin, self.clock, self.faults)
                    binds: list[str] = await nursery.start(self._serve_rest, app, config)
                    self.rest_port = int(binds[0].rsplit(":", 1)[1])
                    self.ws_port = await nursery.start(self._serve_ws)
                    self.plugin.set_endpoints(self.rest_url, self.ws_url)
                    nursery.start_soon(self.hub.run)
                    task_status.started()
        finally:
            self._done.set()

    async def _serve_ws(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve WebSockets; started with the bound port. Plain TCP connections receive through
        :mod:`mockfeed.runtime.receiver` (less memory per idle connection); TLS ones through trio's
        SSL stream."""
        if self.reuse_port:
            sockets = [trio.SocketListener(await self._reuse_port_socket())]
        else:
            sockets = await trio.open_tcp_listeners(self._ports[1], host=self.host)
        port = int(sockets[0].socket.getsockname()[1])
        ssl_context = None if self.tls is None else self.tls.server_context()
        listeners: list[Any] = [
            PlainListener(plain) if ssl_context is None
            else trio.SSLListener(plain, ssl_context, https_compatible=False)
            for plain in sockets
        ]
        server = WebSocketServer(self._handle_ws, listeners, connect_timeout=10, disconnect_timeout=5)
        async with trio.open_nursery() as nursery:
            await nursery.start(server.run)
            task_status.started(port)

    async def _reuse_port_socket(self) -> trio.socket.SocketType:
        """A listening socket on the WebSocket port that other workers' sockets share (SO_REUSEPORT)."""
        sock = trio.socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        await sock.bind((self.host.strip("[]"), self._ports[1]))
        sock.listen(LISTEN_BACKLOG)
        return sock

    async def _serve_rest(
        self,
        app: RestApp,
        config: BoundedConfig,
        *,
        task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        try:
            await hypercorn_serve(
                cast(Any, app), config, shutdown_trigger=self._stop_rest.wait, mode="asgi",
                task_status=task_status,
            )
        finally:
            self._rest_done.set()

    async def aclose(self) -> None:
        """Close every WebSocket with 1001, let in-flight REST finish briefly, then stop."""
        farewell = self.plugin.farewell(self.clock.now_ms())
        async with trio.open_nursery() as nursery:
            for connection in list(self.connections):
                nursery.start_soon(connection.close, 1001, "server shutdown", farewell)
        self._stop_rest.set()
        with trio.move_on_after(SHUTDOWN_GRACE + 0.5):
            await self._rest_done.wait()
        self._scope.cancel()
        await self._done.wait()

    def disconnect(self, reset: bool = False, code: int = 1001) -> int:
        """End every open WebSocket now: a close handshake with ``code``, or an abrupt TCP reset.

        Returns how many connections were ended.
        """
        connections = list(self.connections)
        for connection in connections:
            connection.disconnect(None if reset else code)
        return len(connections)

    @property
    def open_connections(self) -> list[Connection]:
        """The open WebSockets."""
        return list(self.connections)

    def connection(self, connection_id: int) -> Connection | None:
        """The open WebSocket with this id, if any."""
        return next((c for c in self.connections if c.id == connection_id), None)

    def _conditions_changed(self, old: Conditions, new: Conditions) -> None:
        if new.maintenance and not old.maintenance:
            closed = self.disconnect(code=1001)
            log.info("%s: maintenance, closed %d WebSocket(s)", self.exchange, closed)

    def _over_connection_limit(self, request: WebSocketRequest, conditions: Conditions) -> WsReject | None:
        """The exchange's refusal when this client IP opened too many connections lately (only
        with rate limits on), else None."""
        limit = self.plugin.ws_connection_limit
        if limit is None or not conditions.rate_limits:
            return None
        if self._attempts is None:
            self._attempts = SlidingWindow(limit[0], round(limit[1] * 1000))
        ip = internals.peer_address(request)
        decision = self._attempts.hit(str(ip), int(trio.current_time() * 1000))
        if decision.admitted:
            return None
        log.info("%s: refusing a WebSocket from %s: over %d per %gs", self.exchange, ip, *limit)
        return self.plugin.connection_refusal(decision.retry_after_ms / 1000)

    def _maintenance_refusal(self, path: str) -> WsReject:
        """A handshake during maintenance: HTTP 503 with the exchange's REST maintenance body."""
        probe = RestRequest("GET", path, (), b"", self.clock.now_ms())
        try:
            answer = self.plugin.fault_response(FaultKind.MAINTENANCE, probe)
        except Exception:
            log.exception("plugin failed to shape a maintenance answer")
            return WsReject(503)
        return WsReject(503, answer.body)

    async def _handle_ws(self, request: WebSocketRequest) -> None:
        path, _, query = request.path.partition("?")
        conditions = self.faults.conditions
        try:
            if conditions.maintenance:
                session: WsSession | WsReject = self._maintenance_refusal(path)
            elif (refusal := self._over_connection_limit(request, conditions)) is not None:
                session = refusal
            elif len(self.connections) >= self.max_connections:
                log.warning("%s: refusing a WebSocket: %d open (max_ws_connections)", self.exchange,
                            len(self.connections))
                session = WsReject(503, b"Service Unavailable: too many connections")
            else:
                session = self.plugin.open_session(path, query)
        except Exception:
            log.exception("plugin failed to open a session on %s", request.path)
            session = WsReject(500)
        try:
            if isinstance(session, WsReject):
                await request.reject(session.status, body=session.body)
                return
            ws = await request.accept()
        except ConnectionClosed:
            return  # the client left during the handshake: nobody else is affected
        lifetime = conditions.ws_lifetime_s or self.plugin.ws_lifetime
        connection = Connection(
            ws, session, self.hub, self.clock, self.plugin.heartbeat,
            number=self.faults.next_connection(), lifetime=lifetime, connection_id=next(self._ids),
            path=request.path,
        )
        internals.release_request(request)
        self.connections.add(connection)
        try:
            await connection.run()
        except Exception:
            log.exception("connection failed")  # one connection never takes the server down
        finally:
            self.connections.discard(connection)
            self.hub.remove_all(connection)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@attrs.frozen
class Placement:
    """How one of several worker processes serves the same market (``--workers``): every exchange's
    (REST, WS) ports, bound with SO_REUSEPORT beside its siblings, and the wall-clock time at which
    market time was the config's ``start`` (so all workers' clocks agree)."""

    ports: Mapping[ExchangeType, tuple[int, int]]
    started_at_wall_ms: int


class Server:
    """Every configured exchange, served from one trio nursery, with its market clock.

    Market time comes from ``clock`` when given, else from a :class:`ScaledClock` made from the
    config's ``start`` and ``speed`` that follows trio's clock (virtual under
    ``trio.testing.MockClock``). :meth:`advance`, :meth:`set_time` and :meth:`set_speed` move it.
    """

    def __init__(
        self, config: ServerConfig, clock: Clock | None = None, placement: Placement | None = None
    ) -> None:
        self.config = config
        self.placement = placement
        if clock is None:
            clock = ScaledClock(start_ms=config.start, speed=config.speed, source=trio.current_time)
        elif config.speed != 1 or config.start is not None:
            raise ValueError("pass either a clock or the config's speed/start, not both")
        self.clock: Clock = clock
        origin = config.start if config.start is not None else (
            wall_ms() if placement is None else placement.started_at_wall_ms)  # offsets count from here
        bound = bind(config.scenario, origin)
        self.model = MarketModel(config.pairs, seed=config.seed, scenario=bound)
        tls = None if config.tls_cert is None else TlsFiles(config.tls_cert, config.tls_key)
        self.exchanges: dict[ExchangeType, ExchangeServer] = {}
        for exchange in config.exchanges:
            plugin = create_plugin(exchange, self.model, config.pairs)
            ports = config.ports(exchange) if placement is None else placement.ports[exchange]
            self.exchanges[exchange] = ExchangeServer(
                exchange, plugin, self.model, self.clock, config.host, ports,
                config.conditions_for(exchange), tls, reuse_port=placement is not None,
                max_connections=config.max_ws_connections,
            )
            self.exchanges[exchange].faults.set_routes(config.route_conditions.get(exchange, {}))
        self.schedule = Schedule({str(e): s.faults for e, s in self.exchanges.items()}, self.clock)
        #: The scenario in force; ``scenarios.replace(...)`` changes it while serving.
        self.scenarios = Scenarios(self.model, [p.name for p in config.pairs], self.schedule, origin, bound)
        self.control: ControlServer | None = None
        if config.control_port is not None:
            app = ControlApp(time_routes(self.clock), token=config.control_token)
            app.extend(conditions_routes({str(e): s.faults for e, s in self.exchanges.items()}))
            app.extend(disconnect_routes({str(e): s.disconnect for e, s in self.exchanges.items()}))
            app.extend(connection_routes({str(e): s for e, s in self.exchanges.items()}))
            app.extend(scenario_routes(self.scenarios))
            self.control = ControlServer(app, config.host, config.control_port, tls)

    @property
    def scenario(self) -> Bound | None:
        """The scenario in force, its offsets fixed (None: the plain market)."""
        return self.scenarios.bound

    def __getitem__(self, exchange: ExchangeType | str) -> ExchangeServer:
        return self.exchanges[ExchangeType(exchange)]

    @property
    def first(self) -> ExchangeServer:
        """The first configured exchange."""
        return next(iter(self.exchanges.values()))

    @property
    def rest_url(self) -> str:
        """REST base URL of the first configured exchange."""
        return self.first.rest_url

    @property
    def ws_url(self) -> str:
        """WebSocket base URL of the first configured exchange."""
        return self.first.ws_url

    @property
    def control_url(self) -> str:
        """Base URL of the HTTP control endpoint (``ServerConfig.control_port``), e.g. ``http://127.0.0.1:9200``."""
        if self.control is None:
            raise RuntimeError("no control endpoint: set ServerConfig.control_port (0 = ephemeral)")
        return self.control.url

    def ready_lines(self) -> list[str]:
        """One ``NAME rest=... ws=...`` line per exchange."""
        return [e.ready_line for e in self.exchanges.values()]

    @property
    def control_line(self) -> str | None:
        """``control=http://H:P`` when the control endpoint is open (printed after the ready lines)."""
        return None if self.control is None else f"control={self.control.url}"

    async def start(self, nursery: trio.Nursery) -> None:
        """Start the market clock, then every exchange and the control endpoint in ``nursery``.

        Returns once all listen (so nothing is announced ready while a listener may still fail).
        """
        if isinstance(self.clock, ScaledClock):
            # Market time is config.start from here, not from a first request; a worker's from
            # the moment its supervisor started, like its siblings'.
            self.clock.start(None if self.placement is None else self.placement.started_at_wall_ms)
        for exchange_server in self.exchanges.values():
            await nursery.start(exchange_server.run)
        self.schedule.start(nursery)
        if self.control is not None:
            await nursery.start(self.control.run)

    async def aclose(self) -> None:
        """Stop every exchange cleanly (WebSockets closed with 1001), and the control endpoint."""
        async with trio.open_nursery() as nursery:
            for exchange_server in self.exchanges.values():
                nursery.start_soon(exchange_server.aclose)
            if self.control is not None:
                nursery.start_soon(self.control.aclose)

    # -- network conditions --------------------------------------------------------------------------
    @property
    def conditions(self) -> Conditions:
        """The first exchange's network conditions; assigning sets every exchange's.

        Use ``server[exchange].conditions`` to read or set one exchange's.
        """
        return self.first.conditions

    @conditions.setter
    def conditions(self, value: Conditions) -> None:
        for exchange_server in self.exchanges.values():
            exchange_server.conditions = value

    # -- market time ---------------------------------------------------------------------------------
    def now_ms(self) -> int:
        """The market time in epoch milliseconds, as every exchange serves it."""
        return self.clock.now_ms()

    @property
    def speed(self) -> float:
        """How many times faster than real time market time runs (1 unless changed)."""
        return self.clock.speed if isinstance(self.clock, ScaledClock) else 1.0

    def advance(self, delta: int | _dt.timedelta) -> int:
        """Move market time forward by ``delta`` (milliseconds or a timedelta); returns the new time.

        Candles that close in the jump get their final pushes on the hub's next pass.
        """
        if isinstance(delta, _dt.timedelta):
            delta = delta // _dt.timedelta(milliseconds=1)
        return self._movable().advance(delta)

    def set_time(self, when: int | str | _dt.datetime) -> int:
        """Make the market time ``when`` (epoch ms, ISO 8601 or datetime), backwards too; returns it."""
        return self._movable().set_time(parse_time(when))

    def set_speed(self, speed: float) -> int:
        """Run market time ``speed`` times as fast as real time from now on (0 freezes it)."""
        return self._movable().set_speed(speed)

    def _movable(self) -> ScaledClock:
        if not isinstance(self.clock, ScaledClock):
            raise TypeError(f"this server's clock ({type(self.clock).__name__}) cannot be moved")
        return self.clock


@asynccontextmanager
async def serve(
    config: ServerConfig | None = None, *, clock: Clock | None = None, **options: Any
) -> AsyncIterator[Server]:
    """Serve the configured exchanges for the duration of the ``async with`` block.

    ``options`` are :class:`ServerConfig` fields, used when no ``config`` is given::

        async with mockfeed.serve(exchanges=["binance_spot"], port=0, ws_port=0) as server:
            ...  # server.rest_url, server.ws_url, server["binance_spot"], server.model
    """
    if config is None:
        config = ServerConfig(**options)
    elif options:
        raise TypeError("pass either a ServerConfig or keyword options, not both")
    server = Server(config, clock)
    async with trio.open_nursery() as nursery:
        await server.start(nursery)
        try:
            yield server
        finally:
            with trio.CancelScope(shield=True):
                await server.aclose()
            nursery.cancel_scope.cancel()
