"""The HTTP control endpoint: a small JSON API on its own port that steers a running server.

Routes are a table ``{path: {method: handler}}``. A handler takes a :class:`ControlRequest` and
returns a :class:`ControlResponse` (or an awaitable of one); raising :class:`ControlError` answers
its status with its message (:class:`BadRequest`: 400). Features add their routes with
:meth:`ControlApp.add` or :meth:`ControlApp.extend`; :func:`time_routes` is the market clock's table::

    GET  /time                          {"now_ms": ..., "now": "2024-01-01T00:00:00.000Z", "speed": 1.0}
    POST /time {"advance_ms": 60000}    (or PUT; also {"set_ms": t} and {"speed": x}, combinable)

:func:`conditions_routes` is the network conditions' table (see :mod:`mockfeed.runtime.conditions`)::

    GET   /conditions                   {"binance_spot": {"latency_ms": 0.0, ...}, ...}
    PUT   /conditions {...}             (and PATCH) every exchange at once, all or nothing
    GET   /conditions/{exchange}        {"latency_ms": 0.0, "jitter_ms": 0.0, "error_rate": 0.0, ...}
    PUT   /conditions/{exchange} {...}  replace all (absent keys: defaults)
    PATCH /conditions/{exchange} {...}  change only the keys given
    GET   /conditions/{exchange}/routes {"/api/v3/klines": {"error_rate": 0.5}, "/api/v3/*": {...}}
    PUT   /conditions/{exchange}/routes {...}  (and PATCH, merging by route) per-route REST overrides

:func:`disconnect_routes` ends open WebSockets at once::

    POST  /disconnect {"mode": "close", "code": 1001}   every exchange's (mode "reset": TCP reset)
    POST  /disconnect/{exchange}                        one exchange's

Every answer is JSON; errors are ``{"error": "..."}`` with 400, 404, 405, 409 or 413, never a
traceback.

With a token (``ControlApp(token=...)``, ``ServerConfig.control_token``) every request, the index
included, needs ``Authorization: Bearer TOKEN``; anything else is answered 401 with
``WWW-Authenticate: Bearer realm="mockfeed"`` before routing or reading the body.
"""

from __future__ import annotations

import hmac
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any, Protocol, TypeAlias, TypeVar, cast

import attrs
import orjson
import trio
from hypercorn.trio import serve as hypercorn_serve

from mockfeed.market.clock import Clock, ScaledClock, check_speed, check_time, format_time
from mockfeed.runtime.conditions import Conditions, ConditionsHolder
from mockfeed.runtime.http_config import BoundedConfig
from mockfeed.runtime.tls import TlsFiles

log = logging.getLogger("mockfeed.control")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_T = TypeVar("_T")

MAX_BODY_BYTES = 64 * 1024
REALM = b'Bearer realm="mockfeed"'
SHUTDOWN_GRACE = 2.0  # seconds an in-flight control request gets at shutdown


class ControlError(Exception):
    """Refuse a control request with ``status`` and ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BadRequest(ControlError):
    """Refuse a control request with 400 and ``{"error": message}``."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


@attrs.frozen(slots=True)
class ControlRequest:
    """One control request: method, path, raw query string and body."""

    method: str
    path: str
    query: str = ""
    body: bytes = b""
    params: Mapping[str, str] = attrs.field(factory=dict)  # values of the route's {name} segments

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; :class:`BadRequest` if it is not one."""
        try:
            value = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise BadRequest("the body is not valid JSON; send a JSON object") from None
        if not isinstance(value, dict):
            raise BadRequest(f"the body must be a JSON object, got {type(value).__name__}")
        return value


@attrs.frozen(slots=True)
class ControlResponse:
    """A JSON answer: status, payload and any extra headers."""

    status: int
    payload: object
    headers: tuple[tuple[bytes, bytes], ...] = ()

    def with_headers(self, *headers: tuple[bytes, bytes]) -> ControlResponse:
        """The same answer with ``headers`` added."""
        return attrs.evolve(self, headers=(*self.headers, *headers))


ControlHandler: TypeAlias = Callable[[ControlRequest], "ControlResponse | Awaitable[ControlResponse]"]
RouteTable: TypeAlias = Mapping[str, Mapping[str, ControlHandler]]


def error(status: int, message: str, **extra: object) -> ControlResponse:
    """An error answer ``{"error": message, ...}``."""
    return ControlResponse(status, {"error": message, **extra})


class ControlApp:
    """An ASGI app routing (path, method) through a table that features extend."""

    def __init__(self, routes: RouteTable | None = None, *, token: str | None = None) -> None:
        self.routes: dict[str, dict[str, ControlHandler]] = {}
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        self._token = None if token is None else token.encode("ascii")
        self.add("/", "GET", self._index)
        if routes is not None:
            self.extend(routes)

    def add(self, path: str, method: str, handler: ControlHandler) -> None:
        """Serve ``method path`` with ``handler``; a (path, method) pair can be added once.

        A path may hold ``{name}`` segments; the handler finds their values in ``request.params``.
        """
        if "{" in path and path not in self.routes:
            self._patterns.append((_pattern(path), path))
        methods = self.routes.setdefault(path, {})
        if method.upper() in methods:
            raise ValueError(f"{method.upper()} {path} is already routed")
        methods[method.upper()] = handler

    def extend(self, routes: RouteTable) -> None:
        """Add every route of a table ``{path: {method: handler}}``."""
        for path, methods in routes.items():
            for method, handler in methods.items():
                self.add(path, method, handler)

    def _index(self, request: ControlRequest) -> ControlResponse:
        return ControlResponse(200, {"endpoints": {p: sorted(m) for p, m in sorted(self.routes.items())}})

    async def respond(self, request: ControlRequest) -> ControlResponse:
        """The answer to one request: the handler's, or a JSON error."""
        path = request.path.rstrip("/") or "/"
        methods = self.routes.get(path)
        if methods is None:
            for pattern, route in self._patterns:
                match = pattern.fullmatch(path)
                if match is not None:
                    methods = self.routes[route]
                    request = attrs.evolve(request, params=match.groupdict())
                    break
        if methods is None:
            return error(404, f"no control endpoint {request.path}", endpoints=sorted(self.routes))
        handler = methods.get(request.method)
        if handler is None:
            return error(405, f"{request.method} is not allowed on {request.path}", allowed=sorted(methods))
        try:
            answer = handler(request)
            if inspect.isawaitable(answer):
                answer = await answer
            return answer
        except ControlError as refused:
            return error(refused.status, refused.message)
        except Exception:
            log.exception("control handler failed on %s %s", request.method, request.path)
            return error(500, "internal error")

    def _refused(self, headers: list[tuple[bytes, bytes]]) -> ControlResponse | None:
        """The 401 answer when a token is required and the request lacks it (else None)."""
        if self._token is None:
            return None
        given = [value for name, value in headers if name.lower() == b"authorization"]
        if not given:
            return error(401, "this control endpoint needs Authorization: Bearer <token>").with_headers(
                (b"www-authenticate", REALM)
            )
        scheme, _, credentials = given[0].strip().partition(b" ")
        # compare_digest: the time taken does not tell how much of a guessed token was right
        if scheme.lower() != b"bearer" or not hmac.compare_digest(credentials.strip(), self._token):
            return error(401, "invalid control token").with_headers(
                (b"www-authenticate", REALM + b', error="invalid_token"')
            )
        return None

    async def _answer(self, scope: Scope, receive: Receive) -> ControlResponse:
        body = await _read_body(receive)
        if body is None:
            return error(413, f"the body exceeds {MAX_BODY_BYTES} bytes")
        request = ControlRequest(
            scope["method"], scope["path"], scope["query_string"].decode("latin-1"), body
        )
        return await self.respond(request)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        response = self._refused(scope["headers"])
        if response is None:
            response = await self._answer(scope, receive)
        payload = orjson.dumps(response.payload)
        headers = [
            (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
            *response.headers,
        ]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


# -- the market clock --------------------------------------------------------------------------------

TIME_KEYS = ("advance_ms", "set_ms", "speed")


def time_state(clock: Clock) -> dict[str, object]:
    """What ``GET /time`` answers: market time (ms and ISO 8601), speed, whether it can be moved."""
    now = clock.now_ms()
    speed = clock.speed if isinstance(clock, ScaledClock) else 1.0
    return {"now_ms": now, "now": format_time(now), "speed": speed,
            "adjustable": isinstance(clock, ScaledClock)}


def change_time(clock: ScaledClock, change: Mapping[str, Any]) -> None:
    """Apply ``{"advance_ms": n}`` / ``{"set_ms": t}`` and/or ``{"speed": x}``, all or nothing.

    Raises :class:`ValueError` naming the offending key; nothing changes then.
    """
    unknown = [k for k in change if k not in TIME_KEYS]
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}; expected advance_ms, set_ms and/or speed")
    if not change:
        raise ValueError("expected at least one of advance_ms, set_ms, speed")
    if "advance_ms" in change and "set_ms" in change:
        raise ValueError("advance_ms and set_ms cannot be combined")
    speed = _checked(change, "speed", check_speed)
    set_ms = _checked(change, "set_ms", check_time)
    if set_ms is not None:
        clock.set_time(set_ms)
    else:
        _checked(change, "advance_ms", clock.advance)
    if speed is not None:
        clock.set_speed(speed)


def _checked(change: Mapping[str, Any], key: str, check: Callable[[Any], _T]) -> _T | None:
    """``check(change[key])`` (None if the key is absent), its ValueError prefixed with the key."""
    if key not in change:
        return None
    try:
        return check(change[key])
    except ValueError as refused:
        raise ValueError(f"{key}: {refused}") from None


def time_routes(clock: Clock) -> RouteTable:
    """``GET /time``, and ``POST``/``PUT /time`` to move a :class:`ScaledClock`."""

    def show(request: ControlRequest) -> ControlResponse:
        return ControlResponse(200, time_state(clock))

    def move(request: ControlRequest) -> ControlResponse:
        if not isinstance(clock, ScaledClock):
            return error(409, f"this server's clock ({type(clock).__name__}) cannot be moved")
        try:
            change_time(clock, request.json_object())
        except ValueError as refused:
            raise BadRequest(str(refused)) from None
        return ControlResponse(200, time_state(clock))

    return {"/time": {"GET": show, "POST": move, "PUT": move}}


# -- network conditions ------------------------------------------------------------------------------


def conditions_routes(holders: Mapping[str, ConditionsHolder]) -> RouteTable:
    """``GET``/``PUT``/``PATCH /conditions`` (every exchange) and the same on ``/conditions/{exchange}``."""

    def show_all(request: ControlRequest) -> ControlResponse:
        return ControlResponse(200, {name: h.conditions.to_json() for name, h in holders.items()})

    def routes_for(holder: ConditionsHolder) -> dict[str, ControlHandler]:
        def show(request: ControlRequest) -> ControlResponse:
            return ControlResponse(200, holder.conditions.to_json())

        def replace(request: ControlRequest) -> ControlResponse:
            return _changed(holder.replace, request)

        def update(request: ControlRequest) -> ControlResponse:
            return _changed(holder.update, request)

        return {"GET": show, "PUT": replace, "PATCH": update}

    def routes_of(holder: ConditionsHolder) -> dict[str, ControlHandler]:
        return _editable(
            lambda request: ControlResponse(200, holder.routes),
            lambda request: (holder.routes, holder.set_routes),
        )

    def change_all(request: ControlRequest, patch: bool) -> ControlResponse:
        change = request.json_object()
        try:  # checked for every exchange before any changes: all or nothing
            if patch:
                for holder in holders.values():
                    holder.conditions.updated(change)
            else:
                Conditions.from_json(change)
        except ValueError as refused:
            raise BadRequest(str(refused)) from None
        for holder in holders.values():
            (holder.update if patch else holder.replace)(change)
        return show_all(request)

    table: dict[str, Mapping[str, ControlHandler]] = {"/conditions": {
        "GET": show_all,
        "PUT": lambda request: change_all(request, patch=False),
        "PATCH": lambda request: change_all(request, patch=True),
    }}
    for name, holder in holders.items():
        table[f"/conditions/{name}"] = routes_for(holder)
        table[f"/conditions/{name}/routes"] = routes_of(holder)
    return table


def _changed(
    change: Callable[[Mapping[str, Any]], Any], request: ControlRequest
) -> ControlResponse:
    try:
        conditions = change(request.json_object())
    except ValueError as refused:
        raise BadRequest(str(refused)) from None
    return ControlResponse(200, conditions.to_json())


_Setting: TypeAlias = tuple[Mapping[str, Any], Callable[[dict[str, Any]], object]]  # (current, set)


def _editable(
    show: ControlHandler, setting: Callable[[ControlRequest], _Setting]
) -> dict[str, ControlHandler]:
    """GET, PUT and PATCH of a setting that is a JSON object: GET is ``show``; PUT replaces the
    setting with the body, PATCH merges the body's keys into it; both then answer as GET does.

    ``setting(request)`` gives the current value and its setter (or raises :class:`ControlError`);
    a ValueError of the setter answers 400.
    """

    def change(request: ControlRequest, merge: bool) -> ControlResponse | Awaitable[ControlResponse]:
        current, set_to = setting(request)
        body = request.json_object()
        try:
            set_to({**current, **body} if merge else body)
        except ValueError as refused:
            raise BadRequest(str(refused)) from None
        return show(request)

    return {"GET": show, "PUT": lambda r: change(r, merge=False), "PATCH": lambda r: change(r, merge=True)}


def _pattern(path: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", path)
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts)))


# -- disconnects ------------------------------------------------------------------------------------

Disconnector: TypeAlias = Callable[[bool, int], int]  # (reset, close code) -> connections ended


def parse_disconnect(request: ControlRequest) -> tuple[bool, int]:
    """``(reset, code)`` from a disconnect body (absent: a close with 1001); :class:`BadRequest` if bad."""
    change = request.json_object() if request.body.strip() else {}
    unknown = [k for k in change if k not in ("mode", "code")]
    if unknown:
        raise BadRequest(f"unknown key {unknown[0]!r}; expected mode and/or code")
    mode = change.get("mode", "close")
    if mode not in ("close", "reset"):
        raise BadRequest(f"mode must be 'close' or 'reset', got {mode!r}")
    code = change.get("code", 1001)
    if isinstance(code, bool) or not isinstance(code, int) or not (
        code in (1000, 1001, 1008, 1011, 1012, 1013) or 3000 <= code <= 4999
    ):
        raise BadRequest(f"code must be 1000, 1001, 1008, 1011, 1012, 1013 or 3000-4999, got {code!r}")
    if mode == "reset" and "code" in change:
        raise BadRequest("a reset sends no close frame: code goes with mode 'close' only")
    return mode == "reset", code


def disconnect_routes(exchanges: Mapping[str, Disconnector]) -> RouteTable:
    """``POST /disconnect`` (every exchange) and ``POST /disconnect/{exchange}``: end open WebSockets.

    Body (optional): ``{"mode": "close"}`` (default: a close handshake with ``code``, default 1001) or
    ``{"mode": "reset"}`` (an abrupt TCP reset, no close frame). Answers how many were ended.
    """

    def handler(names: list[str]) -> ControlHandler:
        def disconnect(request: ControlRequest) -> ControlResponse:
            reset, code = parse_disconnect(request)
            return ControlResponse(200, {"disconnected": {n: exchanges[n](reset, code) for n in names}})

        return disconnect

    table: dict[str, Mapping[str, ControlHandler]] = {"/disconnect": {"POST": handler(list(exchanges))}}
    for name in exchanges:
        table[f"/disconnect/{name}"] = {"POST": handler([name])}
    return table


# -- single connections -----------------------------------------------------------------------------


class OneConnection(Protocol):
    """What the control endpoint needs of an open WebSocket (``runtime.ws.Connection``)."""

    id: int

    def info(self) -> dict[str, object]: ...

    def override(self, change: dict[str, object] | None) -> None: ...

    def disconnect(self, code: int | None) -> None: ...


class Connections(Protocol):
    """What the control endpoint needs of an exchange's WebSockets (``runtime.server.ExchangeServer``)."""

    @property
    def open_connections(self) -> Sequence[OneConnection]: ...

    def connection(self, connection_id: int) -> OneConnection | None: ...


def connection_routes(exchanges: Mapping[str, Connections]) -> RouteTable:
    """Each open WebSocket, seen and steered one by one::

        GET   /connections                         {"binance_spot": [{"id": 1, "peer": ..., ...}], ...}
        GET   /connections/{exchange}              that exchange's list
        GET   /connections/{exchange}/{id}         one connection: peer, path, subscriptions, backlog,
                                                   its own condition keys and the conditions it is under
        PATCH /connections/{exchange}/{id} {...}   give it its own values of WebSocket condition keys
        PUT   /connections/{exchange}/{id} {...}   replace them ({}: back to the exchange's)
        POST  /connections/{exchange}/{id}/disconnect {"mode": "close"|"reset", "code": 1001}
    """

    def exchange_of(request: ControlRequest) -> Connections:
        name = request.params.get("exchange", "")
        if name not in exchanges:
            raise ControlError(404, f"no exchange {name!r} is served here (served: {', '.join(exchanges)})")
        return exchanges[name]

    def connection_of(request: ControlRequest) -> OneConnection:
        served = exchange_of(request)
        raw = request.params.get("id", "")
        found = served.connection(int(raw)) if raw.isdigit() else None
        if found is None:
            raise ControlError(404, f"no open connection {raw!r} on {request.params['exchange']}")
        return found

    def listing(request: ControlRequest) -> ControlResponse:
        return ControlResponse(200, {n: _infos(e) for n, e in exchanges.items()})

    def exchange_listing(request: ControlRequest) -> ControlResponse:
        return ControlResponse(200, _infos(exchange_of(request)))

    def show(request: ControlRequest) -> ControlResponse:
        return ControlResponse(200, connection_of(request).info())

    def overrides(request: ControlRequest) -> _Setting:
        connection = connection_of(request)
        current = connection.info()["overrides"]
        assert isinstance(current, dict)
        return current, connection.override

    def disconnect(request: ControlRequest) -> ControlResponse:
        connection = connection_of(request)
        reset, code = parse_disconnect(request)
        connection.disconnect(None if reset else code)
        return ControlResponse(200, {"disconnected": connection.id})

    return {
        "/connections": {"GET": listing},
        "/connections/{exchange}": {"GET": exchange_listing},
        "/connections/{exchange}/{id}": _editable(show, overrides),
        "/connections/{exchange}/{id}/disconnect": {"POST": disconnect},
    }


def _infos(exchange: Connections) -> list[dict[str, object]]:
    return sorted((c.info() for c in exchange.open_connections), key=lambda i: int(str(i["id"])))


# -- serving -------------------------------------------------------------------------------------------


class ControlServer:
    """The control app served by hypercorn on its own port."""

    def __init__(self, app: ControlApp, host: str, port: int, tls: TlsFiles | None = None) -> None:
        self.app = app
        self.tls = tls
        self.host = host
        self._port = port
        self.port = 0
        self._stop = trio.Event()
        self._done = trio.Event()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:9200``."""
        return f"{'https' if self.tls else 'http'}://{_url_host(self.host)}:{self.port}"

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until :meth:`aclose`; reports started once listening."""
        config = BoundedConfig()
        config.bind = [f"{_url_host(self.host)}:{self._port}"]
        config.accesslog = None
        config.errorlog = log
        config.loglevel = "WARNING"
        config.graceful_timeout = SHUTDOWN_GRACE
        if self.tls is not None:
            config.certfile, config.keyfile = self.tls.cert, self.tls.key

        async def serve(*, task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED) -> None:
            await hypercorn_serve(
                cast(Any, self.app), config, shutdown_trigger=self._stop.wait, mode="asgi",
                task_status=task_status,
            )

        try:
            async with trio.open_nursery() as nursery:
                binds: list[str] = await nursery.start(serve)
                self.port = int(binds[0].rsplit(":", 1)[1])
                task_status.started()
        finally:
            self._done.set()

    async def aclose(self) -> None:
        """Stop listening, letting an in-flight request finish briefly."""
        self._stop.set()
        with trio.move_on_after(SHUTDOWN_GRACE + 0.5):
            await self._done.wait()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


async def _read_body(receive: Receive) -> bytes | None:
    """The request body, or None when it exceeds :data:`MAX_BODY_BYTES`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
