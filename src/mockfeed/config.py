"""Server configuration: which exchanges, where, with which pairs and seed."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from mockfeed.exchanges.exchange_type import ExchangeType
from mockfeed.market import DEFAULT_PAIRS, PairSpec, pair_spec
from mockfeed.market.clock import check_speed, parse_time
from mockfeed.market.scenario import Scenario
from mockfeed.market.scenario_load import fits_config, to_scenario

if TYPE_CHECKING:
    from mockfeed.runtime.conditions import Conditions


def _exchanges(value: Iterable[ExchangeType | str] | ExchangeType | str) -> tuple[ExchangeType, ...]:
    if isinstance(value, str):
        value = [value]
    out = tuple(ExchangeType(v) for v in value)
    if not out:
        raise ValueError("at least one exchange is needed")
    if len(set(out)) != len(out):
        raise ValueError("an exchange is listed twice")
    return out


def _pairs(value: Iterable[PairSpec | str]) -> tuple[PairSpec, ...]:
    out = tuple(v if isinstance(v, PairSpec) else pair_spec(v) for v in value)
    if not out:
        raise ValueError("at least one pair is needed")
    if len({p.name for p in out}) != len(out):
        raise ValueError("a pair is listed twice")
    return out


def _port(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= 65535:
        raise ValueError(f"port {value} is outside 0..65535")
    return value


MAX_CONNECTION_CAP = 1_000_000


def _connection_cap(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONNECTION_CAP:
        raise ValueError(f"max_ws_connections must be an integer between 1 and {MAX_CONNECTION_CAP}, got {value!r}")
    return value


def _start(value: int | str | _dt.datetime | None) -> int | None:
    return None if value is None else parse_time(value)


def _by_exchange(value: Mapping[Any, Any], field: str, what: str) -> dict[ExchangeType, Mapping[Any, Any]]:
    """``value`` keyed by exchange, each entry a mapping (of ``what``); ValueError naming ``field``."""
    out: dict[ExchangeType, Mapping[Any, Any]] = {}
    for name, entry in value.items():
        try:
            exchange = ExchangeType(name)
        except ValueError:
            raise ValueError(f"{field}: unknown exchange {name!r}") from None
        if not isinstance(entry, Mapping):
            raise ValueError(f"{field}.{exchange}: expected a mapping of {what}")
        out[exchange] = entry
    return out


def _overrides(
    value: Mapping[ExchangeType | str, Mapping[str, Any]],
) -> dict[ExchangeType, dict[str, Any]]:
    checked = _by_exchange(value, "exchange_conditions", "condition keys")
    return {exchange: dict(change) for exchange, change in checked.items()}


def _route_overrides(
    value: Mapping[ExchangeType | str, Mapping[str, Mapping[str, Any]]],
) -> dict[ExchangeType, dict[str, dict[str, Any]]]:
    checked = _by_exchange(value, "route_conditions", "route paths")
    return {
        exchange: {path: dict(keys) if isinstance(keys, Mapping) else keys for path, keys in routes.items()}
        for exchange, routes in checked.items()
    }


def _token(value: str | None) -> str | None:
    return None if value is None else check_token(value)


def check_token(value: object) -> str:
    """A control token: a non-empty string of visible ASCII (it travels in an HTTP header)."""
    if not isinstance(value, str) or not value:
        raise ValueError("control_token must be a non-empty string")
    if not all("!" <= c <= "~" for c in value):
        raise ValueError("control_token may hold only visible ASCII characters (no spaces)")
    return value


@attrs.frozen
class ServerConfig:
    """What to serve.

    ``port``/``ws_port`` of None use each exchange's fixed default ports; 0 asks for ephemeral ports;
    any other value is the first exchange's port, the k-th exchange listening on ``port + 2k``
    (and ``ws_port + 2k``).

    Market time starts at ``start`` (epoch ms, an ISO 8601 string or a datetime; None: now) and runs
    ``speed`` times as fast as real time (0 freezes it; the server's ``advance``/``set_time`` still
    move it). It follows trio's clock, so under ``trio.testing.MockClock`` it is virtual too.
    ``control_port`` opens the HTTP control endpoint (0: an ephemeral port; None: no endpoint).

    ``latency_ms``, ``jitter_ms``, ``error_rate``, ``fault_seed``, ``loss``, ``loss_burst``,
    ``timeout_rate``, ``timeout_ms``, ``maintenance``, ``stall``, ``ws_lifetime_s``, ``rate_limits``,
    ``duplicate``, ``late`` and ``late_ms`` are every exchange's initial network conditions (see :class:`mockfeed.runtime.conditions.Conditions`
    and docs/faults.md); ``exchange_conditions`` maps an exchange to the condition keys it serves with
    instead (e.g. ``{"okx_spot": {"maintenance": True}}``; exchanges not served are ignored).

    ``route_conditions`` maps an exchange to per-route REST overrides, e.g.
    ``{"binance_spot": {"/api/v3/klines": {"error_rate": 0.5}}}`` (paths or globs; docs/faults.md).

    ``control_token``, when set, is the bearer token every control request must carry
    (``Authorization: Bearer TOKEN``; others get 401).

    ``max_ws_connections`` caps each exchange's open WebSockets (handshakes beyond it get HTTP 503).

    ``tls_cert`` (and ``tls_key`` unless the key is in the same PEM file) serve every listener over
    TLS: https and wss (see docs/reliability.md).

    ``scenario`` scripts market events: a :class:`~mockfeed.market.scenario.Scenario`, a list of its
    events, or the path of a TOML/JSON file (see docs/scenarios.md).
    """

    exchanges: tuple[ExchangeType, ...] = attrs.field(
        default=(ExchangeType.BINANCE_SPOT,), converter=_exchanges
    )
    host: str = "127.0.0.1"
    port: int | None = attrs.field(default=None, converter=_port)
    ws_port: int | None = attrs.field(default=None, converter=_port)
    seed: int = 0
    pairs: tuple[PairSpec, ...] = attrs.field(
        default=tuple(pair_spec(p) for p in DEFAULT_PAIRS), converter=_pairs
    )
    speed: float = attrs.field(default=1.0, converter=check_speed)
    start: int | None = attrs.field(default=None, converter=_start)
    control_port: int | None = attrs.field(default=None, converter=_port)
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    fault_seed: int = 0
    loss: float = 0.0
    loss_burst: int = 1
    timeout_rate: float = 0.0
    timeout_ms: float = 30_000.0
    maintenance: bool = False
    stall: bool = False
    ws_lifetime_s: float | None = None
    rate_limits: bool = False
    duplicate: float = 0.0
    late: float = 0.0
    late_ms: float = 1000.0
    tls_cert: str | None = None
    tls_key: str | None = None
    max_ws_connections: int = attrs.field(default=10_000, converter=_connection_cap)
    exchange_conditions: Mapping[ExchangeType, Mapping[str, Any]] = attrs.field(
        factory=dict, converter=_overrides, hash=False
    )
    control_token: str | None = attrs.field(default=None, converter=_token, repr=False)
    route_conditions: Mapping[ExchangeType, Mapping[str, Mapping[str, Any]]] = attrs.field(
        factory=dict, converter=_route_overrides, hash=False
    )
    scenario: Scenario | None = attrs.field(default=None, converter=to_scenario, validator=fits_config)

    def __attrs_post_init__(self) -> None:
        base = self.conditions()  # validates the condition fields (ValueError naming the field)
        for exchange, change in self.exchange_conditions.items():
            try:
                base.updated(change)
            except ValueError as refused:
                raise ValueError(f"exchange_conditions.{exchange}: {refused}") from None
        from mockfeed.runtime.conditions import check_routes  # runtime imports this module

        for exchange, routes in self.route_conditions.items():
            try:
                check_routes(routes)
            except ValueError as refused:
                raise ValueError(f"route_conditions.{exchange}: {refused}") from None
        if self.tls_key is not None and self.tls_cert is None:
            raise ValueError("tls_key needs tls_cert")
        if self.tls_cert is not None:
            from mockfeed.runtime.tls import TlsFiles

            TlsFiles(self.tls_cert, self.tls_key)  # unreadable or mismatched files: ValueError now

    def conditions(self) -> Conditions:
        """The initial network conditions of every exchange."""
        from mockfeed.runtime.conditions import KEYS, Conditions  # runtime imports this module

        return Conditions(**{key: getattr(self, key) for key in KEYS})

    def conditions_for(self, exchange: ExchangeType) -> Conditions:
        """The initial network conditions of one exchange: its overrides on top of :meth:`conditions`."""
        return self.conditions().updated(self.exchange_conditions.get(exchange, {}))

    def ports(self, exchange: ExchangeType) -> tuple[int, int]:
        """(REST port, WS port) for one of the configured exchanges."""
        k = self.exchanges.index(exchange)
        rest = exchange.default_rest_port if self.port is None else self.port and self.port + 2 * k
        ws = exchange.default_ws_port if self.ws_port is None else self.ws_port and self.ws_port + 2 * k
        return rest, ws
