"""The sans-IO plugin protocol: what an exchange plugin takes in and hands out.

A plugin never touches a socket or trio. The runtime turns HTTP requests into :class:`RestRequest`,
hands them to the plugin's route table and writes back the :class:`RestResponse`. For WebSocket it
asks the plugin for a :class:`WsSession` per connection, feeds it messages and carries out the
actions it returns (:class:`Send`, :class:`Subscribe`, :class:`Unsubscribe`, :class:`Close`).
Pushes are encoded by the plugin once per :class:`Subscription` and fanned out by the runtime.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TypeAlias

import attrs
import orjson

from mockfeed.exchanges.exchange_type import ExchangeType
from mockfeed.market import Candle, Interval, MarketModel, PairSpec


@attrs.frozen(slots=True)
class RestRequest:
    """One HTTP request as a plugin sees it: method, path, query pairs in order, body, time.

    ``path_params`` holds the values of ``{name}`` segments of the matched route pattern.
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: bytes
    now_ms: int
    client: str = "127.0.0.1"
    path_params: Mapping[str, str] = attrs.field(factory=lambda: MappingProxyType({}))
    #: Monotonic milliseconds of the runtime when the request arrived: for rate-limit windows,
    #: which real exchanges count in wall time whatever the market clock does.
    wall_ms: int = 0

    def params(self) -> dict[str, list[str]]:
        """Query values by name, every occurrence kept in order."""
        out: dict[str, list[str]] = {}
        for key, value in self.query:
            out.setdefault(key, []).append(value)
        return out


Headers: TypeAlias = tuple[tuple[str, str], ...]
#: The headers of a reused answer that differ per request, from the client's address, the
#: request's ``wall_ms`` and its market ``now_ms`` (e.g. Binance's used weight, KuCoin's quota:
#: they count every request).
ReuseHeaders: TypeAlias = Callable[[str, int, int], Headers]


@attrs.frozen(slots=True)
class Reuse:
    """A plugin's word that an answer holds for every identical request (same method, path and
    query string, no body) in the same market ``second`` while the model's ``generation`` is
    unchanged, so the runtime may send it again without asking; ``headers`` recomputes the
    headers that do differ per request (None: none do)."""

    second: int
    generation: int
    headers: ReuseHeaders | None = None


@attrs.frozen(slots=True)
class RestResponse:
    """An HTTP response: status, body bytes and extra headers; ``reuse`` when it may be reused."""

    status: int
    body: bytes
    headers: Headers = ()
    content_type: str = "application/json"
    reuse: Reuse | None = attrs.field(default=None, eq=False, repr=False)


def json_response(status: int, payload: object, headers: Iterable[tuple[str, str]] = ()) -> RestResponse:
    """A JSON response encoded with orjson."""
    return RestResponse(status, orjson.dumps(payload), tuple(headers))


RestHandler: TypeAlias = Callable[[RestRequest], RestResponse]


class FaultKind(enum.StrEnum):
    """What an injected REST fault stands for; the plugin gives each its exchange's native shape."""

    SERVER_ERROR = "server_error"  # an internal error at the configured error rate
    MAINTENANCE = "maintenance"  # the exchange is down for maintenance (every request)
    TIMEOUT = "timeout"  # the backend did not answer in time (after the request was held)


@attrs.frozen(slots=True)
class Subscription:
    """A kline stream as a connection subscribes to it.

    ``style`` is the plugin's own variant of the encoding (e.g. Binance raw vs combined envelope);
    subscriptions that are equal get byte-identical pushes, encoded once.
    """

    pair: str
    interval: Interval
    style: str = ""


Message: TypeAlias = str | bytes  # str goes out as a text frame, bytes as a binary frame


@attrs.frozen(slots=True)
class Send:
    """Send a message on this connection."""

    message: Message


@attrs.frozen(slots=True)
class Subscribe:
    """Start delivering a stream's pushes to this connection."""

    subscription: Subscription


@attrs.frozen(slots=True)
class Unsubscribe:
    """Stop delivering a stream's pushes to this connection."""

    subscription: Subscription


@attrs.frozen(slots=True)
class Close:
    """Close this connection with a WebSocket close code."""

    code: int
    reason: str = ""


Action: TypeAlias = Send | Subscribe | Unsubscribe | Close


@attrs.frozen(slots=True)
class Heartbeat:
    """Server-initiated protocol pings: every ``interval`` s, closing if no pong within ``timeout`` s."""

    interval: float
    timeout: float


class WsSession(abc.ABC):
    """The protocol state of one WebSocket connection, fed messages, returning actions.

    ``tick_period`` (seconds, or None) asks the runtime to call :meth:`on_tick` periodically, for
    server-sent application heartbeats and idle cut-offs. ``personalizes`` asks it to pass every push
    through :meth:`personalize` (e.g. per-connection sequence numbers); leave it False otherwise, so
    pushes go out as the shared encoded bytes.
    """

    tick_period: float | None = None
    personalizes: bool = False
    #: Monotonic milliseconds of the runtime, set before every call. Protocol timers (idle
    #: cut-offs, ping schedules) use this; market data uses ``now_ms``, which an accelerated or
    #: shifted market clock moves differently.
    wall_ms: int = 0
    #: Whether the exchange's WebSocket limits (messages per second, subscriptions per connection)
    #: are enforced: the ``rate_limits`` network condition, set by the runtime before every call.
    rate_limits: bool = False

    def on_open(self, now_ms: int) -> list[Action]:
        """Actions right after the handshake (welcome messages, streams named in the URL)."""
        return []

    @abc.abstractmethod
    def on_text(self, text: str, now_ms: int) -> list[Action]:
        """Actions in answer to one text message."""

    def on_binary(self, data: bytes, now_ms: int) -> list[Action]:
        """Actions in answer to one binary message (by default: treated as text)."""
        return self.on_text(data.decode("utf-8", "replace"), now_ms)

    def on_tick(self, now_ms: int) -> list[Action]:
        """Actions due every ``tick_period`` seconds (heartbeats, idle checks)."""
        return []

    def personalize(self, push: Message) -> Message:
        """This connection's copy of a shared push (only called when ``personalizes``)."""
        return push

    def farewell(self, now_ms: int) -> Message | None:
        """This connection's last message before a server shutdown, overriding the plugin's."""
        return None


@attrs.frozen(slots=True)
class WsReject:
    """Refuse a WebSocket handshake with an HTTP status and body."""

    status: int
    body: bytes = b""


class ExchangePlugin(abc.ABC):
    """A sans-IO exchange product: routes, WebSocket sessions and push encoding.

    Subclasses describe the exchange as data where they can (route tables, interval codes, limits)
    and implement only what truly differs.
    """

    exchange: ExchangeType
    heartbeat: Heartbeat | None = None
    #: Seconds after which the exchange closes every WebSocket (None: never); the ``ws_lifetime_s``
    #: network condition overrides it.
    ws_lifetime: float | None = None
    #: New WebSocket connections allowed per client IP: ``(count, window seconds)`` as the exchange
    #: documents it (None: no such limit). Enforced when the ``rate_limits`` condition is on; a
    #: handshake beyond gets :meth:`connection_refusal`.
    ws_connection_limit: tuple[int, float] | None = None

    def connection_refusal(self, retry_after_s: float) -> WsReject:
        """The answer to a handshake over :attr:`ws_connection_limit` (default: HTTP 429)."""
        return WsReject(429, b"Too many connection attempts; retry after %d s" % max(1, round(retry_after_s)))

    def __init__(self, model: MarketModel, pairs: Iterable[PairSpec]) -> None:
        self.model = model
        self.pairs = tuple(pairs)
        self.rest_url = ""
        self.ws_url = ""

    def set_endpoints(self, rest_url: str, ws_url: str) -> None:
        """Told by the runtime once both listeners are bound (e.g. for URLs handed to clients)."""
        self.rest_url = rest_url
        self.ws_url = ws_url

    @abc.abstractmethod
    def routes(self) -> Mapping[tuple[str, str], RestHandler]:
        """REST handlers keyed by (method, path); a path may hold ``{name}`` segments."""

    @abc.abstractmethod
    def not_found(self, request: RestRequest) -> RestResponse:
        """The answer for a path the exchange does not serve."""

    def method_not_allowed(self, request: RestRequest) -> RestResponse:
        """The answer for a known path asked with the wrong method (default: same as not found)."""
        return self.not_found(request)

    def internal_error(self, request: RestRequest) -> RestResponse:
        """The answer when a handler fails unexpectedly (no traceback ever reaches the wire)."""
        return json_response(500, {"error": "internal error"})

    def fault_response(self, kind: FaultKind, request: RestRequest) -> RestResponse:
        """The exchange's native answer for an injected fault of ``kind`` (see :class:`FaultKind`).

        The default is :meth:`internal_error`; plugins override it where the exchange's own shape
        differs, and fall back to it for kinds they do not know.
        """
        return self.internal_error(request)

    def reusable(self, request: RestRequest, headers: ReuseHeaders | None = None) -> Reuse:
        """The :class:`Reuse` of an answer that depends only on the request's method, path, query
        and market second, and on the model (e.g. a klines page)."""
        return Reuse(request.now_ms // 1000, self.model.generation, headers)

    def limit_request(self, request: RestRequest) -> RestResponse | None:
        """Count ``request`` against the exchange's rate limits (only called when they are enforced).

        Returns the exchange's native refusal when the request is over the limit, else None. The
        default enforces nothing; windows use ``request.wall_ms``.
        """
        return None

    def farewell(self, now_ms: int) -> str | None:
        """A message sent to every WebSocket before a server shutdown closes it, if the exchange has one."""
        return None

    @abc.abstractmethod
    def open_session(self, path: str, query: str) -> WsSession | WsReject:
        """A session for a new WebSocket connection on ``path?query``, or a refusal."""

    @abc.abstractmethod
    def push_period(self, subscription: Subscription) -> float:
        """Seconds between pushes of a forming candle."""

    @abc.abstractmethod
    def encode_push(self, subscription: Subscription, candle: Candle, event_ms: int) -> Message:
        """The push message for one candle state (encoded once, sent to every subscriber)."""
